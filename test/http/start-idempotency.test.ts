// Idempotent `POST /runs` (header `Idempotency-Key`) and `HitlClient.startRun` / `startRunAndWait` with an
// `idempotencyKey`, against a real Temporal dev server: one run per (caller, key), whatever the retries.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { IdempotencyKeyReusedError, InvalidRunInputError } from '../../src/client';
import { buildApi, issueDevToken, type ErrorBody } from '../../src/server';
import { call, eventually, readSandboxFile, startHarness, type Harness } from '../workflow/harness';
import { agentsFromConfig, request, type ApiResponse } from './client';

const SECRET = randomBytes(32).toString('base64url');

const CONFIG = {
  toolApproval: { enabled: true, mode: 'default' },
  agents: [
    {
      // One allowed tool call with a visible side effect: each run appends one "A".
      id: 'appender',
      model: {
        provider: 'scripted',
        script: [
          { tool_calls: [call('a1', 'append_file', { path: 'idem.txt', content: 'A' })] },
          { content: 'appended' },
        ],
      },
      tools: ['append_file'],
      toolApproval: { allow: ['append_file'] },
      users: ['*'],
    },
    {
      // Asks before its one tool call: a run that pauses.
      id: 'asker',
      model: {
        provider: 'scripted',
        script: [{ tool_calls: [call('a1', 'append_file', { path: 'asked.txt', content: 'Q' })] }, { content: 'done' }],
      },
      tools: ['append_file'],
      users: ['*'],
    },
  ],
};

interface OpenApiOperation {
  parameters?: { in: string; name: string; required?: boolean; schema?: { pattern?: string } }[];
  responses: Record<string, unknown>;
}

