import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { RunNotFoundError } from '../../src/client';
import { awaitPendingActionUpdate, MAX_CONCURRENT_WAITERS, type PendingAction } from '../../src/contracts';
import {
  call,
  eventually,
  maybeRecordHistory,
  readSandboxFile,
  scriptedInput,
  startHarness,
  toolMessages,
  type Harness,
} from './harness';

/** Update `awaitPendingAction`: waiting for a pause without polling (startRunAndWait / waitForPendingAction). */
describe('awaitPendingAction: waiting for the pause without polling', function () {
  this.timeout(120_000);
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  async function historyEventTypes(runId: string): Promise<string[]> {
    const history = await h.env.client.workflow.getHandle(runId).fetchHistory();
    return (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? 'UNKNOWN');
  }

  function approve(pending: PendingAction, toolCallId: string) {
    return h.client.resolve(pending.runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: toolCallId, decision: 'approve' }],
    });
  }

  it('startRunAndWait answers with the first pause in one call, and the run goes on as usual', async () => {
    const started = await h.client.startRunAndWait(
      scriptedInput([
        { tool_calls: [call('call_1', 'append_file', { path: 'wait.txt', content: 'W' })] },
        { content: 'done' },
      ]),
    );
    assert.equal(started.status, 'requires_action');
    assert.ok(started.pendingAction);
    assert.equal(started.pendingAction.runId, started.runId);
    assert.equal(started.pendingAction.payload.type, 'tool_approval');
    // It is the action the query shows: nothing was missed between start and the answer.
    assert.deepEqual(await h.client.getPendingAction(started.runId), started.pendingAction);

    assert.ok((await approve(started.pendingAction, 'call_1')).ok);
    const result = await h.client.result(started.runId);
    assert.equal(result.finalMessage, 'done');
    assert.equal(await readSandboxFile(h.sandboxDir, 'wait.txt'), 'W');
    const events = await historyEventTypes(started.runId);
    // One update for the wait, one for the approval; the wait left no timer (it was answered at once).
    assert.equal(events.filter((t) => t.includes('UPDATE_ACCEPTED')).length, 2);
    await maybeRecordHistory(h, started.runId, 'await-pending');
  });

  it('afterActionId skips the known action and answers with the next one', async () => {
    const started = await h.client.startRunAndWait(
      scriptedInput([
        { tool_calls: [call('call_1', 'append_file', { path: 'next.txt', content: '1' })] },
        { tool_calls: [call('call_2', 'append_file', { path: 'next.txt', content: '2' })] },
        { content: 'done' },
      ]),
    );
    const first = started.pendingAction;
    assert.ok(first);
    // Sent while the first action is still pending: it must wait past it.
    const next = h.client.waitForPendingAction(started.runId, { afterActionId: first.actionId });
    assert.ok((await approve(first, 'call_1')).ok);
    const second = await next;
    assert.equal(second.status, 'requires_action');
    assert.ok(second.pendingAction);
    assert.notEqual(second.pendingAction.actionId, first.actionId);
    assert.ok(second.pendingAction.payload.type === 'tool_approval');
    assert.equal(second.pendingAction.payload.action_requests[0]?.tool_call_id, 'call_2');
    assert.ok((await approve(second.pendingAction, 'call_2')).ok);
    assert.equal((await h.client.result(started.runId)).status, 'completed');
    assert.equal(await readSandboxFile(h.sandboxDir, 'next.txt'), '12');
  });

  it('a run that ends without pausing answers with its final status', async () => {
    const started = await h.client.startRunAndWait(
      scriptedInput([{ tool_calls: [call('call_1', 'list_files', {})] }, { content: 'nothing to ask' }], {
        policy: { enabled: true, allow: ['list_files'] },
      }),
    );
    assert.deepEqual(
      { status: started.status, pendingAction: started.pendingAction },
      {
        status: 'completed',
        pendingAction: null,
      },
    );
    // After the end the same wait still answers (the closed run is described, not updated).
    assert.deepEqual(await h.client.waitForPendingAction(started.runId), { status: 'completed', pendingAction: null });
  });

  it('a waiter is answered "aborted" when the run is cancelled, and "aborted" when the approval expires', async () => {
    const started = await h.client.startRunAndWait(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'never.txt', content: 'X' })] }]),
    );
    assert.ok(started.pendingAction);
    const waiting = h.client.waitForPendingAction(started.runId, { afterActionId: started.pendingAction.actionId });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await h.client.abort(started.runId);
    assert.deepEqual(await waiting, { status: 'aborted', pendingAction: null });
    assert.equal((await h.client.result(started.runId)).finishReason, 'cancelled');

    const expiring = await h.client.startRunAndWait(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'never.txt', content: 'X' })] }], {
        approvalTtlMs: 1500,
      }),
    );
    assert.ok(expiring.pendingAction);
    const expiry = await h.client.waitForPendingAction(expiring.runId, {
      afterActionId: expiring.pendingAction.actionId,
    });
    assert.deepEqual(expiry, { status: 'aborted', pendingAction: null });
    assert.equal((await h.client.result(expiring.runId)).finishReason, 'expired');
    assert.equal(await readSandboxFile(h.sandboxDir, 'never.txt'), undefined);
  });

  it('a wait that times out answers "not yet" and leaves the run resolvable, with no update left in flight', async () => {
    const started = await h.client.startRunAndWait(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'late.txt', content: 'L' })] }, {}]),
    );
    assert.ok(started.pendingAction);
    const before = Date.now();
    const answer = await h.client.waitForPendingAction(started.runId, {
      afterActionId: started.pendingAction.actionId,
      timeoutMs: 1200,
    });
    assert.deepEqual(answer, { status: 'requires_action', pendingAction: null });
    assert.ok(Date.now() - before >= 1000, 'the run held the update until the timeout');
    assert.ok((await approve(started.pendingAction, 'call_1')).ok);
    assert.equal((await h.client.result(started.runId)).status, 'completed');
    const events = await historyEventTypes(started.runId);
    assert.ok(
      events.some((t) => t.includes('TIMER_FIRED')),
      'the wait was bounded by a timer in the run',
    );
    const accepted = events.filter((t) => t.includes('UPDATE_ACCEPTED')).length;
    assert.equal(accepted, 3, 'start wait, timed-out wait, approval');
    assert.equal(events.filter((t) => t.includes('UPDATE_COMPLETED')).length, accepted, 'every update answered');
  });

  it('a run that continues as new before it pauses: the wait follows it to the new run', async () => {
    // Allowed appends write plenty of history; the run continues as new before the asked call.
    const turns = 20;
    const script = [
      ...Array.from({ length: turns }, (_, n) => ({
        tool_calls: [call(`call_${n}`, 'append_file', { path: 'can.txt', content: `${n}\n` })],
      })),
      { tool_calls: [call('call_delete', 'delete_file', { path: 'can.txt' })] },
      { content: 'finished' },
    ];
    const started = await h.client.startRunAndWait(
      scriptedInput(script, { maxTurns: turns + 2, policy: { enabled: true, allow: ['append_file'] } }),
    );
    assert.equal(started.status, 'requires_action');
    assert.ok(started.pendingAction?.payload.type === 'tool_approval');
    assert.equal(started.pendingAction.payload.action_requests[0]?.tool_call_id, 'call_delete');
    const description = await h.env.client.workflow.getHandle(started.runId).describe();
    const firstRunId = description.raw.workflowExecutionInfo?.firstRunId;
    assert.ok(firstRunId, 'the server reports the first run of the chain');
    assert.notEqual(description.runId, firstRunId, 'the run continued as new before it paused');
    assert.ok((await approve(started.pendingAction, 'call_delete')).ok);
    const result = await h.client.result(started.runId);
    assert.equal(result.finalMessage, 'finished');
    assert.equal(toolMessages((await h.client.readMessages(started.runId)).messages).length, turns + 1);
  });

  it('holds at most MAX_CONCURRENT_WAITERS waiters, so resolveAction always finds room; more are told to poll', async () => {
    const started = await h.client.startRunAndWait(
      scriptedInput([
        { tool_calls: [call('call_1', 'append_file', { path: 'crowd.txt', content: '1' })] },
        { tool_calls: [call('call_2', 'append_file', { path: 'crowd.txt', content: '2' })] },
        { content: 'done' },
      ]),
    );
    const first = started.pendingAction;
    assert.ok(first);
    const waits = Array.from({ length: MAX_CONCURRENT_WAITERS }, () =>
      h.client.waitForPendingAction(started.runId, { afterActionId: first.actionId }),
    );
    // All of them are held by the run (accepted, not answered) before the next one comes.
    await eventually(
      async () =>
        (await historyEventTypes(started.runId)).filter((t) => t.includes('UPDATE_ACCEPTED')).length ===
        MAX_CONCURRENT_WAITERS + 1,
      'every waiter accepted',
    );
    const extra = await h.env.client.workflow
      .getHandle(started.runId)
      .executeUpdate(awaitPendingActionUpdate, { args: [{ afterActionId: first.actionId }] });
    assert.deepEqual(extra, { status: 'requires_action', pendingAction: null, busy: true });
    const polling = h.client.waitForPendingAction(started.runId, { afterActionId: first.actionId });
    assert.ok((await approve(first, 'call_1')).ok, 'the approval is accepted while the waiters are held');
    const answers = await Promise.all([...waits, polling]);
    const next = answers[0]?.pendingAction;
    assert.ok(next);
    assert.notEqual(next.actionId, first.actionId);
    for (const answer of answers) assert.deepEqual(answer, { status: 'requires_action', pendingAction: next });
    assert.ok((await approve(next, 'call_2')).ok);
    assert.equal((await h.client.result(started.runId)).status, 'completed');
    assert.equal(await readSandboxFile(h.sandboxDir, 'crowd.txt'), '12');
  });

  it('an unknown run is RunNotFoundError; a malformed request is refused before it reaches history', async () => {
    await assert.rejects(h.client.waitForPendingAction('run-that-does-not-exist'), RunNotFoundError);

    const started = await h.client.startRunAndWait(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'x.txt', content: 'x' })] }]),
    );
    const handle = h.env.client.workflow.getHandle(started.runId);
    for (const bad of [{ afterActionId: 5 }, { timeoutMs: -1 }, { timeoutMs: 10 * 60 * 1000 + 1 }, { other: true }]) {
      await assert.rejects(
        handle.executeUpdate(awaitPendingActionUpdate, { args: [bad as never] }),
        (error: unknown) =>
          error instanceof WorkflowUpdateFailedError &&
          error.cause instanceof ApplicationFailure &&
          error.cause.type === 'InvalidInput',
      );
    }
    const events = await historyEventTypes(started.runId);
    assert.equal(events.filter((t) => t.includes('UPDATE_ACCEPTED')).length, 1, 'only the start wait was accepted');
    await h.client.abort(started.runId);
  });
});
