// An operator's reset (`temporal workflow reset`, the Web UI's Reset): the run goes on from an earlier
// workflow task as a new run of the same workflow id, and what it runs again may now give other results. Its
// transcript, kept in the content store, must follow the new branch (before the fork, the first step that
// stored something else failed the new run with TranscriptConflict).
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { userSandboxDir } from '../../src/activities';
import { TRANSCRIPT_KEY_MEMO_KEY, type InlineRunInput } from '../../src/contracts';
import type { History } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { chainHistories, workflowTaskFailures } from '../../src/dev/history';
import { SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS } from '../hooks';
import {
  call,
  contentClosedAt,
  maybeRecordHistory,
  scriptedInput,
  startHarness,
  waitForPending,
  type Harness,
} from './harness';

describe('reset of a run that keeps its transcript in the content store (real dev server)', function () {
  this.timeout(180_000);
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  /** A run of `reads` turns that each read note.txt (allowed), then a final answer; returns when it completed. */
  async function readingRun(reads: number): Promise<string> {
    const folder = userSandboxDir(h.sandboxDir, 'u1');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'note.txt'), 'before the reset');
    const script: Extract<InlineRunInput['model'], { provider: 'scripted' }>['script'] = [
      ...Array.from({ length: reads }, (_, n) => ({
        tool_calls: [call(`read_${n}`, 'read_file', { path: 'note.txt' })],
      })),
      { content: 'read it' },
    ];
    const { runId } = await h.client.startRun(
      scriptedInput(script, { maxTurns: reads + 1, policy: { enabled: true, allow: ['read_file'] } }),
    );
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    await writeFile(join(folder, 'note.txt'), 'after the reset');
    return runId;
  }

  /**
   * Resets a run of the chain (default: the current one) to its first workflow task, through Temporal's API
   * as the CLI and the Web UI call it.
   */
  async function resetToFirstTask(
    runId: string,
    which: 'current' | 'first' = 'current',
  ): Promise<{ baseRunId: string; resetRunId: string }> {
    const client = h.env.client;
    const description = await client.workflow.getHandle(runId).describe();
    const baseRunId = which === 'first' ? description.raw.workflowExecutionInfo!.firstRunId! : description.runId;
    const history = await client.workflow.getHandle(runId, baseRunId).fetchHistory();
    const firstTask = history.events!.find((e) => e.workflowTaskCompletedEventAttributes)!;
    const resetRunId = await resetAt(runId, baseRunId, firstTask.eventId, 'the first workflow task');
    return { baseRunId, resetRunId };
  }

  /** Resets run `baseRunId` of workflow `runId` to the workflow task that completed at `eventId`. */
  async function resetAt(
    runId: string,
    baseRunId: string,
    eventId: temporal.api.history.v1.IHistoryEvent['eventId'],
    where: string,
  ): Promise<string> {
    const client = h.env.client;
    const { runId: resetRunId } = await client.workflowService.resetWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId: runId, runId: baseRunId },
      reason: `test: reset to ${where}`,
      workflowTaskFinishEventId: eventId,
      requestId: `reset-${runId}-${String(eventId)}`,
    });
    assert.ok(resetRunId && resetRunId !== baseRunId);
    return resetRunId;
  }

  /** Decides the one call `w1` of the run's pending action. */
  async function decideW1(runId: string, actionId: string, decision: 'approve' | 'reject'): Promise<void> {
    const outcome = await h.client.resolve(runId, {
      actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'w1', decision }],
    });
    assert.ok(outcome.ok, JSON.stringify(outcome));
  }

  /**
   * A run that asks before it writes `file`, is approved and ends (4 entries in the chain's key), then is reset
   * to the workflow task that paused: the new run replays the first model call (2 entries stored) and pauses
   * again, writing nothing, so it has not forked and the chain's key still holds the old branch.
   */
  async function completedRunResetToItsPause(file: string): Promise<{
    runId: string;
    resetRunId: string;
    again: Awaited<ReturnType<typeof waitForPending>>;
    before: Awaited<ReturnType<Harness['client']['readMessages']>>;
  }> {
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('w1', 'write_file', { path: file, content: file })] }, { content: 'done' }], {
        maxTurns: 2,
      }),
    );
    const first = await waitForPending(h.client, runId);
    await decideW1(runId, first.actionId, 'approve');
    assert.equal((await h.client.result(runId)).status, 'completed');
    const before = await h.client.readMessages(runId);
    assert.equal(before.total, 4);
    const client = h.env.client;
    const history = await client.workflow.getHandle(runId).fetchHistory();
    const modelDone = history.events!.find((e) => e.activityTaskCompletedEventAttributes)!;
    const pausingTask = history.events!.find(
      (e) => e.workflowTaskCompletedEventAttributes && Number(e.eventId) > Number(modelDone.eventId),
    )!;
    const baseRunId = (await client.workflow.getHandle(runId).describe()).runId;
    const resetRunId = await resetAt(runId, baseRunId, pausingTask.eventId, 'the pause');
    const again = await waitForPending(h.client, runId);
    assert.notEqual(again.actionId, first.actionId);
    return { runId, resetRunId, again, before };
  }

  /** Failed workflow tasks but the one a reset records (the reason it was reset). */
  function failuresOtherThanReset(histories: History[]): string[] {
    const reset = temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW;
    return workflowTaskFailures(histories).filter((failure) => !failure.startsWith(`${reset}: `));
  }

  async function toolContents(runId: string): Promise<string[]> {
    const page = await h.client.readMessages(runId, { fromSeq: 0 });
    return page.messages.flatMap((m) => (m.role === 'tool' ? [m.content] : []));
  }

  it('a tool that now reads other data: the new run forks its transcript, completes, and readers see the new branch', async () => {
    const runId = await readingRun(1);
    assert.deepEqual(await toolContents(runId), ['before the reset']);
    const { baseRunId, resetRunId } = await resetToFirstTask(runId);

    // The reset run is the workflow's current run: the client's result is its.
    const again = await h.client.result(runId);
    assert.equal(again.status, 'completed');
    assert.equal(again.finalMessage, 'read it');
    const description = await h.env.client.workflow.getHandle(runId).describe();
    const branch = `${runId}/${resetRunId}`;
    assert.equal(description.memo?.[TRANSCRIPT_KEY_MEMO_KEY], branch);
    // The client follows the memo: the whole transcript is the new branch's.
    assert.deepEqual(await toolContents(runId), ['after the reset']);
    const page = await h.client.readMessages(runId, { fromSeq: 0 });
    assert.deepEqual(
      page.messages.map((m) => m.role),
      ['user', 'assistant', 'tool', 'assistant'],
    );
    // Both keys end closed: the branch the run went on with, and the one it left (retention deletes both).
    const chainKey = `${runId}/${baseRunId}`;
    for (const [key, at] of [branch, chainKey].map((k, i) => [k, contentClosedAt([branch, chainKey])[i]] as const)) {
      assert.ok(typeof at === 'number', `${key} is closed`);
    }
    assert.deepEqual(failuresOtherThanReset(await chainHistories(h.env.client, runId, resetRunId)), []);
    // The reset run's history (its fork included) is a replay fixture: test/workflow/replay.test.ts.
    await maybeRecordHistory(h, runId, 'reset-forked-transcript');
  });

  it('a reset run that has not forked yet: readers see its own entries, not the branch the reset left', async () => {
    const { runId, resetRunId, again, before } = await completedRunResetToItsPause('a.txt');
    const client = h.env.client;
    const description = await client.workflow.getHandle(runId).describe();
    assert.equal(description.runId, resetRunId);
    assert.equal(description.memo?.[TRANSCRIPT_KEY_MEMO_KEY], undefined, 'not forked');
    const state = await h.client.getRunState(runId);
    assert.equal(state.messagesStored, 2);

    // Before the fix the reader listed the old branch's tool result and final answer too (total 4).
    const page = await h.client.readMessages(runId);
    assert.equal(page.total, 2);
    assert.deepEqual(
      page.messages.map((m) => m.role),
      ['user', 'assistant'],
    );
    assert.equal(page.nextSeq, 2);
    assert.deepEqual((await h.client.readMessages(runId, { fromSeq: 2 })).messages, []);

    // Rejected this time: the run writes another branch, forks, and readers follow the fork.
    await decideW1(runId, again.actionId, 'reject');
    assert.equal((await h.client.result(runId)).status, 'completed');
    const after = await h.client.readMessages(runId);
    assert.equal(after.total, 4);
    assert.equal(after.messages[2]?.role, 'tool');
    assert.notDeepEqual(after.messages[2], before.messages[2], 'the rejection, not the old branch’s result');
  });

  it('a reset run that continues as new while paused, before it forks: readers still see its own entries', async () => {
    // As above: a completed run (4 entries) reset to its pause, so the chain's key holds the old branch.
    const { runId, resetRunId, again } = await completedRunResetToItsPause('b.txt');
    const client = h.env.client;

    // Waiters grow the paused run's history until the server suggests continue-as-new: the run hands the
    // pause over to a new run, still without having written anything.
    let current = resetRunId;
    for (let n = 0; n < SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS && current === resetRunId; n += 1) {
      const wait = await h.client.waitForPendingAction(runId, { timeoutMs: 5_000 });
      assert.equal(wait.pendingAction?.actionId ?? again.actionId, again.actionId);
      current = (await client.workflow.getHandle(runId).describe()).runId;
    }
    assert.notEqual(current, resetRunId, 'the reset run continued as new while paused');
    // The reset run's history: the patch marker, then continue-as-new with the memo.
    await maybeRecordHistory(h, runId, 'reset-continued-not-forked', resetRunId);
    const description = await client.workflow.getHandle(runId).describe();
    assert.equal(description.memo?.[TRANSCRIPT_KEY_MEMO_KEY], undefined, 'not forked');
    assert.equal((await waitForPending(h.client, runId)).actionId, again.actionId, 'the same pause');

    const page = await h.client.readMessages(runId);
    assert.equal(page.total, 2, 'the old branch’s tool result and answer are not this run’s');
    assert.deepEqual(
      page.messages.map((m) => m.role),
      ['user', 'assistant'],
    );

    // Rejected: the continued run forks, completes, and readers follow the fork.
    await decideW1(runId, again.actionId, 'reject');
    assert.equal((await h.client.result(runId)).status, 'completed');
    const after = await h.client.readMessages(runId);
    assert.equal(after.total, 4);
    assert.equal(after.messages[3]?.role, 'assistant');
  });

  it('a forked run that continues as new keeps its transcript key in the next run', async () => {
    // Enough turns that the test server suggests continue-as-new (test/hooks.ts): the first run continued as
    // new, and so does the run that resets it, after its fork (its first tool result differs).
    const reads = 14;
    const runId = await readingRun(reads);
    const { resetRunId } = await resetToFirstTask(runId, 'first');
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    const histories = await chainHistories(h.env.client, runId, resetRunId);
    assert.ok(histories.length > 1, 'the reset run continued as new');
    assert.deepEqual(failuresOtherThanReset(histories), []);
    const description = await h.env.client.workflow.getHandle(runId).describe();
    assert.notEqual(description.runId, resetRunId);
    assert.equal(description.memo?.[TRANSCRIPT_KEY_MEMO_KEY], `${runId}/${resetRunId}`, 'carried, not forked again');
    assert.deepEqual(
      await toolContents(runId),
      Array.from({ length: reads }, () => 'after the reset'),
    );
  });
});
