// Runs started with run-features-v4: the model call brings the user's grants with a turn that calls tools, and
// closes a stored run's content with its final answer, so the run schedules no `loadGrants` or
// `closeTranscript` activity of its own on these paths. When the worker could not do either, the run still
// does it itself. Against the real dev server, with the SQLite content store of this test run.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createWorkerActivities, loadActivitiesConfigFromEnv } from '../../src/activities';
import { HitlClient } from '../../src/client';
import { deleteExpiredContent, sharedContentStore } from '../../src/content-store';
import type { CallModelRequest, CallModelResult, GrantScope, InlineRunInput } from '../../src/contracts';
import { getTestEnv, getWorkflowBundle } from '../hooks';
import { call, readSandboxFile, scriptedInput } from './harness';

type History = temporal.api.history.v1.IHistory;

/** How many times the run scheduled each activity type. */
function scheduled(history: History): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of history.events ?? []) {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** The decoded results of the run's `callModel` activities, in order. */
function modelResults(history: History): CallModelResult[] {
  const events = history.events ?? [];
  const modelCalls = new Set(
    events.flatMap((event) =>
      event.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel' ? [Number(event.eventId)] : [],
    ),
  );
  return events.flatMap((event) => {
    const completed = event.activityTaskCompletedEventAttributes;
    if (!completed || !modelCalls.has(Number(completed.scheduledEventId))) return [];
    const data = completed.result?.payloads?.[0]?.data;
    return data ? [JSON.parse(Buffer.from(data).toString('utf8')) as CallModelResult] : [];
  });
}

describe('the model call reads grants and closes the content for the run (real dev server)', function () {
  this.timeout(120_000);
  const taskQueue = `test-${randomUUID()}`;
  let hitl: HitlClient;
  let env: Awaited<ReturnType<typeof getTestEnv>>;
  let real: ReturnType<typeof createWorkerActivities>;
  /** When set, `callModel` answers without its extras, as a worker that could not read or close would. */
  let withoutExtras = false;
  let sandboxDir: string;
  let worker: Worker;
  let running: Promise<void>;

  before(async () => {
    env = await getTestEnv();
    sandboxDir = await mkdtemp(join(tmpdir(), 'hitl-sandbox-'));
    real = createWorkerActivities(env.client, taskQueue, { ...loadActivitiesConfigFromEnv(), sandboxDir });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await getWorkflowBundle(),
      activities: {
        ...real,
        async callModel(request: CallModelRequest): Promise<CallModelResult> {
          const result = await real.callModel(request);
          if (!withoutExtras) return result;
          const { grants: _grants, closed: _closed, ...turn } = result;
          return turn;
        },
      },
    });
    running = worker.run();
    hitl = new HitlClient(env.client, taskQueue, () => sharedContentStore());
  });
  afterEach(() => {
    withoutExtras = false;
  });
  after(async () => {
    worker?.shutdown();
    await running;
  });

  async function grant(userId: string, tool: string, scope: GrantScope, conversationId = 'c1'): Promise<void> {
    await real.recordGrant({
      userId,
      tool,
      scope,
      ...(scope === 'session' ? { conversationId } : {}),
      grantedBy: userId,
      runId: 'run-before',
      approvedAt: new Date().toISOString(),
    });
  }

  const historyOf = (runId: string): Promise<History> => env.client.workflow.getHandle(runId).fetchHistory();

  /** Runs `input` to its end; its id and history. */
  async function runToEnd(input: InlineRunInput): Promise<{ runId: string; history: History }> {
    const { runId } = await hitl.startRun(input);
    const result = await hitl.result(runId);
    assert.equal(result.status, 'completed', JSON.stringify(result));
    return { runId, history: await historyOf(runId) };
  }

  it('a granted call runs without a pause and without a loadGrants activity; the turn carries the called tools’ grants only', async () => {
    const userId = `u-${randomUUID()}`;
    await grant(userId, 'append_file', 'session');
    await grant(userId, 'read_file', 'always');
    await grant(userId, 'delete_file', 'session', 'another-conversation');
    const { history } = await runToEnd(
      scriptedInput(
        [{ tool_calls: [call('call_1', 'append_file', { path: 'g.txt', content: 'granted' })] }, { content: 'done' }],
        { userId },
      ),
    );
    assert.equal(await readSandboxFile(sandboxDir, 'g.txt', userId), 'granted');
    const counts = scheduled(history);
    assert.equal(counts.loadGrants, undefined, JSON.stringify(counts));
    assert.equal(counts.executeTool, 1);
    // Only the tools this turn calls: read_file is granted too, but not called.
    assert.deepEqual(
      modelResults(history).map((turn) => turn.grants),
      [['append_file'], undefined],
    );
  });

  it('no grants are read for a run whose policy no grant can change', async () => {
    const userId = `u-${randomUUID()}`;
    await grant(userId, 'append_file', 'always');
    const { runId } = await hitl.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'a.txt', content: 'x' })] }], {
        userId,
        tools: ['append_file'],
        // An explicit ask for the run's one tool: a grant never turns it into "allow".
        policy: { enabled: true, mode: 'default', allow: [], deny: [], ask: ['append_file'] },
      }),
    );
    const pending = await hitl.waitForPendingAction(runId, { timeoutMs: 60_000 });
    assert.ok(pending.pendingAction, 'the explicit ask pauses despite the grant');
    const history = await historyOf(runId);
    assert.equal(scheduled(history).loadGrants, undefined);
    assert.deepEqual(
      modelResults(history).map((turn) => turn.grants),
      [undefined],
    );
    await hitl.abort(runId);
  });

  it('a final answer closes the content in the model call: no closeTranscript activity; retention deletes it', async () => {
    const { runId, history } = await runToEnd(scriptedInput([{ content: 'bye' }], { userId: `u-${randomUUID()}` }));
    assert.equal(scheduled(history).closeTranscript, undefined);
    assert.deepEqual(
      modelResults(history).map((turn) => turn.closed),
      [true],
    );
    assert.equal((await hitl.readMessages(runId)).total, 2);
    await deleteExpiredContent(sharedContentStore(), 0, new Date(Date.now() + 1000));
    assert.equal((await hitl.readMessages(runId)).total, 0, 'closed: retention deleted it');
  });

  it('a turn that calls tools closes nothing; the run closes its content when it ends another way', async () => {
    const { runId } = await hitl.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'list_files', {})] }], {
        userId: `u-${randomUUID()}`,
        policy: { enabled: true, mode: 'default', allow: ['list_files'], deny: [], ask: [] },
        maxTurns: 1,
      }),
    );
    const result = await hitl.result(runId);
    assert.equal(result.finishReason, 'max_turns');
    const history = await historyOf(runId);
    assert.deepEqual(
      modelResults(history).map((turn) => turn.closed),
      [undefined],
    );
    assert.equal(scheduled(history).closeTranscript, 1);
  });

  it('when the model call brings neither, the run reads the grants and closes the content itself', async () => {
    withoutExtras = true;
    const userId = `u-${randomUUID()}`;
    await grant(userId, 'append_file', 'always');
    const { runId, history } = await runToEnd(
      scriptedInput(
        [{ tool_calls: [call('call_1', 'append_file', { path: 'f.txt', content: 'fallback' })] }, { content: 'done' }],
        { userId },
      ),
    );
    assert.equal(await readSandboxFile(sandboxDir, 'f.txt', userId), 'fallback', 'the grant applied');
    const counts = scheduled(history);
    assert.equal(counts.loadGrants, 1, JSON.stringify(counts));
    assert.equal(counts.closeTranscript, 1, JSON.stringify(counts));
    await deleteExpiredContent(sharedContentStore(), 0, new Date(Date.now() + 1000));
    assert.equal((await hitl.readMessages(runId)).total, 0, 'closed by the run: retention deleted it');
  });

  it('callModel: a grants read that fails leaves the turn without grants (the call itself succeeds)', async () => {
    const ask = (userId: string) =>
      real.callModel({
        runId: `r-${randomUUID()}`,
        callIndex: 0,
        model: { provider: 'scripted', script: [{ tool_calls: [call('call_1', 'append_file', {})] }] },
        messages: [{ role: 'user', content: 'hi' }],
        tools: ['append_file'],
        grantsFor: { userId, conversationId: 'c1' },
      });
    // A user without grants: the read succeeds, with none.
    assert.deepEqual((await ask(`u-${randomUUID()}`)).grants, []);
    // Refused by loadGrants (an empty user id): the read fails, the turn comes back without `grants`.
    const failed = await ask('');
    assert.deepEqual(
      failed.tool_calls?.map((c) => c.name),
      ['append_file'],
    );
    assert.equal('grants' in failed, false);
  });
});
