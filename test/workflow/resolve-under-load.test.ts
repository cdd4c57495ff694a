import assert from 'node:assert/strict';
import { call, scriptedInput, startHarness, type Harness } from './harness';

// More concurrent updates than the server's per-run in-flight limit (10), while the run is being
// queried (an SSE feed, a console refreshing): Temporal 1.32 drops some of them before the run sees
// them ("UnprocessedUpdate"). HitlClient resends with the same update id, so every approver gets a
// verdict: one accepted, the rest AlreadyResolved (or NoPendingAction once the run ended).
describe('resolve under load (real dev server)', function () {
  this.timeout(180_000);
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  it('12 concurrent resolutions of a run being queried: exactly one accepted, every other refused', async () => {
    const runs = 20;
    const racers = 12;
    const verdicts: Record<string, number> = {};
    // allSettled, and pollers stopped in `finally`: one failing run must not leave the others (and their
    // pollers) running on into the next tests.
    const settled = await Promise.allSettled(
      Array.from({ length: runs }, async () => {
        const started = await h.client.startRunAndWait(
          scriptedInput([{ tool_calls: [call('call_1', 'list_files', {})] }, { content: 'done' }]),
        );
        const action = started.pendingAction;
        assert.ok(action);
        let querying = true;
        const pollers = Array.from({ length: 3 }, async () => {
          while (querying) {
            await h.client.getRunState(started.runId).catch(() => undefined);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        });
        let outcomes: PromiseSettledResult<Awaited<ReturnType<typeof h.client.resolve>>>[];
        try {
          outcomes = await Promise.allSettled(
            Array.from({ length: racers }, () =>
              h.client.resolve(started.runId, {
                actionId: action.actionId,
                approver: 'u1',
                decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
              }),
            ),
          );
        } finally {
          querying = false;
          await Promise.all(pollers);
        }
        for (const outcome of outcomes) {
          const verdict =
            outcome.status === 'rejected'
              ? `error: ${String(outcome.reason)}`
              : outcome.value.ok
                ? 'accepted'
                : outcome.value.refusal.type;
          verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;
        }
        assert.equal((await h.client.result(started.runId)).status, 'completed');
      }),
    );
    const failed = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) throw failed[0]!.reason;
    // Late racers find the run finished (NoPendingAction); either way someone else decided first.
    const { accepted, AlreadyResolved = 0, NoPendingAction = 0, ...unexpected } = verdicts;
    assert.deepEqual(unexpected, {});
    assert.equal(accepted, runs);
    assert.equal(AlreadyResolved + NoPendingAction, runs * (racers - 1));
  });
});
