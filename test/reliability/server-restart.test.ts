// Scenario 3: the file-backed dev server and the worker are SIGKILLed while runs are paused, then started
// again on the same database: the runs are still listed as paused (visibility), resolvable, and complete.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Resolution } from '../../src/contracts';
import { startCluster, taskQueueFor, type Cluster } from './support/cluster';
import {
  appendTurn,
  countLines,
  runInput,
  scanHistories,
  startRuns,
  tally,
  waitAllPaused,
  waitAllResults,
} from './support/runs';
import { figure, mapLimit, SIZES, until } from './support/suite';

describe('reliability: server restart (file-backed dev server, SIGKILL)', function () {
  this.timeout(10 * 60_000);
  let cluster: Cluster;

  before(async () => {
    cluster = await startCluster('server-restart');
  });
  after(async () => {
    await cluster?.close();
  });

  it('server-restart: paused runs are still listed, resolvable and complete after the server and worker die', async () => {
    const n = SIZES.restartRuns;
    const taskQueue = taskQueueFor('restart');
    const sandboxDir = path.join(cluster.dir, 'sandbox-restart');
    const hitl = cluster.hitl(taskQueue);
    const owner = (i: number) => `restart-u${i % 4}`;
    let worker = await cluster.startWorker({ taskQueue, sandboxDir });
    const files = Array.from({ length: n }, (_, i) => `restart/run-${i}.txt`);
    const runIds = await startRuns(
      hitl,
      files.map((file, i) => runInput(owner(i), [appendTurn('call_1', file, `approved ${i}`)])),
    );
    await waitAllPaused(hitl, runIds, 180_000);
    const listPaused = async () =>
      new Set(
        (await hitl.listRuns({ status: 'requires_action', limit: 1000 }))
          .filter((run) => run.pendingTools.includes('append_file'))
          .map((run) => run.runId),
      );
    await until(async () => (await listPaused()).size === n, 'visibility to list every run as paused', 30_000);

    await worker.kill();
    await cluster.killServer();
    await cluster.restartServer();
    worker = await cluster.startWorker({ taskQueue, sandboxDir });

    // Visibility (the server's own store, in the same database file) still lists every run as paused.
    const listedAfter = await until(
      async () => {
        const listed = await listPaused();
        return listed.size === n ? listed : undefined;
      },
      'every run to be listed as paused after the restart',
      60_000,
      500,
    );
    const perUser = await Promise.all(
      [0, 1, 2, 3].map(async (u) => (await hitl.listRuns({ userId: owner(u), status: 'requires_action' })).length),
    );
    // The pending actions are read from the restarted server (replayed on the new worker).
    const pending = await waitAllPaused(hitl, runIds, 120_000);
    const outcomes = await mapLimit(runIds, 16, async (runId, i) => {
      const action = pending.get(runId)!;
      const resolution: Resolution = {
        actionId: action.actionId,
        approver: owner(i),
        decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
      };
      return hitl.resolve(runId, resolution);
    });
    const results = await waitAllResults(hitl, runIds, 180_000);
    const statuses = tally(results.values());
    const lines = await Promise.all(files.map((file, i) => countLines(sandboxDir, owner(i), file)));
    const duplicates = lines.reduce((sum, count) => sum + Math.max(0, count - 1), 0);
    const completed = statuses.completed ?? 0;
    const scan = await scanHistories(cluster.client, runIds);
    const completedListed = await until(
      async () => {
        const runs = await hitl.listRuns({ status: 'completed', limit: 1000 });
        return runs.length === n ? runs.length : undefined;
      },
      'visibility to list every run as completed',
      30_000,
    ).catch(() => -1);
    figure(
      `server-restart: ${n} runs paused, server + worker SIGKILLed and restarted, ${listedAfter.size} still listed as paused, ` +
        `${outcomes.filter((o) => o.ok).length} resolved, ${completed} completed, ${n - completed} lost, ${duplicates} duplicate executions`,
    );
    await worker.kill();

    assert.deepEqual([...listedAfter].sort(), [...runIds].sort());
    assert.deepEqual(
      perUser,
      [0, 1, 2, 3].map((u) => runIds.filter((_, i) => i % 4 === u).length),
    );
    assert.equal(outcomes.filter((o) => o.ok).length, n, JSON.stringify(outcomes.find((o) => !o.ok)));
    assert.deepEqual(statuses, { completed: n });
    assert.deepEqual(
      lines,
      runIds.map(() => 1),
    );
    assert.equal(completedListed, n);
    assert.equal(scan.workflowTaskFailures, 0, scan.failures.join('\n'));
  });
});
