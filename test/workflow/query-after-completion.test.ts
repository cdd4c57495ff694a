// A query that reaches the worker just as it evicts a run that has completed is dropped by the SDK, and
// the server holds the caller for 30 s, then fails it (seen about once in 60 runs on this machine).
// HitlClient queries with a deadline per attempt and asks again; this drives many runs to that moment.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { call, scriptedInput, startHarness, type Harness } from './harness';

describe('queries right after a run completes (real dev server)', function () {
  this.timeout(180_000);
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  it('getRunState answers for every one of 100 runs queried as they complete', async () => {
    for (let i = 0; i < 100; i += 1) {
      const { runId } = await h.client.startRun(
        scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'q.txt', content: 'x' })] }], {
          userId: `q-${randomUUID()}`,
          policy: { enabled: true, mode: 'bypass' },
        }),
      );
      // Queries in flight while the run completes (what a console or an SSE feed does).
      const polls: Promise<unknown>[] = [];
      const poll = setInterval(() => polls.push(h.client.getPendingAction(runId).catch((error: unknown) => error)), 50);
      await h.client.result(runId);
      clearInterval(poll);
      const state = await h.client.getRunState(runId);
      const failed = (await Promise.all(polls)).filter((p) => p instanceof Error);
      assert.deepEqual(failed, [], `run ${i}: every query in flight got an answer`);
      assert.equal(state.status, 'completed', `run ${i}`);
    }
  });
});
