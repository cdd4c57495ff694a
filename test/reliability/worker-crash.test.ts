// Scenarios 1 and 2: the worker process is SIGKILLed while runs are paused, and while a tool is running.
// Side effects are counted in the sandbox (lines in files), never in logs.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { PendingAction, Resolution } from '../../src/contracts';
import { SLOW_TOOL_WORKER_ENTRY, startCluster, taskQueueFor, type Cluster } from './support/cluster';
import type { ChildHandle } from '../support/processes';
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

function approveAll(pending: PendingAction, approver: string): Resolution {
  if (pending.payload.type !== 'tool_approval')
    throw new Error(`expected a tool approval, got ${pending.payload.type}`);
  return {
    actionId: pending.actionId,
    approver,
    decisions: pending.payload.review_configs.map((c) => ({ tool_call_id: c.tool_call_id, decision: 'approve' })),
  };
}

describe('reliability: worker crashes (real worker processes, SIGKILL)', function () {
  this.timeout(10 * 60_000);
  let cluster: Cluster;

  before(async () => {
    cluster = await startCluster('worker-crash');
  });
  after(async () => {
    await cluster?.close();
  });

  it('worker-crash-paused: paused runs survive a SIGKILLed worker; every approved tool runs exactly once', async () => {
    const n = SIZES.crashPausedRuns;
    const taskQueue = taskQueueFor('crash-paused');
    const sandboxDir = path.join(cluster.dir, 'sandbox-crash-paused');
    const hitl = cluster.hitl(taskQueue);
    let worker: ChildHandle = await cluster.startWorker({ taskQueue, sandboxDir });

    const files = Array.from({ length: n }, (_, i) => `paused/run-${i}.txt`);
    const runIds = await startRuns(
      hitl,
      files.map((file, i) => runInput(`crash-u${i % 5}`, [appendTurn('call_1', file, `approved ${i}`)])),
    );
    const pending = await waitAllPaused(hitl, runIds, 180_000);
    assert.equal(pending.size, n);

    await worker.kill(); // every run is paused; no worker is alive now
    assert.equal((await worker.exited).signal, 'SIGKILL');

    // Half the resolutions are sent while no worker is alive: they must wait, not be lost.
    const resolveOne = (runId: string) => {
      const owner = `crash-u${runIds.indexOf(runId) % 5}`;
      return hitl.resolve(runId, approveAll(pending.get(runId)!, owner), { idempotencyKey: `approve-${runId}` });
    };
    const half = Math.floor(n / 2);
    const duringOutage = runIds.slice(0, half).map((runId) => resolveOne(runId));
    worker = await cluster.startWorker({ taskQueue, sandboxDir });
    const afterRestart = mapLimit(runIds.slice(half), 16, resolveOne);
    const outcomes = [...(await Promise.all(duringOutage)), ...(await afterRestart)];
    const accepted = outcomes.filter((o) => o.ok).length;

    const results = await waitAllResults(hitl, runIds, 180_000);
    const statuses = tally(results.values());
    const lines = await Promise.all(files.map((file, i) => countLines(sandboxDir, `crash-u${i % 5}`, file)));
    const completed = statuses.completed ?? 0;
    const duplicates = lines.reduce((sum, count) => sum + Math.max(0, count - 1), 0);
    const missing = lines.filter((count) => count === 0).length;
    const missingWhy = await Promise.all(
      runIds
        .filter((_, i) => lines[i] === 0)
        .slice(0, 5)
        .map(async (runId) => {
          const tool = (await hitl.getRunState(runId)).messages.find((m) => m.role === 'tool');
          return `${runId}: ${JSON.stringify(tool)}`;
        }),
    );
    const scan = await scanHistories(cluster.client, runIds);
    figure(
      `worker-crash-paused: ${n} runs, ${completed} completed, ${n - completed} lost, ${duplicates} duplicate executions ` +
        `(${missing} missing; ${half} resolutions sent while no worker was alive; ${scan.workflowTaskFailures} workflow task failures)`,
    );
    await worker.kill();

    assert.equal(
      accepted,
      n,
      `every resolution accepted: ${JSON.stringify(outcomes.filter((o) => !o.ok).slice(0, 3))}`,
    );
    assert.deepEqual(statuses, { completed: n });
    assert.equal(duplicates, 0);
    assert.equal(missing, 0, `runs completed without their line:\n${missingWhy.join('\n')}`);
    assert.equal(scan.workflowTaskFailures, 0, scan.failures.join('\n'));
  });

  it('worker-crash-tool: a worker SIGKILLed mid-tool; the retry on a new worker does not repeat the side effect', async () => {
    const n = SIZES.crashToolRuns;
    const taskQueue = taskQueueFor('crash-tool');
    const sandboxDir = path.join(cluster.dir, 'sandbox-crash-tool');
    const probeDir = path.join(cluster.dir, 'probe-crash-tool');
    const hitl = cluster.hitl(taskQueue);
    const env = { HITL_TEST_PROBE_DIR: probeDir };
    let worker = await cluster.startWorker({ taskQueue, sandboxDir, entry: SLOW_TOOL_WORKER_ENTRY, env });

    // Even runs: the append happens at once, then the tool is slow (killed after its side effect).
    // Odd runs: the tool is slow first (killed before its side effect). Slow only on the first attempt.
    const afterEffect = (i: number) => i % 2 === 0;
    const files = Array.from({ length: n }, (_, i) => `tool/run-${i}.txt`);
    const inputs = files.map((file, i) =>
      runInput(
        'crash-tool-user',
        [
          {
            tool_calls: [
              {
                id: 'call_1',
                name: 'slow_append',
                arguments: {
                  path: file,
                  content: `slow ${i}\n`,
                  slowBeforeMs: afterEffect(i) ? 0 : 300_000,
                  slowAfterMs: afterEffect(i) ? 300_000 : 0,
                },
              },
            ],
          },
        ],
        { tools: ['slow_append'] },
      ),
    );
    const runIds = await startRuns(hitl, inputs);
    const pending = await waitAllPaused(hitl, runIds, 120_000);
    for (const runId of runIds) {
      const outcome = await hitl.resolve(runId, approveAll(pending.get(runId)!, 'crash-tool-user'));
      assert.ok(outcome.ok, JSON.stringify(outcome));
    }

    const probeOf = (i: number) =>
      readFile(path.join(probeDir, `${encodeURIComponent(runIds[i]!)}.log`), 'utf8').catch(() => '');
    await until(
      async () => {
        const logs = await Promise.all(runIds.map((_, i) => probeOf(i)));
        return logs.every((log, i) => (afterEffect(i) ? /done attempt=1/.test(log) : /start attempt=1/.test(log)));
      },
      'every tool to be mid-execution on the first worker',
      60_000,
    );
    const linesAtKill = await Promise.all(files.map((file) => countLines(sandboxDir, 'crash-tool-user', file)));
    await worker.kill();
    const killedAt = Date.now();
    worker = await cluster.startWorker({ taskQueue, sandboxDir, entry: SLOW_TOOL_WORKER_ENTRY, env });

    const results = await waitAllResults(hitl, runIds, 180_000);
    const recoverySeconds = ((Date.now() - killedAt) / 1000).toFixed(1);
    const statuses = tally(results.values());
    const lines = await Promise.all(files.map((file) => countLines(sandboxDir, 'crash-tool-user', file)));
    const logs = await Promise.all(runIds.map((_, i) => probeOf(i)));
    const scan = await scanHistories(cluster.client, runIds);
    const retried = runIds.filter((runId) => (scan.maxActivityAttempt.get(runId) ?? 0) >= 2).length;
    const effects = logs.map((log) => (log.match(/^effect /gm) ?? []).length);
    const duplicates = lines.reduce((sum, count) => sum + Math.max(0, count - 1), 0);
    const completed = statuses.completed ?? 0;
    const killedAfter = runIds.filter((_, i) => afterEffect(i)).length;
    figure(
      `worker-crash-tool: ${n} runs killed mid-tool (${killedAfter} after the side effect, ${n - killedAfter} before it), ` +
        `${retried} retried on a new worker, ${completed} completed within ${recoverySeconds} s of the kill, ` +
        `${duplicates} duplicate side effects, ${lines.filter((c) => c === 0).length} lost`,
    );
    await worker.kill();

    assert.deepEqual(
      linesAtKill,
      runIds.map((_, i) => (afterEffect(i) ? 1 : 0)),
      'the kill happened after the effect of the even runs and before the effect of the odd ones',
    );
    assert.deepEqual(statuses, { completed: n });
    assert.deepEqual(
      lines,
      runIds.map(() => 1),
      'exactly one line per run',
    );
    assert.deepEqual(
      effects,
      runIds.map(() => 1),
      'the side effect ran once per run, across both workers',
    );
    assert.equal(retried, n, 'every tool call was retried (attempt 2) on the new worker');
    assert.equal(scan.workflowTaskFailures, 0, scan.failures.join('\n'));
  });
});
