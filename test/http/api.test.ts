// The HTTP API against a real Temporal dev server: Fastify listening on 127.0.0.1:0, real fetch.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { SqliteContentStore, sharedContentStore } from '../../src/content-store';
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HitlClient, type Readiness } from '../../src/client';
import type {
  InlineRunInput,
  PendingAction,
  ResolveResult,
  MessagesPage,
  RunState,
  RunStatus,
  ToolMessage,
} from '../../src/contracts';
import {
  AuthConfigError,
  buildApi,
  describeApiServer,
  issueDevToken,
  startApiServer,
  type ErrorBody,
  type ReadinessResponse,
  type RunSummaryDto,
  type RunView,
} from '../../src/server';
import { call, eventually, readSandboxFile, scriptedInput, startHarness, type Harness } from '../workflow/harness';
import { agentsFromConfig, openSse, request, type ApiResponse, type RequestOptions, type SseEvent } from './client';

/** Counts state queries, to see that an SSE stream stops polling when its client goes away. */
class CountingClient extends HitlClient {
  stateQueries = 0;
  readinessChecks = 0;
  override async checkReadiness(timeoutMs?: number): Promise<Readiness> {
    this.readinessChecks += 1;
    return super.checkReadiness(timeoutMs);
  }
  override async getRunState(runId: string): Promise<RunState> {
    this.stateQueries += 1;
    return super.getRunState(runId);
  }
}

const SECRET = randomBytes(32).toString('base64url');

/**
 * The agents `POST /runs` starts (operator configuration). Runs that only need to be read, resolved,
 * streamed or aborted are started at the Temporal level with inline input, as an operator may.
 */
const AGENTS = {
  toolApproval: { enabled: true, mode: 'default' },
  agents: [
    {
      id: 'agent-http',
      model: {
        provider: 'scripted',
        script: [
          {
            content: 'Appending.',
            tool_calls: [call('call_1', 'append_file', { path: 'http/full.txt', content: 'F' })],
          },
          { content: 'All done.' },
        ],
      },
      tools: ['append_file'],
      users: ['*'],
    },
    { id: 'chat', model: { provider: 'scripted', script: [{ content: 'hi' }] }, users: ['*'] },
  ],
};

