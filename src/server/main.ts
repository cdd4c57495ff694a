// Entry point of the HTTP API: `ts-node src/server/main.ts` (or `startApiServer()` from the dev launcher).
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { configSourceFromEnv, type AgentConfigSource } from '../agent-config';
import { createDefaultToolRegistry } from '../activities';
import { connectHitlClient, type HitlClient } from '../client';
import { buildApi } from './app';
import { AuthConfigError, issueDevToken, loadAuthConfigFromEnv, type AuthConfig } from './auth';
import { CONSOLE_PATH, normalizeWebUiUrl } from './console';
import { DEV_SECRET_FILE, loadOrCreateDevSecret } from './dev-secret';

export const DEFAULT_API_PORT = 8787;
export const DEFAULT_API_HOST = '127.0.0.1';
export const DEFAULT_DEV_USER = 'u1';
export const DEV_TOKEN_TTL = '12h';

export interface StartApiServerOptions {
  /** Default: `connectHitlClient()` (Temporal connection from the environment). */
  client?: HitlClient;
  /** Default: from `HITL_JWT_SECRET` / `HITL_JWKS_URL` (see `loadAuthConfigFromEnv`). */
  auth?: AuthConfig;
  /** Default `HITL_API_PORT`, else 8787. */
  port?: number;
  /** Default `HITL_API_HOST`, else 127.0.0.1. */
  host?: string;
  /**
   * Development mode (default: `HITL_DEV=1`): without a configured key, a throwaway HS256 secret is
   * generated; with a secret (configured or generated), a token for `devUser` is issued and returned.
   */
  dev?: boolean;
  /** Subject of the dev token. Default `HITL_DEV_USER`, else "u1". */
  devUser?: string;
  /**
   * Dev mode without a configured key: keep the secret in this file (created when missing) instead of a
   * throwaway one, so tokens outlive a restart. `npm start` and `npm run api` use `.temporal/dev-jwt-secret`.
   */
  devSecretFile?: string;
  logger?: FastifyServerOptions['logger'];
  /** Base URL of the Temporal Web UI for the console's run links. Default `HITL_WEB_UI_URL`. */
  webUiUrl?: string;
  /** The agents; default: the configuration file from the environment (`HITL_CONFIG`). */
  agents?: AgentConfigSource;
  env?: NodeJS.ProcessEnv;
}

export interface ApiServer {
  app: FastifyInstance;
  url: string;
  /** A ready-to-use bearer token for the dev user (dev mode with an HS256 secret only). */
  devToken?: string;
  devUser?: string;
  /** Stops the server (open event streams are ended) and closes the Temporal connection if we opened it. */
  close(): Promise<void>;
}

/** A start-up failure whose message is meant for the user as is (one line, no stack trace). */
export class ApiStartError extends Error {
  override readonly name = 'ApiStartError';
}

function portFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ApiStartError(`HITL_API_PORT is not a port: ${value}`);
  }
  return port;
}

/** Where `startApiServer` listens by default: `HITL_API_HOST` / `HITL_API_PORT`, else 127.0.0.1:8787. */
export function apiListenAddress(env: NodeJS.ProcessEnv = process.env): { host: string; port: number } {
  return { host: env.HITL_API_HOST || DEFAULT_API_HOST, port: portFrom(env.HITL_API_PORT) ?? DEFAULT_API_PORT };
}

