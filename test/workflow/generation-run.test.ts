import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { InvalidRunInputError } from '../../src/client';
import { resolveActionSignal } from '../../src/contracts';
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

describe('generationRun (real dev server)', function () {
  this.timeout(60_000);
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  it('asks, pauses, runs the approved tool exactly once, and completes', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput([
        { content: 'Appending.', tool_calls: [call('call_1', 'append_file', { path: 'log.txt', content: 'A\n' })] },
        { content: 'All done.' },
      ]),
    );
    const pending = await waitForPending(h.client, runId);
    assert.equal(pending.payload.type, 'tool_approval');
    assert.equal(pending.runId, runId);
    assert.equal(pending.userId, 'u1');
    assert.deepEqual(pending.payload.type === 'tool_approval' ? pending.payload.review_configs : [], [
      {
        tool_call_id: 'call_1',
        action_name: 'append_file',
        allowed_decisions: ['approve', 'reject', 'edit', 'respond'],
      },
    ]);
    assert.equal((await h.client.getRunState(runId)).status, 'requires_action');
    assert.equal(await readSandboxFile(h.sandboxDir, 'log.txt'), undefined, 'nothing ran before approval');

    const outcome = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    assert.deepEqual(outcome, { ok: true, result: { actionId: pending.actionId, status: 'running', decidedBy: 'u1' } });

    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(result.finishReason, 'final_answer');
    assert.equal(result.finalMessage, 'All done.');
    assert.equal(await readSandboxFile(h.sandboxDir, 'log.txt'), 'A\n');
    const [tool] = toolMessages(result.messages);
    assert.equal(tool?.status, 'success');
    assert.equal(tool?.tool_call_id, 'call_1');
    const state = await h.client.getRunState(runId);
    assert.equal(state.status, 'completed');
    assert.equal(state.decisions.filter((d) => d.outcome === 'accepted').length, 1);
    await maybeRecordHistory(h, runId, 'approve-once');
  });

  it('rejects with and without a reason: Blocked messages go back, nothing runs', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          {
            tool_calls: [
              call('call_1', 'delete_file', { path: 'a.txt' }),
              call('call_2', 'delete_file', { path: 'b.txt' }),
              call('call_3', 'write_file', { path: 'c.txt', content: 'c' }),
            ],
          },
        ],
        { policy: { enabled: true, ask: ['write_file'], reason: 'Policy says {tool} needs a human' } },
      ),
    );
    const pending = await waitForPending(h.client, runId);
    const outcome = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [
        { tool_call_id: 'call_1', decision: 'reject', reason: 'too risky' },
        { tool_call_id: 'call_2', decision: 'reject' },
        { tool_call_id: 'call_3', decision: 'reject' },
      ],
    });
    assert.ok(outcome.ok);
    const result = await h.client.result(runId);
    const tools = toolMessages(result.messages);
    assert.deepEqual(
      tools.map((t) => [t.tool_call_id, t.status, t.content]),
      [
        ['call_1', 'error', 'Blocked: too risky'],
        ['call_2', 'error', 'Blocked: Policy says delete_file needs a human'],
        ['call_3', 'error', 'Blocked: Policy says write_file needs a human'],
      ],
    );
    assert.equal(await readSandboxFile(h.sandboxDir, 'c.txt'), undefined);

    const bare = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'delete_file', { path: 'a' })] }]),
    );
    const p2 = await waitForPending(h.client, bare.runId);
    await h.client.resolve(bare.runId, {
      actionId: p2.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'reject' }],
    });
    const r2 = await h.client.result(bare.runId);
    assert.equal(toolMessages(r2.messages)[0]?.content, 'Blocked: Rejected by user');
    await maybeRecordHistory(h, runId, 'reject');
  });

  it('edit runs the tool with the edited arguments; invalid edited arguments become an error message', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput([
        {
          tool_calls: [
            call('call_1', 'write_file', { path: 'orig.txt', content: 'x' }),
            call('call_2', 'write_file', { path: 'other.txt', content: 'y' }),
          ],
        },
      ]),
    );
    const pending = await waitForPending(h.client, runId);
    const outcome = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [
        { tool_call_id: 'call_1', decision: 'edit', editedArguments: { path: 'edited.txt', content: 'edited' } },
        { tool_call_id: 'call_2', decision: 'edit', editedArguments: { path: 42 } },
      ],
    });
    assert.ok(outcome.ok);
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(await readSandboxFile(h.sandboxDir, 'edited.txt'), 'edited');
    assert.equal(await readSandboxFile(h.sandboxDir, 'orig.txt'), undefined);
    assert.equal(await readSandboxFile(h.sandboxDir, 'other.txt'), undefined);
    const [first, second] = toolMessages(result.messages);
    assert.equal(first?.status, 'success');
    assert.equal(second?.status, 'error');
    assert.match(second?.content ?? '', /Invalid arguments/);
    await maybeRecordHistory(h, runId, 'edit');
  });

  it('respond turns the text into a successful tool result without running the tool', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'r.txt', content: 'no' })] }]),
    );
    const pending = await waitForPending(h.client, runId);
    await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'respond', responseText: 'Skip it, it is already gone.' }],
    });
    const result = await h.client.result(runId);
    assert.deepEqual(
      toolMessages(result.messages).map((t) => [t.status, t.content]),
      [['success', 'Skip it, it is already gone.']],
    );
    assert.equal(await readSandboxFile(h.sandboxDir, 'r.txt'), undefined);
    await maybeRecordHistory(h, runId, 'respond');
  });

  it('a batch with deny + allow + two asks of one tool: one pause, allowed sibling ran exactly once, call order kept', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          {
            tool_calls: [
              call('call_1', 'append_file', { path: 'batch/ask1.txt', content: '1' }),
              call('call_2', 'delete_file', { path: 'x' }),
              call('call_3', 'write_file', { path: 'batch/allowed.txt', content: 'allowed' }),
              call('call_4', 'append_file', { path: 'batch/ask2.txt', content: '2' }),
            ],
          },
          { tool_calls: [call('call_5', 'read_file', { path: 'batch/allowed.txt' })] },
          { content: 'finished' },
        ],
        {
          policy: { enabled: true, deny: ['delete_*'], allow: ['write_file', 'read_file', 'list_files'] },
        },
      ),
    );
    const pending = await waitForPending(h.client, runId);
    assert.equal(pending.payload.type, 'tool_approval');
    if (pending.payload.type !== 'tool_approval') return;
    assert.deepEqual(
      pending.payload.action_requests.map((r) => [r.tool_call_id, r.name, r.arguments]),
      [
        ['call_1', 'append_file', { path: 'batch/ask1.txt', content: '1' }],
        ['call_4', 'append_file', { path: 'batch/ask2.txt', content: '2' }],
      ],
    );
    // The allowed sibling already ran while the batch waits.
    assert.equal(await readSandboxFile(h.sandboxDir, 'batch/allowed.txt'), 'allowed');

    await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [
        { tool_call_id: 'call_1', decision: 'approve' },
        { tool_call_id: 'call_4', decision: 'approve' },
      ],
    });
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(await readSandboxFile(h.sandboxDir, 'batch/ask1.txt'), '1');
    assert.equal(await readSandboxFile(h.sandboxDir, 'batch/ask2.txt'), '2');
    const tools = toolMessages(result.messages);
    assert.deepEqual(
      tools.map((t) => [t.tool_call_id, t.status]),
      [
        ['call_1', 'success'],
        ['call_2', 'error'],
        ['call_3', 'success'],
        ['call_4', 'success'],
        ['call_5', 'success'],
      ],
    );
    assert.match(tools[1]?.content ?? '', /^Blocked: /);
    // Exactly-once of the allowed sibling: the tool executions in history, not log lines.
    const history = await h.env.client.workflow.getHandle(runId).fetchHistory();
    const scheduledTools = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'executeTool');
    assert.equal(scheduledTools.length, 4, 'call_1, call_3, call_4, call_5 each scheduled once');
    await maybeRecordHistory(h, runId, 'batch-deny-allow-ask');
  });

  it('refuses partial decisions with UndecidedToolCalls, stays paused, then resolves correctly', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput([
        {
          tool_calls: [
            call('call_1', 'append_file', { path: 'p1.txt', content: '1' }),
            call('call_2', 'append_file', { path: 'p2.txt', content: '2' }),
          ],
        },
      ]),
    );
    const pending = await waitForPending(h.client, runId);
    const partial = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    assert.deepEqual(partial, {
      ok: false,
      refusal: {
        type: 'UndecidedToolCalls',
        message: 'No decision for call_2',
        details: { tool_call_ids: ['call_2'] },
      },
    });
    assert.equal((await h.client.getPendingAction(runId))?.actionId, pending.actionId);
    assert.equal(await readSandboxFile(h.sandboxDir, 'p1.txt'), undefined);
    const full = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [
        { tool_call_id: 'call_1', decision: 'approve' },
        { tool_call_id: 'call_2', decision: 'reject' },
      ],
    });
    assert.ok(full.ok);
    await h.client.result(runId);
    assert.equal(await readSandboxFile(h.sandboxDir, 'p1.txt'), '1');
    assert.equal(await readSandboxFile(h.sandboxDir, 'p2.txt'), undefined);
    const refused = (await h.client.getRunState(runId)).decisions.filter((d) => d.outcome === 'refused');
    assert.deepEqual(
      refused.map((d) => [d.via, d.approver, d.refusal?.type]),
      [['update', 'u1', 'UndecidedToolCalls']],
    );
    await maybeRecordHistory(h, runId, 'partial-then-full');
  });

  it('refuses with every typed error of the wire contract, and the run can still be resolved', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          { tool_calls: [call('call_1', 'append_file', { path: 'e1.txt', content: '1' })] },
          { tool_calls: [call('call_2', 'append_file', { path: 'e2.txt', content: '2' })] },
        ],
        { approvers: ['u1', 'boss'] },
      ),
    );
    const first = await waitForPending(h.client, runId);
    const approve = (actionId: string, id: string, approver = 'u1') => ({
      actionId,
      approver,
      decisions: [{ tool_call_id: id, decision: 'approve' as const }],
    });
    const refusalType = async (resolution: unknown) => {
      const outcome = await h.client.resolve(runId, resolution as never);
      assert.ok(!outcome.ok, `expected a refusal for ${JSON.stringify(resolution)}`);
      return outcome.refusal.type;
    };
    assert.equal(await refusalType({ actionId: first.actionId }), 'InvalidResolution');
    assert.equal(await refusalType(approve(first.actionId, 'call_1', 'mallory')), 'NotAuthorized');
    assert.equal(await refusalType(approve('not-an-action', 'call_1')), 'StaleAction');
    assert.equal(await refusalType(approve(first.actionId, 'call_9')), 'DecisionNotPermitted');
    assert.equal(
      await refusalType({
        actionId: first.actionId,
        approver: 'u1',
        decisions: [{ tool_call_id: 'call_1', decision: 'edit' }],
      }),
      'IncompleteDecision',
    );
    assert.equal(
      await refusalType({
        actionId: first.actionId,
        approver: 'u1',
        decisions: [{ tool_call_id: 'call_1', decision: 'respond', responseText: '' }],
      }),
      'IncompleteDecision',
    );
    assert.equal(await refusalType({ actionId: first.actionId, approver: 'u1', decisions: [] }), 'UndecidedToolCalls');
    assert.ok((await h.client.resolve(runId, approve(first.actionId, 'call_1', 'boss'))).ok);
    assert.equal(await refusalType(approve(first.actionId, 'call_1')), 'AlreadyResolved');
    const second = await eventually(async () => {
      const p = await h.client.getPendingAction(runId);
      return p && p.actionId !== first.actionId ? p : undefined;
    }, 'the second pending action');
    assert.equal(await refusalType(approve(first.actionId, 'call_1')), 'AlreadyResolved');
    assert.ok((await h.client.resolve(runId, approve(second.actionId, 'call_2'))).ok);
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(await readSandboxFile(h.sandboxDir, 'e1.txt'), '1');
    assert.equal(await readSandboxFile(h.sandboxDir, 'e2.txt'), '2');
    const done = await h.client.resolve(runId, approve(second.actionId, 'call_2'));
    assert.ok(!done.ok);
    // After the run closed Temporal itself refuses; the client reports it as "not paused".
    assert.equal(done.refusal.type, 'NoPendingAction');
    await maybeRecordHistory(h, runId, 'refusals');
  });

  it('NoPendingAction while the run is busy, ActionExpired after expiry', async () => {
    // onExpiry "reject" keeps the run going, so the expired action can be addressed afterwards.
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          { tool_calls: [call('call_1', 'append_file', { path: 'x1.txt', content: '1' })] },
          { tool_calls: [call('call_2', 'append_file', { path: 'x2.txt', content: '2' })] },
        ],
        { approvalTtlMs: 1000, onExpiry: 'reject' },
      ),
    );
    const first = await waitForPending(h.client, runId);
    const second = await eventually(async () => {
      const p = await h.client.getPendingAction(runId);
      return p && p.actionId !== first.actionId ? p : undefined;
    }, 'the second pending action after the first expired');
    const late = await h.client.resolve(runId, {
      actionId: first.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    assert.ok(!late.ok);
    assert.equal(late.refusal.type, 'ActionExpired');
    const result = await h.client.result(runId);
    assert.ok(second.actionId);
    assert.equal(result.status, 'completed');
    assert.deepEqual(
      toolMessages(result.messages).map((t) => t.content),
      ['Blocked: Approval expired before a decision was made', 'Blocked: Approval expired before a decision was made'],
    );
    assert.equal(await readSandboxFile(h.sandboxDir, 'x1.txt'), undefined);

    // NoPendingAction: a run that is not paused (here: it already answered without tools and is closing).
    const busy = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'y.txt', content: 'y' })] }], {
        approvers: ['u1'],
      }),
    );
    const p = await waitForPending(h.client, busy.runId);
    await h.client.resolve(busy.runId, {
      actionId: p.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    const notPaused = await h.client.resolve(busy.runId, { actionId: 'act-x', approver: 'u1', decisions: [] });
    assert.ok(!notPaused.ok);
    assert.equal(notPaused.refusal.type, 'NoPendingAction');
    await h.client.result(busy.runId);
    await maybeRecordHistory(h, runId, 'expiry-reject');
  });

  it('expiry with onExpiry "abort" ends the run aborted with the documented reason', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'ab.txt', content: '1' })] }], {
        approvalTtlMs: 1000,
      }),
    );
    const pending = await waitForPending(h.client, runId);
    const result = await h.client.result(runId);
    assert.equal(result.status, 'aborted');
    assert.equal(result.finishReason, 'expired');
    assert.equal(result.reason, 'Approval expired before a decision was made');
    const state = await h.client.getRunState(runId);
    assert.equal(state.status, 'aborted');
    assert.deepEqual(
      state.decisions.map((d) => [d.via, d.outcome, d.actionId]),
      [['expiry', 'expired', pending.actionId]],
    );
    const late = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    assert.ok(!late.ok);
    assert.equal(await readSandboxFile(h.sandboxDir, 'ab.txt'), undefined);
    await maybeRecordHistory(h, runId, 'expiry-abort');
  });

  it('two concurrent resolutions: exactly one wins, the other gets AlreadyResolved', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'race.txt', content: 'R' })] }], {
        approvers: ['u1', 'u2', 'u3', 'u4'],
      }),
    );
    const pending = await waitForPending(h.client, runId);
    const outcomes = await Promise.all(
      ['u1', 'u2', 'u3', 'u4'].map((approver) =>
        h.client.resolve(runId, {
          actionId: pending.actionId,
          approver,
          decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
        }),
      ),
    );
    assert.equal(outcomes.filter((o) => o.ok).length, 1);
    assert.deepEqual(
      outcomes.filter((o) => !o.ok).map((o) => (o.ok ? '' : o.refusal.type)),
      ['AlreadyResolved', 'AlreadyResolved', 'AlreadyResolved'],
    );
    await h.client.result(runId);
    assert.equal(await readSandboxFile(h.sandboxDir, 'race.txt'), 'R');
  });

  it('the same update id twice: one execution, the same answer', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'idem.txt', content: 'I' })] }], {
        approvers: ['u1', 'u2'],
      }),
    );
    const pending = await waitForPending(h.client, runId);
    const resolution = {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' as const }],
    };
    const key = `resolve-${randomUUID()}`;
    const [a, b] = await Promise.all([
      h.client.resolve(runId, resolution, { idempotencyKey: key }),
      h.client.resolve(runId, resolution, { idempotencyKey: key }),
    ]);
    const c = await h.client.resolve(runId, { ...resolution, approver: 'u2' }, { idempotencyKey: key });
    assert.ok(a.ok && b.ok && c.ok);
    assert.deepEqual(b, a);
    assert.deepEqual(c, a, 'a retry with the same key returns the first answer, even with another body');
    await h.client.result(runId);
    assert.equal(await readSandboxFile(h.sandboxDir, 'idem.txt'), 'I');
    const accepted = (await h.client.getRunState(runId)).decisions.filter((d) => d.outcome === 'accepted');
    assert.equal(accepted.length, 1);
  });

  it('cancellation while paused ends the run aborted; nothing runs after', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'cancel.txt', content: 'C' })] }]),
    );
    const pending = await waitForPending(h.client, runId);
    await h.client.abort(runId);
    const result = await h.client.result(runId);
    assert.equal(result.status, 'aborted');
    assert.equal(result.finishReason, 'cancelled');
    const state = await h.client.getRunState(runId);
    assert.equal(state.status, 'aborted');
    assert.equal(state.pendingAction, null);
    const late = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    assert.ok(!late.ok);
    assert.equal(await readSandboxFile(h.sandboxDir, 'cancel.txt'), undefined);
    const description = await h.env.client.workflow.getHandle(runId).describe();
    assert.equal(description.status.name, 'CANCELLED');
    await maybeRecordHistory(h, runId, 'cancel-while-paused');
  });

  it('the signal path: a refused signal is recorded and changes nothing; a valid one resolves', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'sig.txt', content: 'S' })] }]),
    );
    const pending = await waitForPending(h.client, runId);
    await h.client.signalResolve(runId, {
      actionId: pending.actionId,
      approver: 'mallory',
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    const bad = {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'nope' }],
    };
    // Our client refuses a malformed signal before sending it; any other sender reaches the workflow.
    const local = await h.client.signalResolve(runId, bad as never);
    assert.equal(local.ok ? '' : local.refusal.type, 'InvalidResolution');
    await h.env.client.workflow.getHandle(runId).signal(resolveActionSignal, bad as never);
    const refused = await eventually(async () => {
      const state = await h.client.getRunState(runId);
      const entries = state.decisions.filter((d) => d.outcome === 'refused');
      return entries.length === 2 ? entries : undefined;
    }, 'two refused signals in the audit log');
    assert.deepEqual(
      refused.map((d) => [d.via, d.approver, d.refusal?.type]),
      [
        ['signal', 'mallory', 'NotAuthorized'],
        ['signal', 'u1', 'InvalidResolution'],
      ],
    );
    assert.equal((await h.client.getPendingAction(runId))?.actionId, pending.actionId);
    await h.client.signalResolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(await readSandboxFile(h.sandboxDir, 'sig.txt'), 'S');
    await maybeRecordHistory(h, runId, 'signal');
  });

  it('keeps at most MAX_REFUSALS_IN_AUDIT refusals (oldest dropped), never an accepted entry, and stays resolvable', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'flood.txt', content: 'F' })] }]),
    );
    const pending = await waitForPending(h.client, runId);
    const flood = MAX_REFUSALS_IN_AUDIT + 20;
    for (let n = 0; n < flood; n += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          h.client.signalResolve(runId, {
            actionId: pending.actionId,
            approver: `intruder-${n + k}`,
            decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
          }),
        ),
      );
    }
    await h.client.signalResolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(await readSandboxFile(h.sandboxDir, 'flood.txt'), 'F');
    const { decisions } = await h.client.getRunState(runId);
    const refused = decisions.filter((d) => d.outcome === 'refused');
    assert.equal(refused.length, MAX_REFUSALS_IN_AUDIT);
    assert.ok(!refused.some((d) => d.approver === 'intruder-0'), 'the oldest refusals were dropped');
    assert.equal(decisions.filter((d) => d.outcome === 'accepted').length, 1);
  });

  it('lists paused runs through visibility by user, status and pending tool', async () => {
    const userId = `list-${randomUUID()}`;
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'delete_file', { path: 'gone.txt' })] }], { userId }),
    );
    const pending = await waitForPending(h.client, runId);
    const [listed] = await eventually(async () => {
      const runs = await h.client.listRuns({ userId, status: 'requires_action', tool: 'delete_file' });
      return runs.length === 1 ? runs : undefined;
    }, 'the paused run in visibility');
    assert.equal(listed?.runId, runId);
    assert.equal(listed?.status, 'requires_action');
    assert.deepEqual(listed?.pendingTools, ['delete_file']);
    assert.equal(listed?.expiresAt?.toISOString(), pending.expiresAt);
    assert.deepEqual(await h.client.listRuns({ userId, tool: 'write_file' }), []);
    await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: userId,
      decisions: [{ tool_call_id: 'call_1', decision: 'reject' }],
    });
    await h.client.result(runId);
    await eventually(async () => {
      const runs = await h.client.listRuns({ userId, status: 'completed' });
      return runs.length === 1 && runs[0]?.pendingTools.length === 0 ? runs : undefined;
    }, 'the completed run in visibility');
  });

  it('policy kill switch and unknown tools: blocked without a pause', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput(
        [{ tool_calls: [call('call_1', 'append_file', { path: 'k.txt', content: 'k' }), call('call_2', 'rm_rf', {})] }],
        { policy: { enabled: false } },
      ),
    );
    const result = await h.client.result(runId);
    assert.deepEqual(
      toolMessages(result.messages).map((t) => [t.status, t.content]),
      [
        ['error', 'Blocked: Tool "append_file" needs approval, but tool approval is disabled'],
        ['error', 'Tool "rm_rf" is not available in this run'],
      ],
    );
    assert.equal(await readSandboxFile(h.sandboxDir, 'k.txt'), undefined);
  });

  it('invalid input: the client refuses before starting; the workflow fails with InvalidInput', async () => {
    await assert.rejects(
      h.client.startRun({ userId: '', conversationId: 'c', messages: [], model: { provider: 'scripted', script: [] } }),
      (error: unknown) =>
        error instanceof InvalidRunInputError && /userId/.test(error.message) && /messages/.test(error.message),
    );
    const handle = await h.env.client.workflow.start('generationRun', {
      taskQueue: h.client.taskQueue,
      workflowId: `bad-${randomUUID()}`,
      args: [{ userId: 'u1' }],
    });
    await assert.rejects(
      handle.result(),
      (error: unknown) =>
        error instanceof WorkflowFailedError &&
        error.cause instanceof ApplicationFailure &&
        error.cause.type === 'InvalidInput' &&
        /conversationId/.test(error.cause.message ?? ''),
    );
  });

  it('stops at maxTurns', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput(
        [1, 2, 3].map((n) => ({ tool_calls: [call(`call_${n}`, 'list_files', {})] })),
        { maxTurns: 2, policy: { enabled: true, allow: ['list_files'] } },
      ),
    );
    const result = await h.client.result(runId);
    assert.equal(result.finishReason, 'max_turns');
    assert.equal(result.turn, 2);
  });
});
