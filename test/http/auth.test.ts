// Bearer token verification: HS256 secret, JWKS URL (a local key server), claims, env config.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import {
  AuthConfigError,
  AuthError,
  bearerToken,
  createAuthenticator,
  issueDevToken,
  loadAuthConfigFromEnv,
} from '../../src/server/auth';

type Jose = typeof JoseModule;
type PrivateKey = Awaited<ReturnType<Jose['generateKeyPair']>>['privateKey'];

const SECRET = 'test-secret-that-is-long-enough-0123456789';

async function rejectsWith(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof AuthError && message.test(error.message));
}

describe('auth', () => {
  let jose: Jose;
  before(async () => {
    jose = await import('jose');
  });

  describe('HS256 secret', () => {
    const authenticate = createAuthenticator({ kind: 'secret', secret: SECRET });

    it('accepts a dev token and returns its subject and its claims', async () => {
      const alice = await authenticate(await issueDevToken(SECRET, 'alice', 60));
      assert.equal(alice.sub, 'alice');
      assert.deepEqual(Object.keys(alice.claims).sort(), ['exp', 'iat', 'sub']);
      assert.equal(alice.claims.sub, 'alice');
      assert.equal((await authenticate(await issueDevToken(SECRET, 'bob', '2h'))).sub, 'bob');
    });

    it('dev tokens carry extra claims (for claim rules); they cannot replace the subject', async () => {
      const identity = await authenticate(
        await issueDevToken(SECRET, 'alice', 60, {
          claims: { role: 'approver', groups: ['ops', 'sre'], sub: 'mallory' },
        }),
      );
      assert.equal(identity.sub, 'alice');
      assert.equal(identity.claims.sub, 'alice');
      assert.equal(identity.claims.role, 'approver');
      assert.deepEqual(identity.claims.groups, ['ops', 'sre']);
    });

    it('refuses expired, wrongly signed, unsigned, subject-less and never-expiring tokens', async () => {
      await rejectsWith(authenticate(await issueDevToken(SECRET, 'alice', -60)), /expired/);
      await rejectsWith(authenticate(await issueDevToken(`${SECRET}-other`, 'alice', 60)), /signature/);
      await rejectsWith(
        authenticate(new jose.UnsecuredJWT({ sub: 'alice' }).setExpirationTime('1h').encode()),
        /algorithm|malformed/,
      );
      const key = new TextEncoder().encode(SECRET);
      const noSub = await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key);
      await rejectsWith(authenticate(noSub), /sub/);
      const noExp = await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(key);
      await rejectsWith(authenticate(noExp), /exp/);
      const hs512 = await new jose.SignJWT({})
        .setProtectedHeader({ alg: 'HS512' })
        .setSubject('alice')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(SECRET.repeat(2)));
      await rejectsWith(authenticate(hs512), /algorithm/);
      await rejectsWith(authenticate('garbage'), /malformed/);
    });

    it('checks issuer and audience when configured', async () => {
      const strict = createAuthenticator({ kind: 'secret', secret: SECRET, issuer: 'https://idp', audience: 'hitl' });
      await rejectsWith(strict(await issueDevToken(SECRET, 'alice', 60)), /refused/);
      await rejectsWith(
        strict(await issueDevToken(SECRET, 'alice', 60, { issuer: 'https://idp', audience: 'other' })),
        /aud/,
      );
      const identity = await strict(
        await issueDevToken(SECRET, 'alice', 60, { issuer: 'https://idp', audience: 'hitl' }),
      );
      assert.equal(identity.sub, 'alice');
      assert.equal(identity.claims.iss, 'https://idp');
      assert.equal(identity.claims.aud, 'hitl');
    });
  });

  describe('JWKS URL', () => {
    let server: Server;
    let jwksUrl: string;
    let privateKey: PrivateKey;
    let fetches = 0;

    before(async () => {
      const pair = await jose.generateKeyPair('ES256');
      privateKey = pair.privateKey;
      const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      server = createServer((_req, res) => {
        fetches += 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const sign = (key: PrivateKey, kid: string, sub = 'carol', claims: Record<string, unknown> = {}) =>
      new jose.SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid })
        .setSubject(sub)
        .setExpirationTime('5m')
        .sign(key);

    it('verifies tokens signed by a key of the set (fetched once, then cached), with their claims', async () => {
      const authenticate = createAuthenticator({ kind: 'jwks', jwksUrl });
      const carol = await authenticate(await sign(privateKey, 'k1', 'carol', { role: 'approver' }));
      assert.equal(carol.sub, 'carol');
      assert.equal(carol.claims.role, 'approver');
      assert.equal((await authenticate(await sign(privateKey, 'k1', 'dave'))).sub, 'dave');
      assert.equal(fetches, 1);
    });

    it('refuses a foreign key and an HS256 token (no algorithm confusion)', async () => {
      const authenticate = createAuthenticator({ kind: 'jwks', jwksUrl });
      const other = await jose.generateKeyPair('ES256');
      await rejectsWith(authenticate(await sign(other.privateKey, 'k1')), /signature/);
      await rejectsWith(authenticate(await sign(other.privateKey, 'k2')), /No key of the JWKS/);
      await rejectsWith(authenticate(await issueDevToken(SECRET, 'carol', 60)), /algorithm/);
    });
  });

  describe('configuration', () => {
    it('from the environment: secret, JWKS URL, issuer and audience; errors for bad combinations', () => {
      assert.equal(loadAuthConfigFromEnv({}), undefined);
      assert.equal(loadAuthConfigFromEnv({ HITL_JWT_SECRET: '' }), undefined);
      assert.deepEqual(loadAuthConfigFromEnv({ HITL_JWT_SECRET: SECRET, HITL_JWT_AUDIENCE: 'hitl' }), {
        kind: 'secret',
        secret: SECRET,
        audience: 'hitl',
      });
      assert.deepEqual(
        loadAuthConfigFromEnv({
          HITL_JWKS_URL: 'https://idp.example/jwks.json',
          HITL_JWT_ISSUER: 'https://idp.example',
          HITL_JWT_AUDIENCE: 'hitl',
        }),
        { kind: 'jwks', jwksUrl: 'https://idp.example/jwks.json', issuer: 'https://idp.example', audience: 'hitl' },
      );
      const throwsConfig = (env: NodeJS.ProcessEnv, message: RegExp) =>
        assert.throws(
          () => loadAuthConfigFromEnv(env),
          (e: unknown) => e instanceof AuthConfigError && message.test(e.message),
        );
      throwsConfig({ HITL_JWT_SECRET: SECRET, HITL_JWKS_URL: 'https://x/jwks' }, /not both/);
      throwsConfig({ HITL_JWT_SECRET: 'short' }, /at least 32/);
      throwsConfig({ HITL_JWKS_URL: 'not a url' }, /not a URL/);
      throwsConfig({ HITL_JWKS_URL: 'file:///etc/keys', HITL_JWT_AUDIENCE: 'hitl' }, /http/);
      // Found by a trust review: a shared identity provider's tokens for other applications were accepted.
      throwsConfig({ HITL_JWKS_URL: 'https://idp.example/jwks.json' }, /HITL_JWT_AUDIENCE/);
      // Keys fetched over plain http from another host could be swapped on the way.
      throwsConfig({ HITL_JWKS_URL: 'http://idp.example/jwks.json', HITL_JWT_AUDIENCE: 'hitl' }, /https/);
      assert.equal(
        loadAuthConfigFromEnv({ HITL_JWKS_URL: 'http://127.0.0.1:8080/jwks.json', HITL_JWT_AUDIENCE: 'hitl' })?.kind,
        'jwks',
      );
    });

    it('bearerToken reads only "Bearer <token>"', () => {
      assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
      assert.equal(bearerToken('bearer abc.def.ghi'), 'abc.def.ghi');
      assert.equal(bearerToken('Basic dTE6cHc='), undefined);
      assert.equal(bearerToken('Bearer'), undefined);
      assert.equal(bearerToken('Bearer a b'), undefined);
      assert.equal(bearerToken(undefined), undefined);
    });
  });
});