describe('HTTP API (real server, real dev server)', function () {
  this.timeout(60_000);
  let h: Harness;
  let client: CountingClient;
  let app: FastifyInstance;
  let base: string;
  const tokens: Record<string, string> = {};

  const api = <T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> =>
    request<T>(base, method, path, options);
  const as = (sub: string) => ({
    get: <T>(path: string) => api<T>('GET', path, { token: tokens[sub]! }),
    post: <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
      api<T>('POST', path, { token: tokens[sub]!, body: body ?? {}, ...(headers ? { headers } : {}) }),
  });

  /** Waits through the API for the first pending action of a run `owner` may read. */
  async function pendingOf(owner: string, runId: string): Promise<PendingAction> {
    return eventually(async () => {
      const res = await as(owner).get<{ pendingAction: PendingAction | null }>(`/runs/${runId}/pending`);
      return res.body.pendingAction;
    }, `a pending action on ${runId}`);
  }

  /**
   * Starts an inline run of `owner` at the Temporal level (operators may; `POST /runs` only starts
   * agents) and waits through the API for its first pending action.
   */
  async function startPaused(
    owner: string,
    input: Omit<InlineRunInput, 'userId'>,
  ): Promise<{ runId: string; pending: PendingAction }> {
    const runId = await startInline(owner, input);
    return { runId, pending: await pendingOf(owner, runId) };
  }

  /** Starts an inline run of `owner` at the Temporal level. */
  async function startInline(owner: string, input: Omit<InlineRunInput, 'userId'>): Promise<string> {
    return (await h.client.startRun({ ...input, userId: owner })).runId;
  }

  function input(
    script: Parameters<typeof scriptedInput>[0],
    overrides: Partial<InlineRunInput> = {},
  ): Omit<InlineRunInput, 'userId'> {
    const { userId: _owner, ...rest } = scriptedInput(script, overrides);
    return rest;
  }

  const approveBody = (pending: PendingAction, id = 'call_1') => ({
    actionId: pending.actionId,
    decisions: [{ tool_call_id: id, decision: 'approve' }],
  });

  async function waitForStatus(runId: string, status: RunStatus): Promise<RunState> {
    return eventually(async () => {
      const state = await h.client.getRunState(runId);
      return state.status === status ? state : undefined;
    }, `run ${runId} to be ${status}`);
  }

  before(async () => {
    const agents = agentsFromConfig(AGENTS);
    h = await startHarness({ agents });
    client = new CountingClient(h.env.client, h.client.taskQueue, () => sharedContentStore());
    app = buildApi({
      client,
      auth: { kind: 'secret', secret: SECRET },
      startRunBodyLimit: 2 * 1024 * 1024,
      events: { pollIntervalMs: 100, heartbeatMs: 150 },
      agents,
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    for (const sub of ['u1', 'boss', 'mallory', 'u2']) tokens[sub] = await issueDevToken(SECRET, sub, 600);
  });
  after(async () => {
    await app?.close();
    await h?.stop();
  });

  describe('liveness and readiness', () => {
    it('GET /readyz (no token): 200 while Temporal and the content store answer', async () => {
      assert.equal((await api('GET', '/healthz')).status, 200);
      const res = await api<ReadinessResponse>('GET', '/readyz');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { ready: true, checks: { temporal: 'ok', contentStore: 'ok' } });
    });

    it('GET /readyz: many callers at once share one check (the route is public; it must not fan out)', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1100)); // past the previous answer's reuse
      const before = client.readinessChecks;
      const answers = await Promise.all(Array.from({ length: 20 }, () => api<ReadinessResponse>('GET', '/readyz')));
      assert.ok(answers.every((res) => res.status === 200));
      // One check (two if a slow machine spread the requests over the reuse window), not one per caller.
      const checks = client.readinessChecks - before;
      assert.ok(checks >= 1 && checks <= 2, `${checks} checks for 20 callers`);
    });

    it('GET /readyz: 503 naming what does not answer (Temporal hung), without the error; /healthz stays 200', async () => {
      // A "server" that accepts connections and never answers: every call runs into its deadline (a refused
      // port would be retried by the SDK in the background instead).
      const sockets = new Set<Socket>();
      const hung = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
      const { port } = hung.address() as AddressInfo;
      const dead = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${port}` }) });
      const unreachable = buildApi({
        client: new HitlClient(dead, h.client.taskQueue, () => sharedContentStore()),
        auth: { kind: 'secret', secret: SECRET },
        readinessTimeoutMs: 1000,
      });
      try {
        const url = await unreachable.listen({ port: 0, host: '127.0.0.1' });
        const res = await request<ReadinessResponse>(url, 'GET', '/readyz');
        assert.equal(res.status, 503);
        assert.deepEqual(res.body, { ready: false, checks: { temporal: 'unavailable', contentStore: 'ok' } });
        assert.equal((await request(url, 'GET', '/healthz')).status, 200);
      } finally {
        await unreachable.close();
        await dead.connection.close();
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => hung.close(resolve));
      }
    });

    it('checkReadiness: a closed content store fails its check with the reason; no store, no check', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'hitl-ready-'));
      const closed = new SqliteContentStore({ path: path.join(dir, 'content.db') });
      await closed.close();
      try {
        const found = await new HitlClient(h.env.client, h.client.taskQueue, closed).checkReadiness(1000);
        assert.deepEqual(found.temporal, { ok: true });
        const store = found.contentStore;
        assert.ok(store && !store.ok, 'the closed store fails its check');
        assert.match(store.error, /closed/i);
        assert.deepEqual(await new HitlClient(h.env.client, h.client.taskQueue).checkReadiness(1000), {
          temporal: { ok: true },
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('authentication', () => {
    it('401 without a token, with a malformed header, an expired token, a wrongly signed token', async () => {
      const expired = await issueDevToken(SECRET, 'u1', -120);
      const wrongKey = await issueDevToken(randomBytes(32).toString('base64url'), 'u1', 600);
      const cases: [string, RequestOptions, RegExp][] = [
        ['no token', {}, /bearer token is required/],
        ['basic auth', { headers: { authorization: 'Basic dTE6cHc=' } }, /not "Bearer <token>"/],
        ['garbage', { token: 'not.a.jwt' }, /malformed/],
        ['expired', { token: expired }, /expired/],
        ['wrong key', { token: wrongKey }, /signature is invalid/],
      ];
      for (const [what, options, message] of cases) {
        for (const [method, path] of [
          ['GET', '/agents'],
          ['GET', '/runs'],
          ['POST', '/runs'],
          ['GET', '/runs/x'],
          ['GET', '/runs/x/pending'],
          ['POST', '/runs/x/resolve'],
          ['POST', '/runs/x/abort'],
          ['GET', '/runs/x/events'],
        ] as const) {
          const res = await api<ErrorBody>(method, path, { ...options, ...(method === 'POST' ? { body: {} } : {}) });
          assert.equal(res.status, 401, `${what}: ${method} ${path}`);
          assert.equal(res.body.type, 'Unauthorized');
          assert.match(res.body.error, message, what);
          assert.deepEqual(res.body.details, {});
          assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="hitl"/);
        }
      }
    });

    it('serves the OpenAPI document without a token, generated from the zod schemas', async () => {
      const res = await api<{
        openapi: string;
        paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
        components: { securitySchemes: Record<string, unknown> };
      }>('GET', '/openapi.json');
      assert.equal(res.status, 200);
      assert.match(res.body.openapi, /^3\.1/);
      assert.deepEqual(Object.keys(res.body.paths).sort(), [
        '/agents',
        '/grants',
        '/grants/revoke',
        '/runs',
        '/runs/{runId}',
        '/runs/{runId}/abort',
        '/runs/{runId}/content/{ref}',
        '/runs/{runId}/events',
        '/runs/{runId}/messages',
        '/runs/{runId}/pending',
        '/runs/{runId}/resolve',
      ]);
      assert.deepEqual(Object.keys(res.body.paths['/runs']!).sort(), ['get', 'post']);
      assert.ok(res.body.components.securitySchemes.bearerAuth);
      const resolveSchema = res.body.paths['/runs/{runId}/resolve']!.post!.requestBody!.content['application/json']!
        .schema as { properties: Record<string, unknown>; required: string[] };
      assert.ok(resolveSchema.properties.actionId && resolveSchema.properties.decisions);
      assert.equal(resolveSchema.properties.approver, undefined, 'the approver comes from the token');
      // POST /runs is the agent request: nothing but these four fields, and nothing else accepted.
      const startSchema = res.body.paths['/runs']!.post!.requestBody!.content['application/json']!.schema as {
        properties: Record<string, unknown>;
        required: string[];
        additionalProperties?: unknown;
      };
      assert.deepEqual(Object.keys(startSchema.properties).sort(), [
        'agentId',
        'conversationId',
        'messages',
        'tighten',
      ]);
      assert.deepEqual([...startSchema.required].sort(), ['agentId', 'conversationId', 'messages']);
      assert.equal(startSchema.additionalProperties, false);
      const tighten = startSchema.properties.tighten as {
        properties: Record<string, unknown>;
        additionalProperties?: unknown;
      };
      assert.deepEqual(Object.keys(tighten.properties).sort(), ['approvalTtlMs', 'ask', 'deny', 'onExpiry']);
      assert.equal(tighten.additionalProperties, false);
      const messages = startSchema.properties.messages as {
        items: { oneOf: { properties: { role: { enum: string[] } } }[] };
      };
      assert.deepEqual(
        messages.items.oneOf.flatMap((m) => m.properties.role.enum).sort(),
        ['assistant', 'tool', 'user'],
        'no system messages in a request',
      );
      assert.deepEqual(Object.keys(res.body.paths['/agents']!), ['get']);
      assert.equal((await api('GET', '/healthz')).status, 200);
    });

    it('startApiServer: dev mode makes a throwaway secret and a working token; no key config and no dev mode refuses', async () => {
      const server = await startApiServer({ client, dev: true, port: 0, devUser: 'demo', logger: false, env: {} });
      try {
        assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.equal(server.devUser, 'demo');
        const mine = await request<{ runs: unknown[] }>(server.url, 'GET', '/runs', { token: server.devToken! });
        assert.equal(mine.status, 200);
        assert.deepEqual(mine.body.runs, []);
        const foreign = await request<ErrorBody>(server.url, 'GET', '/runs', { token: tokens.u1! });
        assert.equal(foreign.status, 401, 'tokens of another secret are refused');
        assert.match(describeApiServer(server), new RegExp(`export HITL_TOKEN=${server.devToken}`));
        const port = Number(new URL(server.url).port);
        await assert.rejects(
          startApiServer({ client, dev: true, port, logger: false, env: {} }),
          /port \d+ .* is in use/,
        );
      } finally {
        await server.close();
      }
      await assert.rejects(startApiServer({ client, port: 0, env: {} }), AuthConfigError);
    });

    it('routes added with { config: { auth: false } } are public; every other added route needs a token', async () => {
      const extra = buildApi({ client, auth: { kind: 'secret', secret: SECRET } });
      extra.get('/extra', { config: { auth: false } }, async () => ({ page: 'extra' }));
      extra.get('/extra/private', async () => ({ page: 'private' }));
      const url = await extra.listen({ port: 0, host: '127.0.0.1' });
      try {
        assert.deepEqual((await request(url, 'GET', '/extra')).body, { page: 'extra' });
        assert.equal((await request(url, 'GET', '/extra/private')).status, 401);
        assert.equal((await request(url, 'GET', '/extra/private', { token: tokens.u1! })).status, 200);
      } finally {
        await extra.close();
      }
    });

    it('unknown routes get a JSON 404', async () => {
      const res = await as('u1').get<ErrorBody>('/nope');
      assert.equal(res.status, 404);
      assert.equal(res.body.type, 'NotFound');
    });
  });

  describe('runs', () => {
    it('start an agent run (owner = token subject), read, pending, list, resolve: a full run over HTTP', async () => {
      const conversationId = `conv-${randomUUID()}`;
      const started = await as('u1').post<{ runId: string }>('/runs', {
        agentId: 'agent-http',
        conversationId,
        messages: [{ role: 'user', content: 'Append to my file' }],
      });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const runId = started.body.runId;
      const pending = await pendingOf('u1', runId);
      assert.equal(pending.userId, 'u1');
      assert.equal(pending.runId, runId);

      const view = await as('u1').get<RunView>(`/runs/${runId}`);
      assert.equal(view.status, 200);
      assert.equal(view.body.status, 'requires_action');
      assert.equal(view.body.pendingAction?.actionId, pending.actionId);
      assert.equal(view.body.userId, 'u1');
      assert.equal(view.body.conversationId, conversationId);
      assert.equal(view.body.agentId, 'agent-http');
      assert.match(view.body.configVersion ?? '', /^[0-9a-f]{12}$/);
      assert.deepEqual(view.body.approvers, ['u1']);
      assert.deepEqual(view.body.approverClaims, []);
      assert.deepEqual(view.body.caller, { sub: 'u1', owner: true, approver: true });
      // Read from the agent's configuration pinned in the history: mode default, so a grant would count.
      assert.deepEqual(view.body.grantOffers, { append_file: { scopes: ['session', 'always'] } });
      assert.equal(view.body.messages[0]?.role, 'user');

      const [listed] = await eventually(async () => {
        const res = await as('u1').get<{ runs: RunSummaryDto[] }>(
          `/runs?status=requires_action&tool=append_file&conversationId=${conversationId}`,
        );
        return res.body.runs.length === 1 ? res.body.runs : undefined;
      }, 'the paused run in the listing');
      assert.equal(listed?.runId, runId);
      assert.equal(listed?.status, 'requires_action');
      assert.deepEqual(listed?.pendingTools, ['append_file']);
      assert.equal(listed?.expiresAt, pending.expiresAt);
      assert.equal(listed?.executionStatus, 'RUNNING');
      const others = await as('mallory').get<{ runs: RunSummaryDto[] }>(`/runs?conversationId=${conversationId}`);
      assert.deepEqual(others.body.runs, [], 'a caller lists only its own runs');
      const wrongTool = await as('u1').get<{ runs: RunSummaryDto[] }>(
        `/runs?tool=delete_file&conversationId=${conversationId}`,
      );
      assert.deepEqual(wrongTool.body.runs, []);

      const resolved = await as('u1').post<ResolveResult>(`/runs/${runId}/resolve`, approveBody(pending));
      assert.equal(resolved.status, 200);
      assert.deepEqual(resolved.body, { actionId: pending.actionId, status: 'running', decidedBy: 'u1' });
      const result = await h.client.result(runId);
      assert.equal(result.finalMessage, 'All done.');
      assert.equal(await readSandboxFile(h.sandboxDir, 'http/full.txt'), 'F');

      const done = await as('u1').get<RunView>(`/runs/${runId}`);
      assert.equal(done.body.status, 'completed');
      assert.equal(done.body.pendingAction, null);
      assert.deepEqual((await as('u1').get(`/runs/${runId}/pending`)).body, { pendingAction: null });
      await eventually(async () => {
        const res = await as('u1').get<{ runs: RunSummaryDto[] }>(
          `/runs?status=completed&conversationId=${conversationId}`,
        );
        return res.body.runs[0]?.closeTime ? res.body.runs : undefined;
      }, 'the completed run in the listing');
    });

    it("POST /runs: 201 with Location; a userId (even the caller's) or invalid input 400; bad query 400; oversized body 413; bad JSON 400", async () => {
      const body = {
        agentId: 'chat',
        conversationId: `conv-${randomUUID()}`,
        messages: [{ role: 'user', content: 'hi' }],
      };
      const started = await as('u1').post<{ runId: string }>('/runs', body);
      assert.equal(started.status, 201, JSON.stringify(started.body));
      assert.equal(started.headers.get('location'), `/runs/${started.body.runId}`);

      // The owner is the token subject: a body may not name one, not even the caller itself.
      for (const userId of ['u1', 'boss']) {
        const owner = await as('u1').post<ErrorBody & { details: { issues: { path: string }[] } }>('/runs', {
          ...body,
          userId,
        });
        assert.equal(owner.status, 400, userId);
        assert.equal(owner.body.type, 'InvalidInput');
        assert.deepEqual(
          owner.body.details.issues.map((i) => i.path),
          ['userId'],
        );
      }

      const invalid = await as('u1').post<ErrorBody & { details: { issues: { path: string }[] } }>('/runs', {
        conversationId: 'c',
        messages: [],
      });
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.type, 'InvalidInput');
      assert.match(invalid.body.error, /messages/);
      assert.deepEqual(invalid.body.details.issues.map((i) => i.path).sort(), ['agentId', 'messages']);

      const badQuery = await as('u1').get<ErrorBody>('/runs?status=sleeping');
      assert.equal(badQuery.status, 400);
      assert.equal(badQuery.body.type, 'InvalidRequest');
      assert.match(badQuery.body.error, /status/);
      // A bad limit says what is expected, and what it got.
      for (const limit of ['abc', '0', '1.5', '5000']) {
        const badLimit = await as('u1').get<ErrorBody>(`/runs?limit=${limit}`);
        assert.equal(badLimit.status, 400, limit);
        assert.equal(badLimit.body.type, 'InvalidRequest');
        assert.equal(
          badLimit.body.error,
          `Invalid request (querystring): limit: expected an integer from 1 to 1000, got "${limit}"`,
        );
      }

      const huge = await as('u1').post<ErrorBody>('/runs', {
        ...body,
        conversationId: 'x'.repeat(2 * 1024 * 1024 + 10),
      });
      assert.equal(huge.status, 413);
      assert.equal(huge.body.type, 'PayloadTooLarge');
      assert.match(huge.body.error, /2097152 bytes/);

      const badJson = await api<ErrorBody>('POST', '/runs', { token: tokens.u1!, rawBody: '{"userId":' });
      assert.equal(badJson.status, 400);
      assert.equal(badJson.body.type, 'InvalidRequest');
      assert.equal(badJson.body.error, 'The body is not valid JSON', 'said once');

      const text = await api<ErrorBody>('POST', '/runs', {
        token: tokens.u1!,
        rawBody: 'hello',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(text.status, 415);
      assert.equal(text.body.type, 'UnsupportedMediaType');
      const result = await h.client.result(started.body.runId);
      assert.equal(result.finalMessage, 'hi');
    });

    it('read access: owner and approvers may read; strangers get 404 like an unknown run', async () => {
      const { runId, pending } = await startPaused(
        'u1',
        input([{ tool_calls: [call('call_1', 'append_file', { path: 'http/read.txt', content: 'r' })] }], {
          approvers: ['boss'],
        }),
      );
      const asBoss = await as('boss').get<RunView>(`/runs/${runId}`);
      assert.equal(asBoss.status, 200);
      assert.deepEqual(asBoss.body.caller, { sub: 'boss', owner: false, approver: true });
      const asOwner = await as('u1').get<RunView>(`/runs/${runId}`);
      assert.deepEqual(asOwner.body.caller, { sub: 'u1', owner: true, approver: false });
      assert.equal(
        (await as('boss').get<{ pendingAction: PendingAction }>(`/runs/${runId}/pending`)).body.pendingAction.actionId,
        pending.actionId,
      );
      // A stranger is not told that the run exists: the same 404 as for an id nobody used.
      for (const path of [`/runs/${runId}`, `/runs/${runId}/pending`, `/runs/${runId}/events`]) {
        const res = await as('mallory').get<ErrorBody>(path);
        assert.equal(res.status, 404, path);
        assert.equal(res.body.type, 'RunNotFound');
        assert.equal(res.body.error, `No generation run with id "${runId}"`);
        assert.deepEqual(res.body.details, { runId });
      }
      const strangerResolves = await as('mallory').post<ErrorBody>(`/runs/${runId}/resolve`, approveBody(pending));
      assert.equal(strangerResolves.status, 404);
      assert.equal(strangerResolves.body.type, 'RunNotFound');
      for (const path of ['/runs/no-such-run', '/runs/no-such-run/pending', '/runs/no-such-run/events']) {
        const res = await as('u1').get<ErrorBody>(path);
        assert.equal(res.status, 404, path);
        assert.equal(res.body.type, 'RunNotFound');
      }
      assert.equal((await as('u1').post<ErrorBody>('/runs/no-such-run/resolve', approveBody(pending))).status, 404);
      assert.equal((await as('u1').post<ErrorBody>('/runs/no-such-run/abort')).status, 404);

      // A workflow that is not a generation run is not visible through the API.
      const other = await h.env.client.workflow.start('smokeWorkflow', {
        args: ['http'],
        taskQueue: h.client.taskQueue,
        workflowId: `not-a-run-${randomUUID()}`,
      });
      assert.equal((await as('u1').get<ErrorBody>(`/runs/${other.workflowId}`)).status, 404);
      assert.equal(await other.result(), 'hello, http');
      await as('boss').post(`/runs/${runId}/resolve`, approveBody(pending));
      await h.client.result(runId);
    });

    it('grant offers: "don\'t ask again" only where a remembered approval takes effect, and why not', async () => {
      const asked = await startInline(
        'u1',
        input([{ tool_calls: [call('call_1', 'append_file', { path: 'http/offer.txt', content: 'o' })] }], {
          tools: ['append_file', 'read_file'],
          policy: { enabled: true, mode: 'default', ask: ['append_*'] },
        }),
      );
      const view = await eventually(async () => {
        const res = await as('u1').get<RunView>(`/runs/${asked}`);
        return res.body.grantOffers ? res.body : undefined;
      }, 'the run view with grant offers');
      assert.deepEqual(view.grantOffers, {
        append_file: {
          scopes: [],
          why: 'the agent\'s policy asks for append_file every time (ask: "append_*"); a remembered approval never overrides it',
        },
        read_file: { scopes: ['session', 'always'] },
      });
      await as('u1').post(`/runs/${asked}/abort`);

      // A run whose request tightens asks again for an allowed tool: no grant can undo that either.
      const tightened = await startInline(
        'u1',
        input([{ content: 'nothing to do' }], {
          tools: ['append_file'],
          policy: { enabled: true, mode: 'default', allow: ['append_file'] },
          tighten: { ask: ['append_file'] },
        }),
      );
      const tightenedView = await as('u1').get<RunView>(`/runs/${tightened}`);
      assert.deepEqual(tightenedView.body.grantOffers?.append_file?.scopes, []);
      assert.match(tightenedView.body.grantOffers?.append_file?.why ?? '', /tighten\.ask: "append_file"/);
    });

    it('abort: owner only (202), the run ends aborted, a second abort is 409 RunClosed', async () => {
      const { runId } = await startPaused(
        'u1',
        input([{ tool_calls: [call('call_1', 'append_file', { path: 'http/abort.txt', content: 'a' })] }], {
          approvers: ['u1', 'boss'],
        }),
      );
      const byApprover = await as('boss').post<ErrorBody>(`/runs/${runId}/abort`);
      assert.equal(byApprover.status, 403);
      assert.equal(byApprover.body.type, 'NotAuthorized');
      assert.equal((await as('mallory').post<ErrorBody>(`/runs/${runId}/abort`)).status, 404, 'a stranger');
      const events = await openSse(`${base}/runs/${runId}/events`, tokens.boss);
      const aborted = await as('u1').post<{ runId: string; abortRequested: boolean }>(`/runs/${runId}/abort`);
      assert.equal(aborted.status, 202);
      assert.deepEqual(aborted.body, { runId, abortRequested: true });
      const result = await h.client.result(runId);
      assert.equal(result.status, 'aborted');
      const received = await events.rest();
      assert.deepEqual(
        received.slice(-2).map((e) => e.event),
        ['status', 'aborted'],
      );
      assert.equal((received.at(-1)?.data as { status: string }).status, 'aborted');
      const again = await as('u1').post<ErrorBody>(`/runs/${runId}/abort`);
      assert.equal(again.status, 409);
      assert.equal(again.body.type, 'RunClosed');
      assert.equal(await readSandboxFile(h.sandboxDir, 'http/abort.txt'), undefined);
    });
  });

  describe('resolve: every refusal through the real workflow, mapped to HTTP', () => {
    async function expectRefusal(
      sub: string,
      runId: string,
      body: unknown,
      status: number,
      type: string,
    ): Promise<ErrorBody> {
      const res = await as(sub).post<ErrorBody>(`/runs/${runId}/resolve`, body);
      assert.equal(res.body.type, type, JSON.stringify(res.body));
      assert.equal(res.status, status, `${type} → ${status}`);
      assert.equal(typeof res.body.error, 'string');
      assert.equal(typeof res.body.details, 'object');
      return res.body;
    }

    it('tool approval: 400 InvalidResolution / UndecidedToolCalls / IncompleteDecision / unknown tool_call_id, 403 DecisionNotPermitted, 409 StaleAction / AlreadyResolved / NoPendingAction', async () => {
      const { runId, pending: first } = await startPaused(
        'u1',
        input(
          [
            {
              tool_calls: [
                call('call_1', 'append_file', { path: 'http/e1.txt', content: '1' }),
                call('call_2', 'append_file', { path: 'http/e2.txt', content: '2' }),
              ],
            },
            { tool_calls: [call('call_3', 'append_file', { path: 'http/e3.txt', content: '3' })] },
          ],
          { approvers: ['u1', 'boss'] },
        ),
      );
      const both = (actionId: string) => ({
        actionId,
        decisions: [
          { tool_call_id: 'call_1', decision: 'approve' },
          { tool_call_id: 'call_2', decision: 'reject', reason: 'no' },
        ],
      });
      const invalid = await expectRefusal('u1', runId, { decisions: [] }, 400, 'InvalidResolution');
      assert.match(invalid.error, /actionId/);
      await expectRefusal(
        'u1',
        runId,
        { actionId: first.actionId, decisions: [{ tool_call_id: 'call_1', decision: 'yolo' }] },
        400,
        'InvalidResolution',
      );
      const undecided = await expectRefusal('u1', runId, approveBody(first), 400, 'UndecidedToolCalls');
      assert.deepEqual(undecided.details.tool_call_ids, ['call_2']);
      await expectRefusal(
        'u1',
        runId,
        {
          actionId: first.actionId,
          decisions: [
            { tool_call_id: 'call_1', decision: 'edit' },
            { tool_call_id: 'call_2', decision: 'approve' },
          ],
        },
        400,
        'IncompleteDecision',
      );
      await expectRefusal(
        'u1',
        runId,
        {
          actionId: first.actionId,
          decisions: [
            { tool_call_id: 'call_1', decision: 'respond', responseText: ' ' },
            { tool_call_id: 'call_2', decision: 'approve' },
          ],
        },
        400,
        'IncompleteDecision',
      );
      // An unknown tool_call_id is a wrong request (400); a decision the call does not allow is 403.
      const unknownCall = await expectRefusal('u1', runId, approveBody(first, 'call_9'), 400, 'DecisionNotPermitted');
      assert.match(unknownCall.error, /Unknown tool_call_id "call_9"/);
      const stale = await expectRefusal('u1', runId, both('act-old'), 409, 'StaleAction');
      assert.equal(stale.details.currentActionId, first.actionId);

      const won = await as('boss').post<ResolveResult>(`/runs/${runId}/resolve`, both(first.actionId));
      assert.equal(won.status, 200);
      assert.equal(won.body.decidedBy, 'boss');
      await expectRefusal('u1', runId, both(first.actionId), 409, 'AlreadyResolved');

      const second = await eventually(async () => {
        const res = await as('u1').get<{ pendingAction: PendingAction | null }>(`/runs/${runId}/pending`);
        return res.body.pendingAction && res.body.pendingAction.actionId !== first.actionId
          ? res.body.pendingAction
          : undefined;
      }, 'the second pending action');
      await expectRefusal('u1', runId, both(first.actionId), 409, 'AlreadyResolved');
      assert.equal((await as('u1').post(`/runs/${runId}/resolve`, approveBody(second, 'call_3'))).status, 200);
      await h.client.result(runId);
      await expectRefusal('u1', runId, approveBody(second, 'call_3'), 409, 'NoPendingAction');
      assert.equal(await readSandboxFile(h.sandboxDir, 'http/e1.txt'), '1');
      assert.equal(await readSandboxFile(h.sandboxDir, 'http/e2.txt'), undefined);
      assert.equal(await readSandboxFile(h.sandboxDir, 'http/e3.txt'), '3');
    });

    it('409 ActionExpired after expiry', async () => {
      const { runId, pending: first } = await startPaused(
        'u1',
        input(
          [
            { tool_calls: [call('call_1', 'append_file', { path: 'http/x1.txt', content: '1' })] },
            { tool_calls: [call('call_2', 'append_file', { path: 'http/x2.txt', content: '2' })] },
          ],
          { approvalTtlMs: 1000, onExpiry: 'reject' },
        ),
      );
      const second = await eventually(async () => {
        const p = await h.client.getPendingAction(runId);
        return p && p.actionId !== first.actionId ? p : undefined;
      }, 'the second pending action after the first expired');
      await expectRefusal('u1', runId, approveBody(first), 409, 'ActionExpired');
      assert.ok(second.actionId);
      await h.client.result(runId);
    });

    it('ask_user_question: 400 AnswerRequired / AnswerTooLong / UnknownQuestionId, then answered', async () => {
      const { runId, pending } = await startPaused(
        'u1',
        input(
          [
            {
              tool_calls: [
                call('call_q', 'ask_user_question', {
                  questions: [
                    { id: 'color', question: 'Which color?' },
                    {
                      id: 'size',
                      question: 'Which size?',
                      options: [
                        { label: 'S', value: 's' },
                        { label: 'M', value: 'm' },
                      ],
                      multiSelect: true,
                    },
                  ],
                }),
              ],
            },
            { content: 'Thanks.' },
          ],
          { tools: ['ask_user_question'] },
        ),
      );
      assert.equal(pending.payload.type, 'ask_user_question');
      const { actionId } = pending;
      await expectRefusal('u1', runId, { actionId }, 400, 'AnswerRequired');
      await expectRefusal('u1', runId, { actionId, answers: { color: 'red', size: '' } }, 400, 'AnswerRequired');
      await expectRefusal(
        'u1',
        runId,
        { actionId, answers: { color: 'x'.repeat(16_001), size: ['s'] } },
        400,
        'AnswerTooLong',
      );
      const unknown = await expectRefusal(
        'u1',
        runId,
        { actionId, answers: { color: 'red', size: ['s'], shape: 'round' } },
        400,
        'UnknownQuestionId',
      );
      assert.deepEqual(unknown.details.unknown_ids, ['shape']);
      await expectRefusal(
        'u1',
        runId,
        { actionId, decisions: [{ tool_call_id: 'call_q', decision: 'approve' }] },
        400,
        'DecisionNotPermitted',
      );
      const ok = await as('u1').post<ResolveResult>(`/runs/${runId}/resolve`, {
        actionId,
        answers: { color: 'red', size: ['s', 'm'] },
      });
      assert.equal(ok.status, 200);
      const result = await h.client.result(runId);
      const tool = result.messages.find((m): m is ToolMessage => m.role === 'tool');
      assert.deepEqual(JSON.parse(tool?.content ?? '{}'), { answers: { color: 'red', size: 's, m' } });
    });

    it('identity comes from the token: an approver in the body is ignored (404 for a stranger, 403 NotAuthorized for the owner)', async () => {
      const { runId, pending } = await startPaused(
        'u1',
        input([{ tool_calls: [call('call_1', 'append_file', { path: 'http/who.txt', content: 'w' })] }], {
          approvers: ['boss'],
        }),
      );
      // A stranger claiming to be the approver is refused by the API before the run is touched (and not
      // told that it exists).
      await expectRefusal('mallory', runId, { ...approveBody(pending), approver: 'boss' }, 404, 'RunNotFound');
      // The owner (not an approver) claiming to be "boss": the workflow judges the token subject and refuses.
      const owner = await expectRefusal(
        'u1',
        runId,
        { ...approveBody(pending), approver: 'boss' },
        403,
        'NotAuthorized',
      );
      assert.match(owner.error, /"u1" is not an approver/);
      const state = await h.client.getRunState(runId);
      assert.deepEqual(
        state.decisions.map((d) => [d.approver, d.outcome, d.refusal?.type]),
        [['u1', 'refused', 'NotAuthorized']],
      );
      assert.equal(state.status, 'requires_action');
      const ok = await as('boss').post<ResolveResult>(`/runs/${runId}/resolve`, {
        ...approveBody(pending),
        approver: 'u1',
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.decidedBy, 'boss');
      await h.client.result(runId);
      assert.equal(await readSandboxFile(h.sandboxDir, 'http/who.txt'), 'w');
    });

    it('Idempotency-Key: a retry returns the first answer and the tool runs once; keys are per caller', async () => {
      const { runId, pending } = await startPaused(
        'u1',
        // A second pause keeps the run open while the first action is addressed again.
        input(
          [
            { tool_calls: [call('call_1', 'append_file', { path: 'http/idem.txt', content: 'I' })] },
            { tool_calls: [call('call_2', 'append_file', { path: 'http/idem2.txt', content: 'J' })] },
          ],
          { approvers: ['u1', 'u2'] },
        ),
      );
      const key = { 'Idempotency-Key': `key-${randomUUID()}` };
      const [a, b] = await Promise.all([
        as('u1').post<ResolveResult>(`/runs/${runId}/resolve`, approveBody(pending), key),
        as('u1').post<ResolveResult>(`/runs/${runId}/resolve`, approveBody(pending), key),
      ]);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.deepEqual(b.body, a.body);
      const retry = await as('u1').post<ResolveResult>(`/runs/${runId}/resolve`, approveBody(pending), key);
      assert.equal(retry.status, 200);
      assert.deepEqual(retry.body, a.body);
      assert.deepEqual(a.body, { actionId: pending.actionId, status: 'running', decidedBy: 'u1' });

      // The same key from another caller is another request: it does not get u1's answer.
      const u2 = await as('u2').post<ErrorBody>(`/runs/${runId}/resolve`, approveBody(pending), key);
      assert.equal(u2.status, 409);
      assert.equal(u2.body.type, 'AlreadyResolved');
      // Without a key, a second attempt is a new attempt.
      const again = await as('u1').post<ErrorBody>(`/runs/${runId}/resolve`, approveBody(pending));
      assert.equal(again.body.type, 'AlreadyResolved');

      const badKey = await as('u1').post<ErrorBody>(`/runs/${runId}/resolve`, approveBody(pending), {
        'Idempotency-Key': 'has spaces',
      });
      assert.equal(badKey.status, 400);
      assert.equal(badKey.body.type, 'InvalidRequest');

      const second = await eventually(async () => {
        const p = await h.client.getPendingAction(runId);
        return p && p.actionId !== pending.actionId ? p : undefined;
      }, 'the second pending action');
      assert.equal((await as('u2').post(`/runs/${runId}/resolve`, approveBody(second, 'call_2'))).status, 200);
      await h.client.result(runId);
      assert.equal(await readSandboxFile(h.sandboxDir, 'http/idem.txt'), 'I', 'the tool ran exactly once');
      const accepted = (await h.client.getRunState(runId)).decisions.filter((d) => d.outcome === 'accepted');
      assert.deepEqual(
        accepted.map((d) => [d.actionId, d.approver]),
        [
          [pending.actionId, 'u1'],
          [second.actionId, 'u2'],
        ],
      );
    });
  });

  describe('server-sent events', () => {
    it('delivers the pause, then the tool result and the completion, in order, with ids and heartbeats', async () => {
      const runId = await startInline(
        'u1',
        input([
          {
            content: 'Appending.',
            tool_calls: [call('call_1', 'append_file', { path: 'http/sse.txt', content: 'S' })],
          },
          { content: 'Finished.' },
        ]),
      );
      const stream = await openSse(`${base}/runs/${runId}/events`, tokens.u1);
      assert.equal(stream.status, 200);
      assert.match(stream.contentType ?? '', /^text\/event-stream/);

      const events: SseEvent[] = [];
      let pause: SseEvent | undefined;
      while (!pause) {
        const event = await stream.next();
        assert.ok(event, 'the stream ended before the pause');
        events.push(event);
        if (event.event === 'pending_action') pause = event;
      }
      const pending = pause.data as PendingAction;
      assert.equal(pending.runId, runId);
      assert.equal(events.at(-2)?.event, 'status');
      assert.equal((events.at(-2)?.data as { status: string }).status, 'requires_action');
      // Wait for at least one heartbeat while paused.
      await new Promise((resolve) => setTimeout(resolve, 400));

      const resolved = await as('u1').post(`/runs/${runId}/resolve`, approveBody(pending));
      assert.equal(resolved.status, 200);
      events.push(...(await stream.rest()));

      const names = events.map((e) => e.event);
      const at = (name: string) => names.indexOf(name);
      assert.ok(at('pending_action') < at('tool_result'), names.join(','));
      assert.ok(at('tool_result') < names.lastIndexOf('status'), names.join(','));
      assert.deepEqual(names.slice(-2), ['status', 'completed']);
      assert.equal(names.filter((n) => n === 'pending_action').length, 1);
      assert.equal(names.filter((n) => n === 'tool_result').length, 1);
      const tool = events[at('tool_result')]?.data as ToolMessage;
      assert.equal(tool.tool_call_id, 'call_1');
      assert.equal(tool.status, 'success');
      const completed = events.at(-1)?.data as { status: string; finishReason?: string; finalMessage?: string };
      assert.equal(completed.status, 'completed');
      assert.equal(completed.finishReason, 'final_answer');
      assert.equal(completed.finalMessage, 'Finished.');
      assert.deepEqual(
        events.map((e) => Number(e.id)),
        events.map((_, i) => i + 1),
        'ids count up from 1',
      );
      assert.ok(stream.comments.includes('heartbeat'), 'heartbeat comments while waiting');
    });

    it('GET /runs/:runId/messages reads whole messages from the content store, a page at a time, with the run’s access', async () => {
      const long = 'x'.repeat(5000);
      const { runId, pending } = await startPaused(
        'u1',
        input(
          [
            { tool_calls: [call('call_1', 'append_file', { path: 'http/msg.txt', content: long })] },
            { content: 'written' },
          ],
          { approvers: ['boss'] },
        ),
      );
      // Large arguments come back whole in the pending action (the run keeps a reference).
      const big = 'y'.repeat(20_000);
      const paused = await startPaused(
        'u1',
        input([{ tool_calls: [call('call_1', 'write_file', { path: 'http/big.txt', content: big })] }]),
      );
      const view = await as('u1').get<{ pendingAction: PendingAction }>(`/runs/${paused.runId}/pending`);
      assert.equal(view.body.pendingAction.payload.type, 'tool_approval');
      assert.deepEqual(view.body.pendingAction.payload.action_requests[0]?.arguments, {
        path: 'http/big.txt',
        content: big,
      });
      assert.ok(
        paused.pending.payload.type === 'tool_approval' && paused.pending.payload.action_requests[0]?.arguments_ref,
      );
      await as('u1').post(`/runs/${paused.runId}/abort`);

      assert.equal((await as('boss').post(`/runs/${runId}/resolve`, approveBody(pending))).status, 200);
      await h.client.result(runId);
      const page = await as('boss').get<MessagesPage>(`/runs/${runId}/messages?fromSeq=1&limit=2`);
      assert.equal(page.status, 200);
      assert.equal(page.body.total, 4);
      assert.equal(page.body.fromSeq, 1);
      assert.equal(page.body.nextSeq, 3);
      const assistant = page.body.messages[0];
      assert.equal(assistant?.role, 'assistant');
      assert.equal(assistant.role === 'assistant' && assistant.tool_calls?.[0]?.arguments.content, long);
      assert.equal(page.body.messages[1]?.role, 'tool');
      const rest = await as('u1').get<MessagesPage>(`/runs/${runId}/messages?fromSeq=3`);
      assert.deepEqual(rest.body.messages, [{ role: 'assistant', content: 'written' }]);
      // A caller who may neither read nor approve the run cannot tell it exists.
      assert.equal((await as('mallory').get<ErrorBody>(`/runs/${runId}/messages`)).status, 404);
      assert.equal((await as('u1').get<ErrorBody>('/runs/no-such-run/messages')).status, 404);
      assert.equal((await as('u1').get<ErrorBody>(`/runs/${runId}/messages?limit=0`)).status, 400);
    });

    it('accepts ?access_token= (EventSource) and a finished run streams its snapshot and ends', async () => {
      const runId = await startInline('u1', input([{ content: 'Nothing to do.' }]));
      await h.client.result(runId);
      const stream = await openSse(`${base}/runs/${runId}/events?access_token=${tokens.u1}`);
      assert.equal(stream.status, 200);
      const events = await stream.rest();
      assert.deepEqual(
        events.map((e) => e.event),
        ['status', 'completed'],
      );
    });

    it('stops polling when the client disconnects', async () => {
      const { runId, pending } = await startPaused(
        'u1',
        input([{ tool_calls: [call('call_1', 'append_file', { path: 'http/gone.txt', content: 'g' })] }]),
      );
      const stream = await openSse(`${base}/runs/${runId}/events`, tokens.u1);
      assert.equal((await stream.next())?.event, 'status');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = client.stateQueries;
      assert.ok(before > 1, 'the stream polls while open');
      stream.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = client.stateQueries;
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(client.stateQueries, after, 'no more queries after the client went away');
      await as('u1').post(`/runs/${runId}/resolve`, approveBody(pending));
      await waitForStatus(runId, 'completed');
    });
  });
});
