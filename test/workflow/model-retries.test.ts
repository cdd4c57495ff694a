// The run retries an unavailable model itself: Retry-After is honoured, the wait is visible in the run
// state, and a failure the run cannot get past names its cause (not "Activity task failed").
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDefaultToolRegistry } from '../../src/activities';
import { parseConfig, staticConfigSource } from '../../src/agent-config';
import type { RunState } from '../../src/contracts';
import { eventually, maybeRecordHistory, startHarness, type Harness } from './harness';

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

const completion = (content: string): Reply => ({
  status: 200,
  body: {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'fake-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  },
});

/** An OpenAI-compatible endpoint on 127.0.0.1 answering from a queue (then with `fallback`). */
async function fakeEndpoint(
  replies: Reply[],
  fallback: Reply,
): Promise<{ url: string; calls: () => number; server: Server }> {
  let calls = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls += 1;
      const reply = replies.shift() ?? fallback;
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, calls: () => calls, server };
}

describe('model retries inside the run (real dev server, fake model endpoint)', function () {
  this.timeout(120_000);
  let h: Harness;
  let flaky: Awaited<ReturnType<typeof fakeEndpoint>>;
  let rejecting: Awaited<ReturnType<typeof fakeEndpoint>>;

  before(async () => {
    flaky = await fakeEndpoint(
      [
        { status: 503, headers: { 'retry-after': '1' }, body: { error: { message: 'overloaded' } } },
        { status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'slow down' } } },
      ],
      completion('hello after the outage'),
    );
    rejecting = await fakeEndpoint([], { status: 401, body: { error: { message: 'bad key' } } });
    const agent = (id: string, provider: string) => ({
      id,
      model: { provider, model: 'fake-model' },
      tools: [],
      users: ['*'],
    });
    const config = parseConfig(
      {
        providers: {
          flaky: { baseURL: flaky.url },
          rejecting: { baseURL: rejecting.url },
          unreachable: { baseURL: 'http://127.0.0.1:9/v1' },
          keyless: { baseURL: flaky.url, apiKey: '${HITL_TEST_KEY_THAT_IS_NOT_SET}' },
        },
        agents: [
          agent('flaky', 'flaky'),
          agent('rejecting', 'rejecting'),
          agent('unreachable', 'unreachable'),
          agent('keyless', 'keyless'),
        ],
      },
      {
        knownTools: new Set(
          createDefaultToolRegistry()
            .list()
            .map((tool) => tool.name),
        ),
      },
    );
    h = await startHarness({ agents: staticConfigSource(config) });
  });
  after(async () => {
    await h?.stop();
    flaky?.server.close();
    rejecting?.server.close();
  });

  const start = (agentId: string) =>
    h.client.startRun({ userId: 'u1', conversationId: 'c1', agentId, messages: [{ role: 'user', content: 'hi' }] });

  it('503 and 429 with Retry-After: the run waits, says so in its state, and completes', async () => {
    const { runId } = await start('flaky');
    const waiting = await eventually(async () => {
      const state = await h.client.getRunState(runId);
      return state.modelRetry ? state : undefined;
    }, 'the run to report its retry');
    assert.ok(waiting.modelRetry!.attempt >= 2);
    assert.match(waiting.modelRetry!.lastError, /^ModelUnavailable: /);
    assert.equal(waiting.status, 'running');
    const result = await h.client.result(runId);
    assert.equal(result.finalMessage, 'hello after the outage');
    assert.equal(flaky.calls(), 3, 'one call per attempt: two refused, one answered');
    const done: RunState = await h.client.getRunState(runId);
    assert.equal(done.modelRetry, undefined, 'nothing is waited for any more');
    const history = await h.env.client.workflow.getHandle(runId).fetchHistory();
    const timers = (history.events ?? []).filter((e) => e.timerStartedEventAttributes);
    assert.equal(timers.length, 2, 'one wait before each retry');
    for (const timer of timers) {
      const seconds = Number(timer.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? 0);
      assert.equal(seconds, 1, 'the wait the endpoint asked for (Retry-After: 1)');
    }
    await maybeRecordHistory(h, runId, 'model-retry');
  });

  it('a rejected request (401) fails the run at once, with the cause in its state', async () => {
    const { runId } = await start('rejecting');
    await assert.rejects(h.client.result(runId));
    const state = await h.client.getRunState(runId);
    assert.equal(state.status, 'failed');
    assert.match(state.error ?? '', /^ModelRequestRejected: .*401/);
    assert.equal(rejecting.calls(), 1, 'not retried');
  });

  it('a missing key variable fails at once, naming it', async () => {
    const { runId } = await start('keyless');
    await assert.rejects(h.client.result(runId));
    const state = await h.client.getRunState(runId);
    assert.match(state.error ?? '', /^ModelNotConfigured: .*HITL_TEST_KEY_THAT_IS_NOT_SET is not set/);
  });

  it('an unreachable endpoint: the cause is in the run state from the first attempt on; cancel ends it', async () => {
    const { runId } = await start('unreachable');
    const waiting = await eventually(async () => {
      const state = await h.client.getRunState(runId);
      return state.modelRetry ? state : undefined;
    }, 'the first retry');
    assert.equal(waiting.modelRetry!.attempt, 2);
    assert.match(waiting.modelRetry!.lastError, /^ModelUnavailable: .*(ECONNREFUSED|connect)/i);
    await h.client.abort(runId);
    const result = await h.client.result(runId);
    assert.equal(result.status, 'aborted');
  });
});
