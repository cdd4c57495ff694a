// Scenarios 4 and 5: concurrent resolutions of one action from many approvers (Temporal client and HTTP
// API at once), idempotent retries, and resolutions sent around the moment the expiry timer fires.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { HitlClient, ResolveOutcome } from '../../src/client';
import type { AuditEntry, PendingAction, ResolveResult, RunState } from '../../src/contracts';
import type { ErrorBody } from '../../src/server';
import { request } from '../http/client';
import { startCluster, taskQueueFor, type ApiHandle, type Cluster } from './support/cluster';
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
import { figure, mapLimit, SIZES, sleep } from './support/suite';

/** What one racer got: the winner's answer, a refusal type, or something unexpected. */
type RaceAnswer =
  { kind: 'accepted'; result: ResolveResult } | { kind: 'refused'; type: string } | { kind: 'other'; what: string };

function fromClient(outcome: ResolveOutcome): RaceAnswer {
  return outcome.ok ? { kind: 'accepted', result: outcome.result } : { kind: 'refused', type: outcome.refusal.type };
}

function fromHttp(status: number, body: ResolveResult | ErrorBody): RaceAnswer {
  if (status === 200) return { kind: 'accepted', result: body as ResolveResult };
  if (status === 409 || status === 400 || status === 403) return { kind: 'refused', type: (body as ErrorBody).type };
  return { kind: 'other', what: `HTTP ${status} ${JSON.stringify(body)}` };
}

function sameAnswer(a: RaceAnswer, b: RaceAnswer): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function entriesFor(state: RunState, actionId: string): AuditEntry[] {
  return state.decisions.filter((entry) => entry.actionId === actionId);
}

