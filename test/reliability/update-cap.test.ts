// Issue 12, scenario 1–2: one paused run under more update traffic than Temporal lets one run take
// (2 000 updates per run, server defaults), plus oversized ids: it continues as new while paused, keeps
// its action and expiry, stays resolvable by update, and its audit log stays bounded.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { HitlClient } from '../../src/client';
import { awaitPendingActionUpdate } from '../../src/contracts';
import { MAX_AUDIT_CHARS } from '../../src/workflows/audit-log';
import { startCluster, taskQueueFor, type Cluster } from './support/cluster';
import type { ChildHandle } from '../support/processes';
import { appendTurn, chainRuns, countLines, runInput, scanHistories, waitAllPaused } from './support/runs';
import { figure, FULL, mapLimit } from './support/suite';

const SIZES = FULL
  ? { refusals: 10_000, waits: 10_000, oversized: 200 }
  : { refusals: 1_200, waits: 1_200, oversized: 40 };

describe('reliability: update cap (paused run under update traffic)', function () {
  this.timeout(30 * 60_000);
  let cluster: Cluster;
  let worker: ChildHandle;
  let hitl: HitlClient;
  let sandboxDir: string;
  const taskQueue = taskQueueFor('update-cap');

  before(async () => {
    cluster = await startCluster('update-cap');
    sandboxDir = path.join(cluster.dir, 'sandbox-update-cap');
    worker = await cluster.startWorker({ taskQueue, sandboxDir });
    hitl = cluster.hitl(taskQueue);
  });
  after(async () => {
    await worker?.stop();
    await cluster?.close();
  });

  it('update-cap: refusals and waits beyond 2 000 updates per run; the action survives and resolves by update', async () => {
    const owner = 'cap-owner';
    const { runId } = await hitl.startRun(
      runInput(owner, [appendTurn('call_1', 'cap.txt', 'once')], { approvalTtlMs: 6 * 60 * 60 * 1000 }),
    );
    const pending = (await waitAllPaused(hitl, [runId], 60_000)).get(runId)!;
    const handle = cluster.client.workflow.getHandle(runId);
    const started = Date.now();

    // Interleaved: a stale resolution (refused by the handler: an update of the run) or a wait.
    const kinds = Array.from({ length: SIZES.refusals + SIZES.waits }, (_, i) =>
      i % 2 === 0 && i / 2 < SIZES.refusals ? 'refuse' : 'wait',
    );
    let refused = 0;
    let waitsAnswered = 0;
    const unexpected: string[] = [];
    await mapLimit(kinds, 8, async (kind, i) => {
      try {
        if (kind === 'refuse') {
          const outcome = await hitl.resolve(runId, {
            actionId: `stale-${i}`,
            approver: owner,
            decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
          });
          if (!outcome.ok && outcome.refusal.type === 'StaleAction') refused += 1;
          else unexpected.push(`resolve ${i}: ${JSON.stringify(outcome)}`);
        } else {
          const answer = await handle.executeUpdate(awaitPendingActionUpdate, { args: [{ timeoutMs: 1000 }] });
          if (answer.pendingAction === null || answer.pendingAction.actionId === pending.actionId) waitsAnswered += 1;
          else unexpected.push(`wait ${i}: another action ${answer.pendingAction.actionId}`);
        }
      } catch (error) {
        unexpected.push(`${kind} ${i}: ${error instanceof Error ? error.message : String(error)}`);
      }
    });

    // Oversized ids are refused before they reach the run: not an update of it, not in its history.
    let oversizedRefused = 0;
    await mapLimit(Array.from({ length: SIZES.oversized }), 4, async (_, i) => {
      const outcome = await hitl.resolve(runId, {
        actionId: pending.actionId,
        approver: owner,
        decisions: [{ tool_call_id: `x${'y'.repeat(100_000)}${i}`, decision: 'approve' }],
      });
      if (!outcome.ok && outcome.refusal.type === 'InvalidResolution') oversizedRefused += 1;
    });
    const trafficSeconds = (Date.now() - started) / 1000;

    const runs = await chainRuns(cluster.client, runId);
    const current = await hitl.getPendingAction(runId);
    const resolved = await hitl.resolve(runId, {
      actionId: pending.actionId,
      approver: owner,
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    const result = await hitl.result(runId);
    const state = await hitl.getRunState(runId);
    const lines = await countLines(sandboxDir, owner, 'cap.txt');
    const auditChars = JSON.stringify(state.decisions).length;
    const scan = await scanHistories(cluster.client, runs);
    const stuck = resolved.ok && result.status === 'completed' ? 0 : 1;

    figure(
      `update-cap: 1 paused run, ${refused} refused + ${waitsAnswered} waits (+${oversizedRefused} oversized ids refused before the run) in ${trafficSeconds.toFixed(0)} s, ` +
        `continued as new ${runs.length - 1} times, same action ${current?.actionId === pending.actionId ? 'kept' : 'LOST'}, ` +
        `resolved by update ${resolved.ok ? 'yes' : 'no'}, tool ran ${lines} time(s), ${stuck} stuck; audit ${state.decisions.length} entries ` +
        `(${auditChars} chars, ${state.decisionsDropped ?? 0} dropped), ${unexpected.length} unexpected answers, ${scan.workflowTaskFailures} workflow task failures`,
    );
    assert.deepEqual(unexpected.slice(0, 5), []);
    assert.equal(refused, SIZES.refusals);
    assert.equal(waitsAnswered, SIZES.waits);
    assert.equal(oversizedRefused, SIZES.oversized);
    assert.ok(runs.length >= 2, 'the run continued as new at least once');
    assert.deepEqual(current, pending, 'the same action, the same expiry');
    assert.ok(resolved.ok, JSON.stringify(resolved));
    assert.equal(result.status, 'completed');
    assert.equal(lines, 1);
    assert.ok(auditChars <= MAX_AUDIT_CHARS);
    assert.equal(state.decisions.filter((d) => d.outcome === 'accepted').length, 1);
    assert.ok((state.decisionsDropped ?? 0) > 0);
    assert.equal(scan.workflowTaskFailures, 0);
  });
});
