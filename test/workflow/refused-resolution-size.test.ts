// Refused resolutions must not grow a run's history without bound. Found by a trust review: while a run was
// paused on an MCP elicitation (it cannot continue as new inside the activity), its owner, who was not its
// approver, sent refused resolutions of ~1 MB each; each was written to history, and at ~50 MB Temporal
// terminated the run. Large resolutions the run would refuse are now refused before they are accepted.
import assert from 'node:assert/strict';
import { measureJson, type JsonMeasure } from '../../src/contracts/json-limits';
import { MAX_AUDITED_REFUSAL_CHARS } from '../../src/contracts/values';
import {
  elicitationOutcome,
  pauseWithElicitation,
  startElicitationHarness,
  type ElicitationHarness,
} from '../support/elicitation';
import { call, readSandboxFile, scriptedInput, startHarness, type Harness } from './harness';

describe('refused resolutions and history size (real dev server)', function () {
  this.timeout(180_000);

  describe('paused on an MCP elicitation', () => {
    let h: ElicitationHarness;
    before(async () => {
      h = await startElicitationHarness();
    });
    after(async () => {
      await h?.stop();
    });

    it('large refused resolutions never reach history; small ones are audited; the approver still decides', async () => {
      const { runId, pending } = await pauseWithElicitation(h, { userId: 'u1', approvers: ['boss'] });
      const handle = h.client.client.workflow.getHandle(runId);
      const historySize = async (): Promise<number> => Number((await handle.describe()).historySize);
      const before = await historySize();
      const large = 'x'.repeat(200_000);
      for (let attempt = 0; attempt < 30; attempt += 1) {
        const outcome = await h.client.resolve(runId, {
          actionId: pending.actionId,
          approver: 'u1',
          answer: large,
        });
        assert.equal(outcome.ok, false);
        assert.equal(!outcome.ok && outcome.refusal.type, 'NotAuthorized');
      }
      // Before the fix the history held all 30 (about 6 MB).
      const grown = (await historySize()) - before;
      assert.ok(before > 0);
      assert.ok(grown < 64 * 1024, `history grew by ${grown} bytes`);

      // A small refusal is still judged by the handler and recorded in the audit log.
      const small = await h.client.resolve(runId, {
        actionId: pending.actionId,
        approver: 'u1',
        elicitation: { action: 'decline' },
      });
      assert.equal(!small.ok && small.refusal.type, 'NotAuthorized');
      // At the bound: a refusal of exactly MAX_AUDITED_REFUSAL_CHARS (as the run measures it) is audited, one
      // character more is refused before it is accepted.
      const sized = (chars: number) => {
        const resolution = { actionId: pending.actionId, approver: 'u1', answer: '' };
        const overhead = (measureJson(resolution, { maxDepth: 64, maxChars: Infinity }) as JsonMeasure).chars;
        return { ...resolution, answer: 'x'.repeat(chars - overhead) };
      };
      for (const chars of [MAX_AUDITED_REFUSAL_CHARS, MAX_AUDITED_REFUSAL_CHARS + 1]) {
        const outcome = await h.client.resolve(runId, sized(chars));
        assert.equal(!outcome.ok && outcome.refusal.type, 'NotAuthorized');
      }
      const { decisions } = await h.client.getRunState(runId);
      assert.deepEqual(
        decisions.map((entry) => [entry.approver, entry.outcome]),
        [
          ['u1', 'refused'],
          ['u1', 'refused'],
        ],
        'the small refusal and the one at the bound',
      );

      const decided = await h.client.resolve(runId, {
        actionId: pending.actionId,
        approver: 'boss',
        elicitation: { action: 'decline' },
      });
      assert.equal(decided.ok, true, JSON.stringify(decided));
      assert.deepEqual(await elicitationOutcome(h, runId), { elicitation: { action: 'decline' }, decidedBy: 'boss' });
    });
  });

  describe('paused on a tool approval', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness();
    });
    after(async () => {
      await h?.stop();
    });

    it('a large resolution the run accepts is accepted (an edit of large arguments)', async () => {
      const content = 'y'.repeat(MAX_AUDITED_REFUSAL_CHARS * 3);
      const { runId } = await h.client.startRun(
        scriptedInput([
          { tool_calls: [call('call_1', 'append_file', { path: 'refused-size/big.txt', content: 'z' })] },
          { content: 'Done.' },
        ]),
      );
      const { pendingAction } = await h.client.waitForPendingAction(runId, { timeoutMs: 60_000 });
      assert.ok(pendingAction);
      const outcome = await h.client.resolve(runId, {
        actionId: pendingAction.actionId,
        approver: 'u1',
        decisions: [
          {
            tool_call_id: 'call_1',
            decision: 'edit',
            editedArguments: { path: 'refused-size/big.txt', content },
          },
        ],
      });
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      assert.equal((await h.client.result(runId)).status, 'completed');
      assert.equal(await readSandboxFile(h.sandboxDir, 'refused-size/big.txt'), content);
    });
  });
});