describe('reliability: races (client + HTTP API processes)', function () {
  this.timeout(10 * 60_000);
  let cluster: Cluster;
  let worker: ChildHandle;
  let api: ApiHandle;
  let hitl: HitlClient;
  let sandboxDir: string;
  const taskQueue = taskQueueFor('races');

  before(async () => {
    cluster = await startCluster('races');
    sandboxDir = path.join(cluster.dir, 'sandbox-races');
    [worker, api] = await Promise.all([
      cluster.startWorker({ taskQueue, sandboxDir }),
      cluster.startApi({ taskQueue }),
    ]);
    hitl = cluster.hitl(taskQueue);
  });
  after(async () => {
    await worker?.kill();
    await cluster?.close();
  });

  it('resolution-race: of K concurrent resolutions per action exactly one wins; retries return the first answer', async () => {
    const m = SIZES.raceActions;
    const k = SIZES.raceApprovers;
    const owner = 'race-owner';
    const approvers = Array.from({ length: k }, (_, i) => `race-approver-${i}`);
    const tokens = await Promise.all(approvers.map((sub) => api.token(sub)));
    const files = Array.from({ length: m }, (_, i) => `race/run-${i}.txt`);
    const runIds = await startRuns(
      hitl,
      files.map((file) =>
        runInput(owner, [appendTurn('call_1', file, 'first action'), appendTurn('call_2', file, 'second action')], {
          approvers: [owner, ...approvers],
        }),
      ),
    );
    const firstPending = await waitAllPaused(hitl, runIds, 120_000);

    /** Racer i resolves through the client when i is even, through the HTTP API when odd; key fixed per racer. */
    const racer = async (runId: string, action: PendingAction, i: number): Promise<RaceAnswer> => {
      const decisions = [{ tool_call_id: 'call_1', decision: 'approve' as const }];
      if (i % 2 === 0) {
        const outcome = await hitl.resolve(
          runId,
          { actionId: action.actionId, approver: approvers[i]!, decisions },
          { idempotencyKey: `race-${runId}-${i}` },
        );
        return fromClient(outcome);
      }
      const res = await request<ResolveResult | ErrorBody>(api.url, 'POST', `/runs/${runId}/resolve`, {
        token: tokens[i]!,
        // A forged approver in the body is ignored: the token's subject is the approver.
        body: { actionId: action.actionId, approver: owner, decisions },
        headers: { 'idempotency-key': `race-${i}` },
      });
      return fromHttp(res.status, res.body);
    };

    // While they race, K waiters per run wait for the run's next pause (awaitPendingAction; those
    // beyond the run's waiter cap fall back to polling): each must get the second action.
    const waiters = runIds.map((runId) =>
      Promise.all(
        approvers.map(() =>
          hitl
            .waitForPendingAction(runId, { afterActionId: firstPending.get(runId)!.actionId, timeoutMs: 180_000 })
            .catch((error: unknown) => ({ error: String(error) })),
        ),
      ),
    );
    const perAction = await mapLimit(runIds, 4, async (runId) => {
      const action = firstPending.get(runId)!;
      const first = await Promise.all(approvers.map((_, i) => racer(runId, action, i)));
      const retries = await Promise.all(approvers.map((_, i) => racer(runId, action, i)));
      return { runId, action, first, retries };
    });

    let winners = 0;
    let alreadyResolved = 0;
    let otherAnswers = 0;
    let retryMismatches = 0;
    const problems: string[] = [];
    for (const { runId, first, retries } of perAction) {
      const accepted = first.filter((a) => a.kind === 'accepted');
      winners += accepted.length;
      if (accepted.length !== 1) problems.push(`${runId}: ${accepted.length} winners`);
      for (const answer of first) {
        if (answer.kind === 'refused' && answer.type === 'AlreadyResolved') alreadyResolved += 1;
        else if (answer.kind !== 'accepted') {
          otherAnswers += 1;
          problems.push(`${runId}: ${JSON.stringify(answer)}`);
        }
      }
      first.forEach((answer, i) => {
        if (!sameAnswer(answer, retries[i]!)) {
          retryMismatches += 1;
          problems.push(`${runId} racer ${i}: first ${JSON.stringify(answer)}, retry ${JSON.stringify(retries[i])}`);
        }
      });
    }

    // Every run pauses again on its second call; the owner approves it, and the run completes.
    const secondPending = await waitAllPaused(hitl, runIds, 120_000);
    const waited = await Promise.all(waiters);
    let waitersRight = 0;
    const waiterProblems: string[] = [];
    waited.forEach((answers, r) => {
      const expected = secondPending.get(runIds[r]!)!;
      for (const answer of answers) {
        if ('pendingAction' in answer && answer.pendingAction?.actionId === expected.actionId) waitersRight += 1;
        else waiterProblems.push(`${runIds[r]}: ${JSON.stringify(answer).slice(0, 300)}`);
      }
    });
    const stale = await hitl.resolve(runIds[0]!, {
      actionId: firstPending.get(runIds[0]!)!.actionId,
      approver: owner,
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    await mapLimit(runIds, 16, async (runId) => {
      const action = secondPending.get(runId)!;
      assert.notEqual(action.actionId, firstPending.get(runId)!.actionId);
      const outcome = await hitl.resolve(runId, {
        actionId: action.actionId,
        approver: owner,
        decisions: [{ tool_call_id: 'call_2', decision: 'approve' }],
      });
      assert.ok(outcome.ok, JSON.stringify(outcome));
    });
    const statuses = tally((await waitAllResults(hitl, runIds, 120_000)).values());
    const lines = await Promise.all(files.map((file) => countLines(sandboxDir, owner, file)));
    const duplicates = lines.reduce((sum, count) => sum + Math.max(0, count - 2), 0);
    // The audit log: one accepted entry per action, and each losing racer judged once (retries are
    // answered by Temporal from the update id, not judged again).
    const audits = await mapLimit(runIds, 8, async (runId) => {
      const entries = entriesFor(await hitl.getRunState(runId), firstPending.get(runId)!.actionId);
      return {
        accepted: entries.filter((e) => e.outcome === 'accepted').length,
        refused: entries.filter((e) => e.outcome === 'refused').length,
      };
    });
    const auditProblems = audits.filter((a) => a.accepted !== 1).length;
    const scan = await scanHistories(cluster.client, runIds);
    figure(
      `resolution-race: ${m} actions x ${k} concurrent approvers (client + HTTP), ${winners} accepted, ` +
        `${alreadyResolved} AlreadyResolved, ${otherAnswers} other, ${retryMismatches} retries with a different answer, ` +
        `${duplicates} duplicate tool executions; ${m * k} waiters for the next pause, ${waitersRight} got it, ` +
        `${waiterProblems.length} did not`,
    );

    assert.deepEqual(problems.slice(0, 10), []);
    assert.deepEqual(waiterProblems.slice(0, 10), []);

    assert.equal(winners, m);
    assert.equal(alreadyResolved, m * (k - 1));
    assert.equal(retryMismatches, 0);
    assert.deepEqual(stale.ok ? 'accepted' : stale.refusal.type, 'AlreadyResolved');
    assert.deepEqual(statuses, { completed: m });
    assert.deepEqual(
      lines,
      runIds.map(() => 2),
    );
    assert.equal(auditProblems, 0);
    assert.deepEqual(
      audits.map((a) => a.refused),
      // run 0 also got the stale resolution above
      audits.map((_, i) => (i === 0 ? k : k - 1)),
      'each losing racer is judged (and audited) once; its retry is answered from the update id',
    );
    assert.equal(scan.workflowTaskFailures, 0, scan.failures.join('\n'));
  });

  it('expiry-race: resolutions around the expiry timer end each action resolved or expired, never both or neither', async () => {
    const e = SIZES.expiryActions;
    const ttlMs = 6000;
    // The timer fires a little after `expiresAt` (the task that started it completes first): the window
    // reaches further past it than before it.
    const windowBeforeMs = 500;
    const windowAfterMs = 900;
    const owner = 'expiry-owner';
    const files = Array.from({ length: e }, (_, i) => `expiry/run-${i}.txt`);
    const runIds = await startRuns(
      hitl,
      files.map((file) =>
        runInput(owner, [appendTurn('call_1', file, 'approved before expiry')], {
          approvalTtlMs: ttlMs,
          onExpiry: 'reject',
        }),
      ),
    );
    const pending = await waitAllPaused(hitl, runIds, 60_000);

    // Action i is resolved at expiresAt + offset(i), offsets spread evenly over the window;
    // even actions through the update, odd ones through the signal.
    const offset = (i: number) =>
      e === 1 ? 0 : Math.round(-windowBeforeMs + ((windowBeforeMs + windowAfterMs) * i) / (e - 1));
    const sent = await Promise.all(
      runIds.map(async (runId, i) => {
        const action = pending.get(runId)!;
        const at = Date.parse(action.expiresAt) + offset(i);
        await sleep(Math.max(0, at - Date.now()));
        const resolution = {
          actionId: action.actionId,
          approver: owner,
          decisions: [{ tool_call_id: 'call_1', decision: 'approve' as const }],
        };
        if (i % 2 === 1) {
          await hitl.signalResolve(runId, resolution).catch(() => undefined); // a closed run refuses the signal
          return undefined;
        }
        const outcome = await hitl.resolve(runId, resolution);
        return outcome.ok ? 'accepted' : outcome.refusal.type;
      }),
    );
    const statuses = tally((await waitAllResults(hitl, runIds, 120_000)).values());

    let resolved = 0;
    let expired = 0;
    let both = 0;
    let neither = 0;
    let sideEffectMismatches = 0;
    let answerMismatches = 0;
    const problems: string[] = [];
    await mapLimit(runIds, 8, async (runId, i) => {
      const state = await hitl.getRunState(runId);
      const entries = entriesFor(state, pending.get(runId)!.actionId);
      const accepted = entries.filter((x) => x.outcome === 'accepted').length;
      const expiredEntries = entries.filter((x) => x.outcome === 'expired').length;
      const lines = await countLines(sandboxDir, owner, files[i]!);
      const toolMessage = state.messages.find((msg) => msg.role === 'tool' && msg.tool_call_id === 'call_1');
      let outcome: 'resolved' | 'expired' | 'both' | 'neither';
      if (accepted === 1 && expiredEntries === 0) outcome = 'resolved';
      else if (accepted === 0 && expiredEntries === 1) outcome = 'expired';
      else outcome = accepted + expiredEntries === 0 ? 'neither' : 'both';
      if (outcome === 'resolved') resolved += 1;
      if (outcome === 'expired') expired += 1;
      if (outcome === 'both') both += 1;
      if (outcome === 'neither') neither += 1;
      const effectOk =
        outcome === 'resolved'
          ? lines === 1 && toolMessage?.role === 'tool' && toolMessage.status === 'success'
          : lines === 0 &&
            toolMessage?.role === 'tool' &&
            toolMessage.status === 'error' &&
            /Approval expired/.test(toolMessage.content);
      if (!effectOk) {
        sideEffectMismatches += 1;
        problems.push(`${runId}: ${outcome}, ${lines} lines, tool message ${JSON.stringify(toolMessage)}`);
      }
      const answer = sent[i];
      if (answer !== undefined) {
        const consistent =
          outcome === 'resolved' ? answer === 'accepted' : answer === 'ActionExpired' || answer === 'NoPendingAction';
        if (!consistent) {
          answerMismatches += 1;
          problems.push(`${runId}: ${outcome} but the update answered ${answer}`);
        }
      }
    });
    const scan = await scanHistories(cluster.client, runIds);
    figure(
      `expiry-race: ${e} actions resolved from ${windowBeforeMs} ms before to ${windowAfterMs} ms after their expiry ` +
        `(update + signal): ${resolved} resolved, ${expired} expired, ${both} both, ${neither} neither, ` +
        `${sideEffectMismatches} side-effect mismatches, ${answerMismatches} answer mismatches, ` +
        `${scan.workflowTaskFailures} workflow task failures (${scan.flowControlRetries} UnhandledCommand retries)`,
    );

    assert.deepEqual(problems.slice(0, 10), []);
    assert.equal(both, 0);
    assert.equal(neither, 0);
    assert.equal(resolved + expired, e);
    assert.ok(
      resolved > 0 && expired > 0,
      `both outcomes occur in the window (resolved ${resolved}, expired ${expired})`,
    );
    assert.deepEqual(statuses, { completed: e });
    assert.equal(scan.workflowTaskFailures, 0, scan.failures.join('\n'));
  });
});