describe('HTTP API: Idempotency-Key on POST /runs (real server, real dev server)', function () {
  this.timeout(60_000);
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  const tokens: Record<string, string> = {};

  /** A user of its own for one test: its runs in visibility and its sandbox folder are its alone. */
  const freshUser = async (prefix: string): Promise<string> => {
    const sub = `${prefix}-${randomUUID().slice(0, 8)}`;
    tokens[sub] = await issueDevToken(SECRET, sub, 600);
    return sub;
  };
  const startRequest = (agentId = 'appender') => ({
    agentId,
    conversationId: `conv-${randomUUID()}`,
    messages: [{ role: 'user', content: 'append' }],
  });
  const post = <T = { runId: string }>(sub: string, body: unknown, key?: string): Promise<ApiResponse<T>> =>
    request<T>(base, 'POST', '/runs', {
      token: tokens[sub]!,
      body,
      ...(key !== undefined ? { headers: { 'Idempotency-Key': key } } : {}),
    });
  const freshKey = () => `key-${randomUUID()}`;

  /** Every generation run of `userId` in visibility, once `expected` are all there (then any extra too). */
  async function runsOf(userId: string, expected: string[]): Promise<string[]> {
    return eventually(
      async () => {
        const ids: string[] = [];
        for await (const execution of h.env.client.workflow.list({ query: `HitlUserId = "${userId}"` })) {
          ids.push(execution.workflowId);
        }
        return expected.every((id) => ids.includes(id)) ? ids.sort() : undefined;
      },
      `runs ${expected.join(', ')} of ${userId} in visibility`,
    );
  }

  function assertStarted(res: ApiResponse<{ runId: string }>, status: 200 | 201): void {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.headers.get('location'), `/runs/${res.body.runId}`);
    assert.equal(res.headers.get('idempotent-replayed'), status === 200 ? 'true' : null);
  }

  before(async () => {
    const agents = agentsFromConfig(CONFIG);
    h = await startHarness({ agents });
    app = buildApi({ client: h.client, auth: { kind: 'secret', secret: SECRET }, agents });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app?.close();
    await h?.stop();
  });

  it('the same key and body twice: 201, then 200 with the same runId; one run, the tool ran once', async () => {
    const user = await freshUser('twice');
    const key = freshKey();
    const body = startRequest();
    const first = await post(user, body, key);
    assertStarted(first, 201);
    const second = await post(user, body, key);
    assertStarted(second, 200);
    assert.equal(second.body.runId, first.body.runId);
    assert.match(first.body.runId, /^run-[0-9a-f]{64}$/, 'run- + SHA-256 of the caller and the key');

    const result = await h.client.result(first.body.runId);
    assert.equal(result.status, 'completed');
    assert.deepEqual(await runsOf(user, [first.body.runId]), [first.body.runId], 'one run in visibility');
    assert.equal(await readSandboxFile(h.sandboxDir, 'idem.txt', user), 'A', 'the tool ran once');
  });

  it('the same key with another body: 409 IdempotencyKeyReused naming the existing run; nothing new starts', async () => {
    const user = await freshUser('reused');
    const key = freshKey();
    const body = startRequest();
    const first = await post(user, body, key);
    assertStarted(first, 201);
    const runId = first.body.runId;

    const variants = [
      { ...body, conversationId: `conv-${randomUUID()}` },
      { ...body, messages: [{ role: 'user', content: 'append twice' }] },
      { ...body, tighten: { deny: ['append_*'] } },
      { ...body, agentId: 'asker' },
    ];
    for (const variant of variants) {
      const res = await post<ErrorBody>(user, variant, key);
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.equal(res.body.type, 'IdempotencyKeyReused');
      assert.deepEqual(res.body.details, { runId });
      assert.match(res.body.error, new RegExp(runId));
    }
    // The original body is still a retry of the first request.
    assertStarted(await post(user, body, key), 200);

    await h.client.result(runId);
    assert.deepEqual(await runsOf(user, [runId]), [runId]);
    assert.equal(await readSandboxFile(h.sandboxDir, 'idem.txt', user), 'A');
  });

  it('keys are per caller: two users with the same key and body get two runs', async () => {
    const [alice, bob] = [await freshUser('alice'), await freshUser('bob')];
    const key = freshKey();
    const body = startRequest();
    const a = await post(alice, body, key);
    const b = await post(bob, body, key);
    assertStarted(a, 201);
    assertStarted(b, 201);
    assert.notEqual(a.body.runId, b.body.runId);
    for (const [user, runId] of [
      [alice, a.body.runId],
      [bob, b.body.runId],
    ] as const) {
      assert.equal((await h.client.result(runId)).status, 'completed');
      assert.deepEqual(await runsOf(user, [runId]), [runId]);
      assert.equal(await readSandboxFile(h.sandboxDir, 'idem.txt', user), 'A');
    }
    // Each one's retry finds its own run.
    assert.equal((await post(alice, body, key)).body.runId, a.body.runId);
    assert.equal((await post(bob, body, key)).body.runId, b.body.runId);
  });

  it('ten concurrent requests with one key: one run (one 201, nine 200), every answer names it', async () => {
    const user = await freshUser('burst');
    const key = freshKey();
    const body = startRequest();
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(user, body, key)));
    const runIds = new Set(answers.map((res) => res.body.runId));
    assert.equal(runIds.size, 1, JSON.stringify(answers.map((res) => [res.status, res.body])));
    assert.deepEqual(answers.map((res) => res.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    for (const res of answers) assertStarted(res, res.status as 200 | 201);
    const [runId] = [...runIds] as [string];
    await h.client.result(runId);
    assert.deepEqual(await runsOf(user, [runId]), [runId]);
    assert.equal(await readSandboxFile(h.sandboxDir, 'idem.txt', user), 'A', 'the tool ran once');
  });

  it('a retry after the run completed is still that run (200), not a new one', async () => {
    const user = await freshUser('late');
    const key = freshKey();
    const body = startRequest();
    const first = await post(user, body, key);
    assertStarted(first, 201);
    const runId = first.body.runId;
    assert.equal((await h.client.result(runId)).status, 'completed');
    const closed = await h.env.client.workflow.getHandle(runId).describe();
    assert.equal(closed.status.name, 'COMPLETED');

    const retry = await post(user, body, key);
    assertStarted(retry, 200);
    assert.equal(retry.body.runId, runId);
    const other = await post<ErrorBody>(user, { ...body, conversationId: 'another' }, key);
    assert.equal(other.status, 409);
    assert.deepEqual(other.body.details, { runId });
    assert.deepEqual(await runsOf(user, [runId]), [runId]);
    const after = await h.env.client.workflow.getHandle(runId).describe();
    assert.equal(after.runId, closed.runId, 'no new execution of the run id');
    assert.equal(await readSandboxFile(h.sandboxDir, 'idem.txt', user), 'A');
  });

  it('without the header nothing changes (two requests, two runs); a malformed key is 400 and starts nothing', async () => {
    const user = await freshUser('plain');
    const body = startRequest();
    const first = await post(user, body);
    const second = await post(user, body);
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), null);
    assert.notEqual(first.body.runId, second.body.runId);
    assert.match(first.body.runId, /^run-[0-9a-f-]{36}$/, 'a fresh run-<uuid>');
    for (const runId of [first.body.runId, second.body.runId]) await h.client.result(runId);
    assert.equal(await readSandboxFile(h.sandboxDir, 'idem.txt', user), 'AA');

    for (const bad of ['has spaces', 'x'.repeat(201), 'tab\there']) {
      const res = await post<ErrorBody>(user, body, bad);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.type, 'InvalidRequest');
      assert.match(res.body.error, /Idempotency-Key/);
    }
    assert.deepEqual(
      await runsOf(user, [first.body.runId, second.body.runId]),
      [first.body.runId, second.body.runId].sort(),
    );
  });

  it('the OpenAPI document lists the Idempotency-Key header and the 200 / 201 / 409 answers of POST /runs', async () => {
    const res = await request<{ paths: Record<string, Record<string, OpenApiOperation>> }>(
      base,
      'GET',
      '/openapi.json',
    );
    assert.equal(res.status, 200);
    const start = res.body.paths['/runs']!.post!;
    const header = start.parameters?.find((p) => p.in === 'header' && p.name === 'idempotency-key');
    assert.ok(header, JSON.stringify(start.parameters));
    assert.notEqual(header.required, true);
    assert.ok(start.responses['200'] && start.responses['201'] && start.responses['409']);
    // The same syntax as the header of /resolve.
    const resolve = res.body.paths['/runs/{runId}/resolve']!.post!;
    const resolveHeader = resolve.parameters?.find((p) => p.in === 'header' && p.name === 'idempotency-key');
    assert.deepEqual(header.schema?.pattern, resolveHeader?.schema?.pattern);
  });

  describe('HitlClient with idempotencyKey (what the route uses)', () => {
    const input = (userId: string, conversationId = 'c-client') => ({
      userId,
      conversationId,
      agentId: 'asker',
      messages: [{ role: 'user' as const, content: 'ask me' }],
    });

    it('startRunAndWait: a retry waits on the same run and sees its pause; another input throws IdempotencyKeyReusedError', async () => {
      const user = await freshUser('client');
      const key = freshKey();
      const first = await h.client.startRunAndWait(input(user), { idempotencyKey: key, timeoutMs: 20_000 });
      assert.equal(first.created, true);
      assert.equal(first.status, 'requires_action');
      assert.ok(first.pendingAction);
      const retry = await h.client.startRunAndWait(input(user), { idempotencyKey: key, timeoutMs: 20_000 });
      assert.equal(retry.created, false);
      assert.equal(retry.runId, first.runId);
      assert.equal(retry.pendingAction?.actionId, first.pendingAction.actionId);
      // startRun derives the same id from the same user and key.
      assert.deepEqual(await h.client.startRun(input(user), { idempotencyKey: key }), {
        runId: first.runId,
        created: false,
      });

      await assert.rejects(
        h.client.startRunAndWait(input(user, 'another'), { idempotencyKey: key }),
        (error: unknown) => error instanceof IdempotencyKeyReusedError && error.runId === first.runId,
      );
      await assert.rejects(
        h.client.startRun(input(user, 'another'), { idempotencyKey: key }),
        IdempotencyKeyReusedError,
      );
      await assert.rejects(
        h.client.startRun(input(user), { idempotencyKey: key, runId: 'run-mine' }),
        InvalidRunInputError,
      );
      await assert.rejects(h.client.startRun(input(user), { idempotencyKey: 'with space' }), InvalidRunInputError);

      await h.client.abort(first.runId);
      assert.equal((await h.client.result(first.runId)).status, 'aborted');
      // After the run closed: still that run, answered with the status it ended in.
      const closed = await h.client.startRunAndWait(input(user), { idempotencyKey: key, timeoutMs: 5_000 });
      assert.deepEqual(closed, { runId: first.runId, created: false, status: 'aborted', pendingAction: null });
      assert.equal(await readSandboxFile(h.sandboxDir, 'asked.txt', user), undefined, 'never approved, never ran');
      assert.deepEqual(await runsOf(user, [first.runId]), [first.runId]);
    });
  });
});
