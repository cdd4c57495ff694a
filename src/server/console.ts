// The approver console: a static page (HTML + ES modules + CSS, no bundler) served by the API.
// The files are public; the page calls the API with the user's bearer token (kept in sessionStorage).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ConsoleConfig } from './schemas';

/** Where the console is served. */
export const CONSOLE_PATH = '/console';

/**
 * The folder with index.html, its modules and app.css: next to this file (`npm run build` copies it to
 * dist/server/console); also found from a compiled lib/.
 */
export function consoleDir(): string {
  const candidates = [join(__dirname, 'console'), join(__dirname, '..', '..', '..', 'src', 'server', 'console')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]!;
}

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  /** The elicitation form's pure functions (imported by app.js; unit-tested on their own). */
  'elicitation-form.mjs': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * Strict by default: only our own script, style and API; no inline code, no framing, no referrer (the
 * token lives in the URL fragment only until the page moves it to sessionStorage, but still).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** `http(s)://host[:port][/path]` without a trailing slash, or null; anything else is refused. */
export function normalizeWebUiUrl(value: string | undefined): string | null {
  if (value === undefined || value.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(`The Temporal Web UI URL is not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`The Temporal Web UI URL must be http(s): ${value}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache');
}

export interface ConsoleRoutesOptions {
  config: ConsoleConfig;
}

/**
 * Public routes: `/console` (the page), `/console/app.js` and `/console/elicitation-form.mjs`, `/console/app.css`,
 * `/console/config.json`.
 */
export const consoleRoutes: FastifyPluginAsync<ConsoleRoutesOptions> = async (api, options) => {
  const dir = consoleDir();
  const publicRoute = { config: { auth: false }, schema: { hide: true } };

  api.get('/', publicRoute, async (_request, reply) => reply.redirect(CONSOLE_PATH));
  api.get(`${CONSOLE_PATH}/`, publicRoute, async (_request, reply) => reply.redirect(CONSOLE_PATH));

  api.get(CONSOLE_PATH, publicRoute, async (_request, reply) => {
    const html = await readFile(join(dir, 'index.html'), 'utf8');
    return securityHeaders(reply)
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-frame-options', 'DENY')
      .type('text/html; charset=utf-8')
      .send(html);
  });

  api.get(`${CONSOLE_PATH}/config.json`, publicRoute, async (_request, reply) =>
    securityHeaders(reply).type('application/json; charset=utf-8').send(options.config),
  );

  for (const [file, type] of Object.entries(ASSETS)) {
    api.get(`${CONSOLE_PATH}/${file}`, publicRoute, async (_request, reply) => {
      const body = await readFile(join(dir, file), 'utf8');
      return securityHeaders(reply).type(type).send(body);
    });
  }
};
