import assert from 'node:assert/strict';
import { RECENT_MESSAGES } from '../../src/contracts';
import { SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS } from '../hooks';
import { call, readSandboxFile, scriptedInput, startHarness, waitForPending, type Harness } from './harness';

describe('generationRun continue-as-new', function () {
  this.timeout(120_000);
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  it('a long run continues as new when Temporal suggests it, keeping transcript, audit log and exactly-once answers', async () => {
    const turns = 30;
    const script = Array.from({ length: turns }, (_, n) => ({
      tool_calls: [call(`call_${n}`, 'append_file', { path: 'long.txt', content: `${n}\n` })],
    }));
    // The first call asks; every later one is allowed, so the run writes plenty of history.
    const { runId } = await h.client.startRun(
      scriptedInput([...script, { content: 'finished' }], {
        maxTurns: turns + 1,
        policy: { enabled: true, ask: ['append_file'] },
      }),
    );
    const first = await waitForPending(h.client, runId);
    const firstExecutionRunId = (await h.env.client.workflow.getHandle(runId).describe()).runId;
    const resolution = {
      actionId: first.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_0', decision: 'approve' as const }],
    };
    const answer = await h.client.resolve(runId, resolution, { idempotencyKey: 'first-approval' });
    assert.ok(answer.ok);

    // Every later turn pauses too; approve each one as it comes.
    for (let n = 1; n < turns; n += 1) {
      const pending = await waitForPending(h.client, runId);
      if (n === turns - 1) {
        const description = await h.env.client.workflow.getHandle(runId).describe();
        assert.notEqual(description.runId, firstExecutionRunId, 'the run continued as new before the last turn');
        // The chain remembers: the first action is resolved, and a retry of its update gets the first answer.
        const again = await h.client.resolve(runId, resolution);
        assert.ok(!again.ok);
        assert.equal(again.refusal.type, 'AlreadyResolved');
        assert.deepEqual(await h.client.resolve(runId, resolution, { idempotencyKey: 'first-approval' }), answer);
      }
      const outcome = await h.client.resolve(runId, {
        actionId: pending.actionId,
        approver: 'u1',
        decisions: [{ tool_call_id: `call_${n}`, decision: 'approve' }],
      });
      assert.ok(outcome.ok, `turn ${n}: ${JSON.stringify(outcome)}`);
    }
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(result.finalMessage, 'finished');

    const description = await h.env.client.workflow.getHandle(runId).describe();
    assert.notEqual(description.runId, firstExecutionRunId, 'the run continued as new at least once');
    assert.ok(description.historyLength < SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS * 2);

    // Transcript and audit log survived; each append ran exactly once.
    // The result shows the latest messages; the content store has the whole transcript, once.
    const transcript = await h.client.readMessages(runId);
    assert.equal(transcript.messages.filter((m) => m.role === 'tool').length, turns);
    assert.equal(transcript.total, result.messagesTotal);
    assert.ok(result.messages.length <= RECENT_MESSAGES);
    const state = await h.client.getRunState(runId);
    assert.equal(state.decisions.filter((d) => d.outcome === 'accepted').length, turns);
    const expected = Array.from({ length: turns }, (_, n) => `${n}\n`).join('');
    assert.equal(await readSandboxFile(h.sandboxDir, 'long.txt'), expected);
  });
});