export async function startApiServer(options: StartApiServerOptions = {}): Promise<ApiServer> {
  const env = options.env ?? process.env;
  const dev = options.dev ?? env.HITL_DEV === '1';
  let auth = options.auth ?? loadAuthConfigFromEnv(env);
  if (auth === undefined) {
    if (!dev) {
      throw new AuthConfigError(
        'No token verification configured: set HITL_JWT_SECRET (HS256) or HITL_JWKS_URL, or HITL_DEV=1 for a throwaway dev secret',
      );
    }
    const secret =
      options.devSecretFile !== undefined
        ? loadOrCreateDevSecret(options.devSecretFile)
        : randomBytes(32).toString('base64url');
    auth = { kind: 'secret', secret };
  }
  const webUiUrl = options.webUiUrl ?? env.HITL_WEB_UI_URL;
  normalizeWebUiUrl(webUiUrl); // a bad URL fails before any connection is opened
  // A bad configuration file fails here too (ConfigError, one line), before any connection is opened.
  const agents =
    options.agents ??
    configSourceFromEnv({
      env,
      knownTools: new Set(
        createDefaultToolRegistry()
          .list()
          .map((tool) => tool.name),
      ),
    });
  const ownClient = options.client === undefined;
  const client = options.client ?? (await connectHitlClient({ env }));
  const app = buildApi({
    client,
    auth,
    logger: options.logger ?? { level: env.HITL_LOG_LEVEL ?? 'info' },
    agents,
    ...(webUiUrl !== undefined && webUiUrl !== '' ? { webUiUrl } : {}),
  });
  const port = options.port ?? apiListenAddress(env).port;
  const host = options.host ?? apiListenAddress(env).host;
  let url: string;
  try {
    url = await app.listen({ port, host });
  } catch (error) {
    await app.close();
    if (ownClient) await client.client.connection.close();
    if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
      throw new ApiStartError(`port ${port} on ${host} is in use — set HITL_API_PORT=<free port> to use another one`);
    }
    throw error;
  }
  const server: ApiServer = {
    app,
    url,
    async close() {
      await app.close();
      if (ownClient) await client.client.connection.close();
    },
  };
  if (dev && auth.kind === 'secret') {
    const devUser = options.devUser ?? env.HITL_DEV_USER ?? DEFAULT_DEV_USER;
    server.devUser = devUser;
    server.devToken = await issueDevToken(auth.secret, devUser, DEV_TOKEN_TTL, {
      ...(auth.issuer !== undefined ? { issuer: auth.issuer } : {}),
      ...(auth.audience !== undefined ? { audience: auth.audience } : {}),
    });
  }
  return server;
}

/**
 * The approver console's address; with a token, a link that signs the browser in (the token travels in
 * the URL fragment, which browsers never send to a server; the page moves it to sessionStorage).
 */
export function consoleUrl(baseUrl: string, token?: string): string {
  return `${baseUrl}${CONSOLE_PATH}${token ? `#token=${encodeURIComponent(token)}` : ''}`;
}

/** One line per fact for a terminal: where the API listens and, in dev mode, a token to call it with. */
export function describeApiServer(server: ApiServer): string {
  const lines = [
    `HTTP API             ${server.url}  (OpenAPI ${server.url}/openapi.json)`,
    `Approver console     ${consoleUrl(server.url, server.devToken)}`,
  ];
  if (server.devToken) {
    lines.push(
      `dev token for "${server.devUser}" (valid ${DEV_TOKEN_TTL}):`,
      `  export HITL_TOKEN=${server.devToken}`,
      `  curl -H "Authorization: Bearer $HITL_TOKEN" ${server.url}/runs`,
    );
  }
  return lines.join('\n');
}

/**
 * The API as an `npm start` surface (shape of `Surface` in src/dev/start.ts): dev mode, so a token for
 * the demo user is in the banner; uses HITL_JWT_SECRET when set, else a throwaway secret.
 */
export async function startApiSurface(
  options: Omit<StartApiServerOptions, 'dev'> = {},
): Promise<{ name: string; banner: string; env: Record<string, string>; stop(): Promise<void> }> {
  const env = options.env ?? process.env;
  // Request logs would drown the stack's terminal: warnings and errors only, unless HITL_LOG_LEVEL says otherwise.
  const logger = options.logger ?? { level: env.HITL_LOG_LEVEL ?? 'warn' };
  const server = await startApiServer({ devSecretFile: DEV_SECRET_FILE, ...options, logger, dev: true });
  return {
    name: 'HTTP API',
    banner: describeApiServer(server),
    env: { HITL_API_URL: server.url, ...(server.devToken ? { HITL_TOKEN: server.devToken } : {}) },
    stop: () => server.close(),
  };
}

async function main(): Promise<void> {
  const server = await startApiServer(process.env.HITL_DEV === '1' ? { devSecretFile: DEV_SECRET_FILE } : {});
  process.stdout.write(`${describeApiServer(server)}\n`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(signal === 'SIGINT' ? 130 : 143),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
