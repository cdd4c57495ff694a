// Grants over HTTP against a real Temporal dev server: approve with a remembered scope through the API,
// list the caller's grants, revoke them; a caller only ever sees and revokes its own.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Grant, PendingAction, ResolveResult } from '../../src/contracts';
import { buildApi, issueDevToken, type ErrorBody } from '../../src/server';
import { call, eventually, scriptedInput, startHarness, type Harness } from '../workflow/harness';
import { request, type ApiResponse } from './client';

const SECRET = randomBytes(32).toString('base64url');

describe('HTTP API: grants (real server, real dev server)', function () {
  this.timeout(60_000);
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  // Users of their own: grants live in one entity workflow per user on the shared dev server.
  const user = `grants-${randomUUID()}`;
  const other = `grants-other-${randomUUID()}`;
  const tokens: Record<string, string> = {};

  const get = <T>(sub: string, path: string): Promise<ApiResponse<T>> =>
    request<T>(base, 'GET', path, { token: tokens[sub]! });
  const post = <T>(sub: string, path: string, body: unknown): Promise<ApiResponse<T>> =>
    request<T>(base, 'POST', path, { token: tokens[sub]!, body });

  /**
   * A run of `user` whose one call asks (started at the Temporal level, as an operator may: only the
   * approval matters here); through the API: approve it with `scope`, wait for the run to complete.
   */
  async function approveThroughApi(scope: 'session' | 'always', conversationId: string): Promise<string> {
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          { tool_calls: [call('call_1', 'append_file', { path: 'grants/api.txt', content: 'G' })] },
          { content: 'Done.' },
        ],
        { userId: user, conversationId },
      ),
    );
    const pending = await eventually(async () => {
      const res = await get<{ pendingAction: PendingAction | null }>(user, `/runs/${runId}/pending`);
      return res.body.pendingAction;
    }, 'the pending action');
    const resolved = await post<ResolveResult>(user, `/runs/${runId}/resolve`, {
      actionId: pending.actionId,
      decisions: [{ tool_call_id: 'call_1', decision: 'approve', scope }],
    });
    assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    return runId;
  }

  const grantsOf = async (sub: string): Promise<Grant[]> => {
    const res = await get<{ grants: Grant[] }>(sub, '/grants');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.grants;
  };

  before(async () => {
    h = await startHarness();
    app = buildApi({ client: h.client, auth: { kind: 'secret', secret: SECRET } });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    for (const sub of [user, other]) tokens[sub] = await issueDevToken(SECRET, sub, 600);
  });
  after(async () => {
    await app?.close();
    await h?.stop();
  });

  it('approve with scope "always" through the API, list, revoke, list empty; nobody else sees or revokes it', async () => {
    assert.deepEqual(await grantsOf(user), [], 'a user without an entity has no grants');
    const runId = await approveThroughApi('always', `conv-${randomUUID()}`);

    const [grant, ...rest] = await eventually(async () => {
      const grants = await grantsOf(user);
      return grants.length > 0 ? grants : undefined;
    }, 'the grant in GET /grants');
    assert.deepEqual(rest, []);
    assert.equal(grant?.tool, 'append_file');
    assert.equal(grant?.scope, 'always');
    assert.equal(grant?.conversationId, undefined);
    assert.equal(grant?.grantedBy, user);
    assert.equal(grant?.runId, runId);
    assert.ok(!Number.isNaN(Date.parse(grant?.grantedAt ?? '')));

    assert.deepEqual(await grantsOf(other), [], "another caller does not see the user's grants");
    const foreign = await post<{ revoked: number }>(other, '/grants/revoke', { tool: 'append_file', scope: 'always' });
    assert.equal(foreign.status, 200);
    assert.deepEqual(foreign.body, { revoked: 0 }, "another caller's revocation touches only its own grants");
    assert.equal((await grantsOf(user)).length, 1);

    const revoked = await post<{ revoked: number }>(user, '/grants/revoke', { tool: 'append_file', scope: 'always' });
    assert.equal(revoked.status, 200);
    assert.deepEqual(revoked.body, { revoked: 1 });
    assert.deepEqual(await grantsOf(user), []);
    const again = await post<{ revoked: number }>(user, '/grants/revoke', { tool: 'append_file', scope: 'always' });
    assert.deepEqual(again.body, { revoked: 0 }, 'revoking twice is harmless');
  });

  it('a session grant carries its conversation; revoking it names that conversation', async () => {
    const conversationId = `conv-${randomUUID()}`;
    await approveThroughApi('session', conversationId);
    const grant = await eventually(async () => (await grantsOf(user)).find((g) => g.scope === 'session'), 'the grant');
    assert.equal(grant.conversationId, conversationId);

    const missing = await post<ErrorBody>(user, '/grants/revoke', { tool: 'append_file', scope: 'session' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.type, 'InvalidGrant');
    assert.match(missing.body.error, /conversationId/);
    const elsewhere = await post<{ revoked: number }>(user, '/grants/revoke', {
      tool: 'append_file',
      scope: 'session',
      conversationId: 'another-conversation',
    });
    assert.deepEqual(elsewhere.body, { revoked: 0 });
    const revoked = await post<{ revoked: number }>(user, '/grants/revoke', {
      tool: 'append_file',
      scope: 'session',
      conversationId,
    });
    assert.deepEqual(revoked.body, { revoked: 1 });
    assert.deepEqual(await grantsOf(user), []);
  });

  it('malformed revocations are 400 InvalidGrant; no token is 401; an identity in the body is not a thing', async () => {
    const cases: [unknown, RegExp][] = [
      [{ tool: 'delete_*', scope: 'always' }, /wildcard/],
      [{ tool: 'append_file', scope: 'once' }, /scope/],
      [{ tool: 'append_file', scope: 'always', conversationId: 'c1' }, /conversationId/],
      [{ scope: 'always' }, /tool/],
    ];
    for (const [body, message] of cases) {
      const res = await post<ErrorBody>(user, '/grants/revoke', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.type, 'InvalidGrant');
      assert.match(res.body.error, message);
    }
    // Unknown fields (e.g. a userId) are stripped by the schema: the user is always the token subject.
    const sneaky = await post<{ revoked: number }>(other, '/grants/revoke', {
      tool: 'append_file',
      scope: 'always',
      userId: user,
    });
    assert.deepEqual(sneaky.body, { revoked: 0 });

    for (const [method, path] of [
      ['GET', '/grants'],
      ['POST', '/grants/revoke'],
    ] as const) {
      const res = await request<ErrorBody>(base, method, path, method === 'POST' ? { body: {} } : {});
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.body.type, 'Unauthorized');
    }
  });

  it('the OpenAPI document describes both routes with their schemas', async () => {
    const doc = await request<{
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; responses: object }>
      >;
    }>(base, 'GET', '/openapi.json');
    assert.ok(doc.body.paths['/grants']?.get);
    const revoke = doc.body.paths['/grants/revoke']?.post;
    assert.ok(revoke);
    const schema = revoke.requestBody!.content['application/json']!.schema as {
      properties: Record<string, unknown>;
      required: string[];
    };
    assert.deepEqual(Object.keys(schema.properties).sort(), ['conversationId', 'scope', 'tool']);
    assert.deepEqual([...schema.required].sort(), ['scope', 'tool']);
    assert.deepEqual(Object.keys(revoke.responses).sort(), ['200', '400', '401', '413', '503']);
  });
});
