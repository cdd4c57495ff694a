// The console's public routes: the page, its script and stylesheet, its config; security headers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HitlClient } from '../../src/client';
import {
  buildApi,
  consoleDir,
  consoleUrl,
  describeApiServer,
  normalizeWebUiUrl,
  startApiServer,
  type ConsoleConfig,
} from '../../src/server';
import { getTestEnv } from '../hooks';

const SECRET = randomBytes(32).toString('base64url');

describe('HTTP API: approver console routes', function () {
  let client: HitlClient;
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    client = new HitlClient((await getTestEnv()).client, 'console-routes');
    app = buildApi({ client, auth: { kind: 'secret', secret: SECRET }, webUiUrl: 'http://127.0.0.1:8233/' });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app?.close();
  });

  it('serves the page, its module and stylesheet without a token, with strict headers', async () => {
    const page = await fetch(`${base}/console`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/console\/app\.js"><\/script>/);
    assert.match(html, /<link rel="stylesheet" href="\/console\/app\.css" \/>/);

    const js = await fetch(`${base}/console/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
    // app.js imports the elicitation form's module: same origin, same headers.
    assert.match(await js.text(), /from '\.\/elicitation-form\.mjs'/);
    const form = await fetch(`${base}/console/elicitation-form.mjs`);
    assert.equal(form.status, 200);
    assert.match(form.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(form.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await form.text(), /export function elicitationFormModel/);
    const css = await fetch(`${base}/console/app.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);

    const missing = await fetch(`${base}/console/nope.js`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { type: string }).type, 'NotFound');
  });

  it('config.json tells the page the Web UI and namespace; / and /console/ lead to the console', async () => {
    const res = await fetch(`${base}/console/config.json`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      webUiUrl: 'http://127.0.0.1:8233',
      namespace: client.client.options.namespace,
      apiVersion: '1.0.0',
    });
    for (const path of ['/', '/console/']) {
      const redirect = await fetch(`${base}${path}`, { redirect: 'manual' });
      assert.equal(redirect.status, 302, path);
      assert.equal(redirect.headers.get('location'), '/console');
    }
    const bare = buildApi({ client, auth: { kind: 'secret', secret: SECRET }, namespace: 'prod' });
    try {
      const config = await bare.inject({ method: 'GET', url: '/console/config.json' });
      assert.deepEqual(config.json(), { webUiUrl: null, namespace: 'prod', apiVersion: '1.0.0' });
    } finally {
      await bare.close();
    }
  });

  it('the Web UI URL must be http(s); startApiServer reads HITL_WEB_UI_URL and prints a console link', async () => {
    assert.equal(normalizeWebUiUrl(undefined), null);
    assert.equal(normalizeWebUiUrl(''), null);
    assert.equal(normalizeWebUiUrl('https://cloud.temporal.io/ui///'), 'https://cloud.temporal.io/ui');
    assert.throws(() => normalizeWebUiUrl('javascript:alert(1)'), /must be http/);
    assert.throws(() => normalizeWebUiUrl('not a url'), /not a URL/);
    assert.throws(() => buildApi({ client, auth: { kind: 'secret', secret: SECRET }, webUiUrl: 'ftp://x' }));

    const server = await startApiServer({
      client,
      dev: true,
      port: 0,
      logger: false,
      env: { HITL_WEB_UI_URL: 'http://127.0.0.1:9999' },
    });
    try {
      const config = (await (await fetch(`${server.url}/console/config.json`)).json()) as ConsoleConfig;
      assert.equal(config.webUiUrl, 'http://127.0.0.1:9999');
      const banner = describeApiServer(server);
      assert.ok(banner.includes(`Approver console     ${server.url}/console#token=${server.devToken}`), banner);
      assert.equal(consoleUrl('http://h:1'), 'http://h:1/console');
    } finally {
      await server.close();
    }
  });

  it('the page scripts never turn strings into HTML', async () => {
    for (const file of ['app.js', 'elicitation-form.mjs']) {
      const source = await readFile(join(consoleDir(), file), 'utf8');
      assert.doesNotMatch(
        source,
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|window\.open/,
        file,
      );
    }
  });
});
