import assert from 'node:assert/strict';
import { call, readSandboxFile, scriptedInput, startHarness, type Harness } from './harness';

// Strings with unpaired UTF-16 surrogates ("\ud800") are valid JSON and valid JS, but not valid UTF-8:
// echoed into a refusal's message they once made the worker's completion undecodable, and the SDK
// shut the worker down (every run on the queue stalled). Failures now carry U+FFFD instead.
describe('ill-formed unicode in what users send (real dev server)', function () {
  this.timeout(60_000);
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  it('a lone surrogate echoed into a refusal is refused cleanly, and the worker keeps serving', async () => {
    const started = await h.client.startRunAndWait(
      scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'ok.txt', content: 'ok' })] }, {}]),
    );
    const action = started.pendingAction;
    assert.ok(action);
    const decisions = [{ tool_call_id: 'call_1', decision: 'approve' as const }];
    for (const approver of ['\ud800', 'x\udfffy', '\udc00\ud800']) {
      const refused = await h.client.resolve(started.runId, { actionId: action.actionId, approver, decisions });
      assert.ok(!refused.ok);
      assert.equal(refused.refusal.type, 'NotAuthorized');
      assert.ok(refused.refusal.message.includes('\ufffd'), refused.refusal.message);
    }
    const stale = await h.client.resolve(started.runId, { actionId: 'act-\ud800', approver: 'u1', decisions });
    assert.ok(!stale.ok);
    // The worker is still alive: the right resolution runs the tool and the run completes.
    const approved = await h.client.resolve(started.runId, { actionId: action.actionId, approver: 'u1', decisions });
    assert.ok(approved.ok, JSON.stringify(approved));
    assert.equal((await h.client.result(started.runId)).status, 'completed');
    assert.equal(await readSandboxFile(h.sandboxDir, 'ok.txt'), 'ok');
  });
});
