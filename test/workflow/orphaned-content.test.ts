// Runs that end without running their own code (an operator's terminate, a reset's old run, a start that
// failed after the client staged its conversation) never mark their content closed, so retention never deleted
// it. The worker's sweep asks Temporal which workflows still run and closes the rest.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { runningGenerationRunsQuery, temporalRunLiveness } from '../../src/client';
import { closeOrphanedContent, deleteExpiredContent, sharedContentStore } from '../../src/content-store';
import {
  call,
  contentClosedAt,
  eventually,
  scriptedInput,
  startHarness,
  waitForPending,
  type Harness,
} from './harness';

describe('content of runs that ended without closing it (real dev server)', function () {
  this.timeout(120_000);
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  /** A run paused on an approval; returns its workflow id and transcript key. */
  async function pausedRun(): Promise<{ runId: string; transcriptKey: string }> {
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('a1', 'append_file', { path: 'r.txt', content: 'x' })] }]),
    );
    await waitForPending(h.client, runId);
    const description = await h.env.client.workflow.getHandle(runId).describe();
    return { runId, transcriptKey: `${runId}/${description.raw.workflowExecutionInfo!.firstRunId!}` };
  }

  it('a terminated run’s content is closed by the sweep and then deleted; a paused run’s is kept', async () => {
    const store = sharedContentStore();
    const paused = await pausedRun();
    const terminated = await pausedRun();
    await h.env.client.workflow.getHandle(terminated.runId).terminate('test: an operator ends the run');
    assert.deepEqual(contentClosedAt([terminated.transcriptKey]), [null], 'a terminated run does not close it');

    // Visibility names the running one among the ids asked (it may lag: wait for the terminated one to go).
    const liveness = temporalRunLiveness(h.env.client);
    const ids = [paused.runId, terminated.runId, `quote'd-${paused.runId}`];
    const listed = await eventually(async () => {
      const running = await liveness.runningAmong(ids);
      return running.has(paused.runId) && !running.has(terminated.runId) ? running : undefined;
    }, 'visibility to list the paused run only');
    assert.deepEqual([...listed], [paused.runId]);

    const result = await closeOrphanedContent(store, liveness, { graceMs: 0 });
    assert.ok(result.closed >= 1, JSON.stringify(result));
    const [terminatedAt, pausedAt] = contentClosedAt([terminated.transcriptKey, paused.transcriptKey]);
    assert.equal(typeof terminatedAt, 'number');
    assert.equal(pausedAt, null, 'the paused run’s content stays open');

    // Retention 0, as seen a second from now: the terminated run's transcript goes, the paused one's stays.
    await deleteExpiredContent(store, 0, new Date(Date.now() + 1000));
    assert.equal((await h.client.readMessages(terminated.runId)).total, 0);
    assert.equal((await h.client.readMessages(paused.runId)).total, 2);
    // The paused run goes on, and closes its content itself when it ends.
    await h.client.abort(paused.runId);
    assert.equal((await h.client.result(paused.runId)).status, 'aborted');
    assert.equal(typeof contentClosedAt([paused.transcriptKey])[0], 'number');
  });

  it('the listing names workflow ids as query literals, and leaves out those it cannot quote', () => {
    assert.equal(
      runningGenerationRunsQuery(['conv-1', 'tenant/conv 2', `it's`, 'back\\slash', 'new\nline']),
      "WorkflowType = 'generationRun' AND ExecutionStatus = 'Running' AND WorkflowId IN ('conv-1', 'tenant/conv 2')",
    );
    assert.equal(runningGenerationRunsQuery([`it's`]), undefined);
  });

  it('a conversation staged for a start that never happened is closed', async () => {
    const store = sharedContentStore();
    const workflowId = `never-started-${randomUUID()}`;
    await store.put(workflowId, JSON.stringify([{ role: 'user', content: 'a long conversation' }]));
    const liveness = temporalRunLiveness(h.env.client);
    assert.equal(await liveness.isRunning(workflowId), false);

    await closeOrphanedContent(store, liveness, { graceMs: 0 });
    assert.equal(typeof contentClosedAt([workflowId])[0], 'number');
  });
});
