// A paused run under more update traffic than Temporal lets one run take (2 000 updates): it continues as
// new while paused, keeping its action and expiry, and stays resolvable by update. The shared test server
// suggests continue-as-new after 120 history events (test/hooks.ts), so here a run hands over every few
// dozen updates; the reliability suite's update-cap scenario runs at the server's default limits.
import assert from 'node:assert/strict';
import { awaitPendingActionUpdate } from '../../src/contracts';
import { MAX_REFUSALS_IN_AUDIT } from '../../src/workflows/generation-run';
import {
  call,
  eventually,
  maybeRecordHistory,
  readSandboxFile,
  scriptedInput,
  startHarness,
  toolMessages,
  waitForPending,
  type Harness,
} from './harness';

/** Temporal's default cap on updates per run (`limit.workflowExecution.maxTotalUpdates`). */
const SERVER_UPDATE_LIMIT = 2000;

/** Runs `count` tasks with at most `width` in flight. */
async function inParallel(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

describe('a paused run under heavy update traffic (real dev server)', function () {
  this.timeout(600_000);
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  it(`more refusals and waits than the server's ${SERVER_UPDATE_LIMIT} updates per run: continued as new, same action, resolved by update`, async () => {
    const refusals = Math.ceil(SERVER_UPDATE_LIMIT * 0.625);
    const waits = Math.ceil(SERVER_UPDATE_LIMIT * 0.625);
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'cap.txt', content: 'once\n' })] }], {
        approvalTtlMs: 60 * 60 * 1000,
      }),
    );
    const pending = await waitForPending(h.client, runId);
    const handle = h.env.client.workflow.getHandle(runId);
    const firstRun = (await handle.describe()).runId;

    let refused = 0;
    let waited = 0;
    await inParallel(refusals + waits, 8, async (i) => {
      if (i % 2 === 0) {
        // A stale action: refused by the handler, so it counts as an update of the run.
        const outcome = await h.client.resolve(runId, {
          actionId: `stale-${i}`,
          approver: 'u1',
          decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
        });
        assert.ok(!outcome.ok);
        assert.equal(outcome.refusal.type, 'StaleAction');
        refused += 1;
      } else {
        const answer = await handle.executeUpdate(awaitPendingActionUpdate, { args: [{ timeoutMs: 1000 }] });
        // Paused: the answer is the action; "ask again" only while the run hands over to the next one.
        if (answer.pendingAction) assert.equal(answer.pendingAction.actionId, pending.actionId);
        waited += 1;
      }
    });
    assert.equal(refused + waited, refusals + waits);

    // The action survived every hand-over unchanged, and the run is still resolvable by update.
    const current = await waitForPending(h.client, runId);
    assert.deepEqual(current, pending);
    const description = await handle.describe();
    assert.notEqual(description.runId, firstRun, 'the run continued as new');
    const runs: string[] = [];
    for await (const execution of h.env.client.workflow.list({ query: `WorkflowId = "${runId}"` })) {
      runs.push(execution.runId);
    }
    assert.ok(runs.length >= 3, `continued as new at least twice (${runs.length} runs)`);

    const outcome = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(result.messages.filter((m) => m.role === 'tool').length, 1, 'the tool ran once');

    // The audit log shows what happened, within its bounds: the latest refusals, the count of the rest.
    const state = await h.client.getRunState(runId);
    const refusedEntries = state.decisions.filter((d) => d.outcome === 'refused');
    assert.equal(refusedEntries.length, MAX_REFUSALS_IN_AUDIT);
    assert.equal(state.decisionsDropped, refusals - MAX_REFUSALS_IN_AUDIT);
    assert.ok(refusedEntries.every((d) => d.refusal?.type === 'StaleAction'));
    assert.deepEqual(
      state.decisions.filter((d) => d.outcome === 'accepted').map((d) => d.actionId),
      [pending.actionId],
    );
  });

  /** `count` refused resolutions (stale action ids), a few at a time. */
  async function flood(runId: string, count: number): Promise<void> {
    await inParallel(count, 6, async (i) => {
      const outcome = await h.client.resolve(runId, { actionId: `stale-${i}`, approver: 'u1', decisions: [] });
      assert.ok(!outcome.ok);
    });
  }

  async function runCount(runId: string): Promise<number> {
    let count = 0;
    for await (const _ of h.env.client.workflow.list({ query: `WorkflowId = "${runId}"` })) count += 1;
    return count;
  }

  it('the expiry timer keeps its time across the hand-over: the run expires when the first run said', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'expire.txt', content: 'x' })] }], {
        approvalTtlMs: 10_000,
      }),
    );
    const pending = await waitForPending(h.client, runId);
    await flood(runId, 150);
    assert.ok((await runCount(runId)) >= 2, 'continued as new while paused');
    assert.deepEqual(await h.client.getPendingAction(runId), pending);
    const result = await h.client.result(runId);
    assert.equal(result.status, 'aborted');
    assert.equal(result.finishReason, 'expired');
    const expiry = (await h.client.getRunState(runId)).decisions.find((d) => d.outcome === 'expired');
    assert.equal(expiry?.actionId, pending.actionId);
    assert.ok(Date.parse(expiry.at) >= Date.parse(pending.expiresAt), 'not before the original expiry');
    assert.ok(Date.parse(expiry.at) < Date.parse(pending.expiresAt) + 30_000, 'and not a whole new TTL later');
  });

  it('a turn continued in its question stage: the approved tool ran once, the answer goes back', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          {
            tool_calls: [
              call('call_1', 'append_file', { path: 'q.txt', content: 'once\n' }),
              call('call_q', 'ask_user_question', { question: 'Which colour?' }),
            ],
          },
          { content: 'thanks' },
        ],
        { tools: ['append_file', 'ask_user_question'] },
      ),
    );
    const approval = await waitForPending(h.client, runId);
    assert.ok(
      (
        await h.client.resolve(runId, {
          actionId: approval.actionId,
          approver: 'u1',
          decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
        })
      ).ok,
    );
    const question = await eventually(async () => {
      const p = await h.client.getPendingAction(runId);
      return p?.payload.type === 'ask_user_question' ? p : undefined;
    }, 'the question');
    const before = await runCount(runId);
    await flood(runId, 150);
    assert.ok((await runCount(runId)) > before, 'continued as new during the question');
    assert.deepEqual(await h.client.getPendingAction(runId), question);
    const answered = await h.client.resolve(runId, { actionId: question.actionId, approver: 'u1', answer: 'teal' });
    assert.ok(answered.ok, JSON.stringify(answered));
    const result = await h.client.result(runId);
    assert.equal(result.finalMessage, 'thanks');
    assert.deepEqual(
      toolMessages(result.messages).map((m) => [m.tool_call_id, m.content]),
      [
        ['call_1', 'Appended 5 bytes to q.txt (now 5 bytes)'],
        ['call_q', JSON.stringify({ answer: 'teal' })],
      ],
    );
    assert.equal(await readSandboxFile(h.sandboxDir, 'q.txt'), 'once\n', 'the approved append ran exactly once');
    // The last run of the chain: it starts from a turn in progress, in its question stage.
    await maybeRecordHistory(h, runId, 'continued-while-paused');
  });
});
