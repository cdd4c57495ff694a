// Scenario 6: hostile input through the update, the signal and the HTTP API (fast-check generated):
// resolutions, answers, edited arguments and run inputs. Every one is refused with a typed error or handled
// as specified; no workflow task fails; no run is stuck; every paused run can still be resolved afterwards.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import fc from 'fast-check';
import { InvalidRunInputError, refusalFromError, type HitlClient } from '../../src/client';
import {
  FINAL_RUN_STATUSES,
  GENERATION_RUN_WORKFLOW,
  MAX_JSON_DEPTH,
  MAX_RESOLUTION_CHARS,
  measureJson,
  REFUSAL_TYPES,
  resolveActionSignal,
  resolveActionUpdate,
  type PendingAction,
  type Resolution,
  type RunInput,
} from '../../src/contracts';
import { ERROR_TYPES, START_RUN_BODY_LIMIT, type ErrorBody } from '../../src/server';
import { request } from '../http/client';
import { AGENTS, HOSTILE_AGENT_FILE } from './support/agents';
import { startCluster, taskQueueFor, type ApiHandle, type Cluster } from './support/cluster';
import {
  hostileAnswers,
  hostileEditedArguments,
  hostileResolution,
  hostileAgentRequest,
  hostileRunInput,
  SEED,
  type HostileCase,
} from './support/hostile';
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
  workflowIdsOnQueue,
} from './support/runs';
import { figure, FULL, mapLimit, SIZES, until } from './support/suite';

const OWNER = 'hostile-owner';
/** The only identity allowed to resolve the targets; the owner may read them but not resolve them. */
const APPROVER = 'hostile-approver';
/** Who sends the hostile `POST /runs` requests: no run of this identity may ever exist. */
const STARTER = 'hostile-starter';
const REFUSAL_SET = new Set<string>(REFUSAL_TYPES);
const ERROR_TYPE_SET = new Set<string>(ERROR_TYPES);
const OVERSIZED = /size|limit|large|exceed/i;
const MB = 1024 * 1024;

/** Per target run: enough room below Temporal's per-execution update limit and the 500-refusal audit cap. */
const INPUTS_PER_TARGET = 120;

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return `${error.name}: ${error.message}${cause instanceof Error ? ` (cause ${cause.name}: ${cause.message})` : ''}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the workflow receives: the value after a JSON round trip (undefined when JSON drops it). */
function overTheWire(value: unknown): unknown {
  const text = JSON.stringify({ v: value });
  return (JSON.parse(text) as { v?: unknown }).v;
}

function short(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 160 ? `${text.slice(0, 160)}…(${text.length} chars)` : text;
}

describe('reliability: hostile input (update, signal, HTTP API; fast-check)', function () {
  this.timeout((FULL ? 60 : 15) * 60_000);
  let cluster: Cluster;
  let worker: ChildHandle;
  let api: ApiHandle;
  let hitl: HitlClient;
  let hostileDir: string;
  let sandboxDir: string;
  const taskQueue = taskQueueFor('hostile');

  before(async () => {
    cluster = await startCluster('hostile');
    hostileDir = path.join(cluster.dir, 'hostile');
    sandboxDir = path.join(hostileDir, 'sandbox');
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

  it('hostile-input: every hostile input is refused with a typed error or handled as specified', async () => {
    const total = SIZES.hostileInputs;
    const counts = {
      resolutions: Math.round(total * 0.6),
      answers: Math.round(total * 0.15),
      edits: Math.round(total * 0.06),
    };
    const rawStarts = FULL ? 150 : 12;
    const weirdValidRuns = FULL ? 20 : 4;
    /** Valid but odd `POST /runs` requests (unicode owners, odd transcripts and tightening): they must complete. */
    const oddAgentRuns = FULL ? 20 : 4;
    const runInputs =
      total - counts.resolutions - counts.answers - counts.edits - rawStarts - weirdValidRuns - oddAgentRuns;
    /** Hostile agent requests through `POST /runs` (the rest of `runInputs` are inline inputs via the client). */
    const agentRequests = Math.ceil(runInputs / 2);
    const problems: string[] = [];
    const outcomes: string[] = [];
    const problem = (what: string) => {
      if (problems.length < 50) problems.push(what);
    };
    const [ownerToken, approverToken, starterToken] = await Promise.all([
      api.token(OWNER),
      api.token(APPROVER),
      api.token(STARTER),
    ]);
    const handle = (runId: string) => cluster.client.workflow.getHandle(runId);

    // ---- the targets: runs paused on a tool approval, on a batch of questions, and runs that take edits ----
    const approvalTargets = Math.max(1, Math.ceil(counts.resolutions / INPUTS_PER_TARGET));
    const questionTargets = Math.max(1, Math.ceil(counts.answers / INPUTS_PER_TARGET));
    const approvalFiles = Array.from({ length: approvalTargets }, (_, i) => `approval/run-${i}.txt`);
    const approvalIds = await startRuns(
      hitl,
      approvalFiles.map((file) => runInput(OWNER, [appendTurn('call_1', file, 'approved')], { approvers: [APPROVER] })),
    );
    const questionIds = await startRuns(
      hitl,
      Array.from({ length: questionTargets }, () =>
        runInput(
          OWNER,
          [
            {
              tool_calls: [
                {
                  id: 'call_q',
                  name: 'ask_user_question',
                  arguments: {
                    questions: [
                      { id: 'q1', question: 'One?' },
                      { id: 'q2', question: 'Two?' },
                    ],
                  },
                },
              ],
            },
          ],
          { tools: ['ask_user_question'], approvers: [APPROVER] },
        ),
      ),
    );
    const initial = await waitAllPaused(hitl, [...approvalIds, ...questionIds], 120_000);

    // ---- 1. resolutions and answers through update, signal and HTTP, concurrently ----
    type Sent = { runId: string; channel: 'update' | 'signal' | 'http'; hostile: HostileCase };
    const sends: Sent[] = [];
    const makeCases = (runIds: string[], n: number, arb: (action: PendingAction) => fc.Arbitrary<HostileCase>) => {
      runIds.forEach((runId, t) => {
        const share = Math.floor(n / runIds.length) + (t < n % runIds.length ? 1 : 0);
        const cases = fc.sample(arb(initial.get(runId)!), { numRuns: share, seed: SEED + t + sends.length });
        cases.forEach((hostile, i) =>
          sends.push({ runId, channel: (['update', 'signal', 'http'] as const)[i % 3]!, hostile }),
        );
      });
    };
    makeCases(approvalIds, counts.resolutions, (action) =>
      hostileResolution({ actionId: action.actionId, callId: 'call_1', approver: APPROVER }),
    );
    makeCases(questionIds, counts.answers, (action) =>
      hostileAnswers({ actionId: action.actionId, approver: APPROVER }),
    );
    const signalsDelivered = new Map<string, number>();

    const sendOne = async ({ runId, channel, hostile }: Sent): Promise<string> => {
      const label = `${channel} ${hostile.label} ${short(hostile.value)}`;
      if (channel === 'update') {
        try {
          await handle(runId).executeUpdate(resolveActionUpdate, { args: [hostile.value as Resolution] });
          problem(`ACCEPTED ${label}`);
          return 'update:accepted';
        } catch (error) {
          const refusal = refusalFromError(error);
          if (refusal && REFUSAL_SET.has(refusal.type)) return `update:${refusal.type}`;
          if (OVERSIZED.test(errorText(error))) return 'update:oversized';
          problem(`${label} → ${errorText(error)}`);
          return 'update:untyped-error';
        }
      }
      if (channel === 'signal') {
        try {
          await handle(runId).signal(resolveActionSignal, hostile.value as Resolution);
          signalsDelivered.set(runId, (signalsDelivered.get(runId) ?? 0) + 1);
          return 'signal:recorded';
        } catch (error) {
          if (OVERSIZED.test(errorText(error))) return 'signal:oversized';
          problem(`${label} → ${errorText(error)}`);
          return 'signal:untyped-error';
        }
      }
      const res = await request<ErrorBody>(api.url, 'POST', `/runs/${encodeURIComponent(runId)}/resolve`, {
        token: hostile.refusedForAnyApprover ? approverToken : ownerToken,
        ...(hostile.value === undefined ? { rawBody: '' } : { rawBody: JSON.stringify(hostile.value) }),
        headers: { 'content-type': 'application/json' },
      }).catch((error: unknown) => ({
        status: -1,
        body: { type: errorText(error) } as ErrorBody,
        headers: new Headers(),
      }));
      if ([400, 403, 409, 413, 415].includes(res.status) && ERROR_TYPE_SET.has(res.body?.type)) {
        return `http:${res.status}:${res.body.type}`;
      }
      problem(`${label} → HTTP ${res.status} ${short(res.body)}`);
      return `http:unexpected-${res.status}`;
    };
    outcomes.push(...(await mapLimit(sends, 16, sendOne)));

    // ---- 2. oversized and deeply nested payloads, each on a run of its own: a clear error, never a crash ----
    const big = (n: number) => 'x'.repeat(n);
    /** JSON text of a resolution editing call_1 with arguments nested `depth` arrays deep (no JS client can send it). */
    const deepEdit = (actionId: string, depth: number, withApprover: boolean) =>
      `{"actionId":${JSON.stringify(actionId)},${withApprover ? `"approver":"${APPROVER}",` : ''}"decisions":[` +
      `{"tool_call_id":"call_1","decision":"edit","editedArguments":{"path":"deep.txt","a":${'['.repeat(depth)}${']'.repeat(depth)}}}]}`;
    const rawPayload = (json: string) => ({
      metadata: { encoding: Buffer.from('json/plain') },
      data: Buffer.from(json),
    });
    const DEEP = 20_000;
    /** `rawOversize`: sent with the plain Temporal client, above Temporal's 2 MB payload limit (see below). */
    type Edge = { label: string; rawOversize?: boolean; run: (runId: string, actionId: string) => Promise<string> };
    // A plain Temporal client can send an update above the 2 MB payload limit: the server admits it, the
    // worker's SDK refuses to echo it back (workflow task failed, cause PayloadsTooLarge) and the caller gets
    // FAILED_PRECONDITION. Nothing the workflow can prevent; the run must simply be unharmed. Those task
    // failures are counted apart, and only allowed on these runs.
    const rawOversizedUpdate = (value: unknown) => async (runId: string) => {
      try {
        await handle(runId).executeUpdate(resolveActionUpdate, { args: [value as Resolution] });
        problem(`an oversized update was accepted`);
        return 'update:accepted';
      } catch (error) {
        const refusal = refusalFromError(error);
        if (refusal) return `update:${refusal.type}`;
        if (OVERSIZED.test(errorText(error)) || /FAILED_PRECONDITION/.test(errorText(error)))
          return 'update:refused-by-temporal';
        problem(`oversized raw update → ${errorText(error)}`);
        return 'update:untyped-error';
      }
    };
    const edges: Edge[] = [
      {
        label: 'HitlClient.resolve with a 2.5 MB answer',
        run: async (runId, actionId) => {
          try {
            const outcome = await hitl.resolve(runId, { actionId, approver: APPROVER, answer: big(2.5 * MB) });
            if (!outcome.ok) return `client:${outcome.refusal.type}`;
            problem('HitlClient.resolve accepted a 2.5 MB resolution');
            return 'client:accepted';
          } catch (error) {
            if (OVERSIZED.test(errorText(error)) && !/FAILED_PRECONDITION/.test(errorText(error)))
              return 'client:oversized';
            problem(`HitlClient.resolve with a 2.5 MB answer → ${errorText(error)}`);
            return 'client:untyped-error';
          }
        },
      },
      {
        label: 'raw update with a 2.5 MB answer',
        rawOversize: true,
        run: (runId, actionId) => rawOversizedUpdate({ actionId, approver: APPROVER, answer: big(2.5 * MB) })(runId),
      },
      {
        label: 'raw update with a 2.5 MB actionId',
        rawOversize: true,
        run: (runId) => rawOversizedUpdate({ actionId: big(2.5 * MB), approver: APPROVER })(runId),
      },
      {
        label: 'raw update of 5 MB',
        rawOversize: true,
        run: (runId, actionId) => rawOversizedUpdate({ actionId, approver: APPROVER, answer: big(5 * MB) })(runId),
      },
      {
        label: 'signal with a 2.5 MB answer',
        run: (runId, actionId) =>
          sendOne({
            runId,
            channel: 'signal',
            hostile: {
              label: 'edge',
              value: { actionId, approver: APPROVER, answer: big(2.5 * MB) },
              refusedForAnyApprover: true,
            },
          }),
      },
      {
        label: 'HTTP resolve body of 2 MB',
        run: (runId, actionId) =>
          sendOne({
            runId,
            channel: 'http',
            hostile: { label: 'edge', value: { actionId, answer: big(2 * MB) }, refusedForAnyApprover: true },
          }),
      },
      {
        label: 'HTTP resolve body of 900 KB (under the API limit)',
        run: (runId, actionId) =>
          sendOne({
            runId,
            channel: 'http',
            hostile: { label: 'edge', value: { actionId, answer: big(900 * 1024) }, refusedForAnyApprover: true },
          }),
      },
      {
        label: `signal (raw JSON) with editedArguments nested ${DEEP} deep, from the approver`,
        run: async (runId, actionId) => {
          await cluster.client.workflowService.signalWorkflowExecution({
            namespace: 'default',
            workflowExecution: { workflowId: runId },
            signalName: 'resolveAction',
            input: { payloads: [rawPayload(deepEdit(actionId, DEEP, true))] },
            identity: 'hostile',
          });
          signalsDelivered.set(runId, (signalsDelivered.get(runId) ?? 0) + 1);
          return 'signal:recorded';
        },
      },
      {
        label: `update (raw JSON) with editedArguments nested ${DEEP} deep, from the approver`,
        run: async (runId, actionId) => {
          try {
            const response = await cluster.connection.withDeadline(Date.now() + 20_000, () =>
              cluster.client.workflowService.updateWorkflowExecution({
                namespace: 'default',
                workflowExecution: { workflowId: runId },
                request: {
                  meta: { updateId: randomUUID(), identity: 'hostile' },
                  input: { name: 'resolveAction', args: { payloads: [rawPayload(deepEdit(actionId, DEEP, true))] } },
                },
                waitPolicy: { lifecycleStage: 3 }, // COMPLETED
              }),
            );
            const type = response.outcome?.failure?.applicationFailureInfo?.type;
            if (type && REFUSAL_SET.has(type)) return `update:${type}`;
            problem(`raw deep update → ${response.outcome?.success ? 'accepted' : short(response.outcome)}`);
            return 'update:unexpected';
          } catch (error) {
            problem(`raw deep update → ${errorText(error)}`);
            return 'update:untyped-error';
          }
        },
      },
      {
        label: `HTTP resolve with editedArguments nested ${DEEP} deep, as the approver`,
        run: async (runId, actionId) => {
          const res = await request<ErrorBody>(api.url, 'POST', `/runs/${encodeURIComponent(runId)}/resolve`, {
            token: approverToken,
            rawBody: deepEdit(actionId, DEEP, false),
          });
          if ([400, 403, 409, 413].includes(res.status) && ERROR_TYPE_SET.has(res.body?.type)) {
            return `http:${res.status}:${res.body.type}`;
          }
          problem(`HTTP deep edit → ${res.status} ${short(res.body)}`);
          return `http:unexpected-${res.status}`;
        },
      },
    ];
    const edgeFiles = edges.map((_, i) => `edge/run-${i}.txt`);
    const edgeIds = await startRuns(
      hitl,
      edgeFiles.map((file) => runInput(OWNER, [appendTurn('call_1', file, 'approved')], { approvers: [APPROVER] })),
    );
    const edgePending = await waitAllPaused(hitl, edgeIds, 60_000);
    const edgeOutcomes = await Promise.all(
      edges.map(
        async (edge, i) => `${edge.label}: ${await edge.run(edgeIds[i]!, edgePending.get(edgeIds[i]!)!.actionId)}`,
      ),
    );
    const startEdges: string[] = [];
    /** A long conversation is a legitimate start: the API stages it in the content store (issue 13). */
    const bigStartIds: string[] = [];
    {
      const res = await request<ErrorBody & { runId?: string }>(api.url, 'POST', '/runs', {
        token: ownerToken,
        body: { agentId: AGENTS.hostile, conversationId: 'c', messages: [{ role: 'user', content: big(2 * MB) }] },
      });
      if (res.status !== 201 || typeof res.body.runId !== 'string')
        problem(`HTTP start 2 MB → ${res.status} ${short(res.body)}`);
      else {
        bigStartIds.push(res.body.runId);
        // It runs like any other start of the agent: its first pause (or its end), then it is aborted.
        const wait = await hitl.waitForPendingAction(res.body.runId, { timeoutMs: 60_000 });
        if (wait.pendingAction === null && !FINAL_RUN_STATUSES.has(wait.status))
          problem(`the 2 MB start neither paused nor ended: ${wait.status}`);
        if (!FINAL_RUN_STATUSES.has(wait.status)) await hitl.abort(res.body.runId);
      }
      startEdges.push(`HTTP start body of 2 MB: http:${res.status}${res.status === 201 ? ' (staged)' : ''}`);
      // Announced larger than the limit: refused from its headers, before any of it is read.
      const over = await announceBody(api.url, '/runs', ownerToken, START_RUN_BODY_LIMIT + 1);
      if (over.status !== 413 || over.body.type !== 'PayloadTooLarge')
        problem(`HTTP start over the body limit → ${over.status} ${short(over.body)}`);
      startEdges.push(`HTTP start body over 64 MiB: http:${over.status}:${over.body?.type}`);
      try {
        await hitl.startRun(
          { ...runInput(OWNER, []), messages: [{ role: 'user', content: big(2.5 * MB) }] },
          { runId: `hostile-big-start-${randomUUID()}` },
        );
        problem('a 2.5 MB run input was started');
        startEdges.push('workflow start with a 2.5 MB message: started');
      } catch (error) {
        if (!OVERSIZED.test(errorText(error))) problem(`start 2.5 MB → ${errorText(error)}`);
        startEdges.push(
          `workflow start with a 2.5 MB message: ${OVERSIZED.test(errorText(error)) ? 'oversized' : 'untyped-error'}`,
        );
      }
    }
    // A run that can no longer make progress (its workflow task fails on every attempt) cannot even be queried.
    // A raw update over 2 MB fails one workflow task (the rejection echoes the request and is too large for
    // the server); the next attempt recovers, so a run counts as stuck only if it stays unqueryable for 60 s.
    const edgeStates = await mapLimit(edgeIds, 4, async (runId, i) => {
      const deadline = Date.now() + 60_000;
      let lastError: unknown;
      let state: Awaited<ReturnType<typeof hitl.getRunState>> | undefined;
      while (state === undefined && Date.now() < deadline) {
        state = await cluster.connection
          .withDeadline(Date.now() + 15_000, () => hitl.getRunState(runId))
          .catch((error: unknown) => {
            lastError = error;
            return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1_000));
          });
      }
      if (state === undefined) {
        problem(`after "${edges[i]!.label}" the run cannot be queried: ${errorText(lastError)}`);
      }
      if (state && state.pendingAction?.actionId !== edgePending.get(runId)!.actionId) {
        problem(`after "${edges[i]!.label}" the run is no longer paused on its action`);
      }
      return state;
    });
    const edgeStuck = edgeStates.filter((state) => state === undefined).length;

    // ---- 3. run inputs: agent requests via HTTP POST /runs, inline inputs via HitlClient.startRun, raw starts ----
    // A run request names an agent and may only tighten it: every hostile one is refused with 400 (413 only
    // when the body is over the API's limit), never a 5xx, and never starts a run (checked on the queue below).
    const badRequests = fc.sample(hostileAgentRequest(AGENTS.hostile), { numRuns: agentRequests, seed: SEED + 5 });
    const agentRequestOutcomes = await mapLimit(badRequests, 16, async ({ label, value }) => {
      const body = JSON.stringify(value);
      const res = await request<ErrorBody>(api.url, 'POST', '/runs', {
        token: starterToken,
        rawBody: body,
        headers: { 'content-type': 'application/json' },
      }).catch((error: unknown) => ({
        status: -1,
        body: { type: errorText(error) } as ErrorBody,
        headers: new Headers(),
      }));
      if (res.status === 400 && ['InvalidInput', 'InvalidRequest'].includes(res.body?.type))
        return `http-start:400:${res.body.type} (${label})`;
      if (res.status === 413 && res.body?.type === 'PayloadTooLarge' && Buffer.byteLength(body) > MB)
        return `http-start:413:PayloadTooLarge (${label})`;
      problem(`HTTP start (${label}) ${short(value)} → ${res.status} ${short(res.body)}`);
      return `http-start:unexpected-${res.status}`;
    });
    const clientInputs = runInputs - agentRequests;
    const badInputs = fc.sample(hostileRunInput, { numRuns: clientInputs + Math.ceil(rawStarts / 2), seed: SEED + 7 });
    const clientOutcomes = await mapLimit(badInputs.slice(0, clientInputs), 16, async (input) => {
      try {
        await hitl.startRun(input as RunInput);
        problem(`client started ${short(input)}`);
        return 'client-start:accepted';
      } catch (error) {
        if (error instanceof InvalidRunInputError) return 'client-start:InvalidInput';
        problem(`client start ${short(input)} → ${errorText(error)}`);
        return 'client-start:untyped-error';
      }
    });
    const runInputOutcomes = [...agentRequestOutcomes, ...clientOutcomes];
    // Raw starts bypass the client's check: the workflow itself must fail them at once with InvalidInput.
    // Half are inline inputs, half agent requests (with their owner) that are invalid as a run input too.
    const rawInputs: unknown[] = [
      ...badInputs.slice(clientInputs),
      ...fc
        .sample(
          hostileAgentRequest(AGENTS.hostile).filter((r) => r.workflowRefuses),
          { numRuns: Math.floor(rawStarts / 2), seed: SEED + 13 },
        )
        .map((r) => ({ userId: STARTER, ...r.value })),
    ];
    const rawIds = rawInputs.map(() => `hostile-raw-${randomUUID()}`);
    await mapLimit(rawInputs, 8, async (input, i) => {
      await cluster.client.workflow.start(GENERATION_RUN_WORKFLOW, {
        taskQueue,
        workflowId: rawIds[i]!,
        args: [input],
      });
    });
    const rawOutcomes = await mapLimit(rawIds, 8, async (runId) => {
      try {
        await handle(runId).result();
        return 'raw-start:completed';
      } catch (error) {
        if (error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure) {
          return `raw-start:${error.cause.type ?? 'untyped'}`;
        }
        return `raw-start:${errorText(error)}`;
      }
    });
    for (const [i, outcome] of rawOutcomes.entries()) {
      if (outcome !== 'raw-start:InvalidInput') problem(`raw start ${short(rawInputs[i])} → ${outcome}`);
    }

    // ---- 4. edited arguments: objects are accepted (tool validates them), the rest IncompleteDecision ----
    const escapeName = `hitl-escape-${randomUUID()}.txt`;
    const edits = fc.sample(
      hostileEditedArguments({ relative: escapeName, absolute: path.join(hostileDir, escapeName) }),
      { numRuns: counts.edits, seed: SEED + 11 },
    );
    const editRuns = FULL ? 10 : 3;
    const editPlans = Array.from({ length: editRuns }, (_, r) => edits.filter((_, i) => i % editRuns === r));
    /** True when the resolution carrying `value` is too deep or too large as a whole (refused by the shape check). */
    const tooBig = (value: unknown) =>
      'exceeded' in
      measureJson(overTheWire({ actionId: 'a', approver: APPROVER, decisions: [{ editedArguments: value }] }), {
        maxDepth: MAX_JSON_DEPTH,
        maxChars: MAX_RESOLUTION_CHARS,
      });
    const accepts = (value: unknown) => {
      const wire = overTheWire(value);
      return !tooBig(value) && isPlainObject(wire) && JSON.stringify(wire).length <= 100_000;
    };
    const editIds = await startRuns(
      hitl,
      editPlans.map((plan, r) => {
        const turns = plan.filter(accepts).length + 1;
        return runInput(
          OWNER,
          Array.from({ length: turns }, (_, t) => appendTurn(`call_${t}`, `edits/run-${r}.txt`, `turn ${t}`)),
          { approvers: [APPROVER], maxTurns: turns + 2 },
        );
      }),
    );
    const editOutcomes = await mapLimit(editPlans, editRuns, async (plan, r) => {
      const runId = editIds[r]!;
      const results: string[] = [];
      let action = await until(() => hitl.getPendingAction(runId), `the first pause of ${runId}`, 60_000);
      for (const value of plan) {
        const callId = action.payload.type === 'tool_approval' ? action.payload.review_configs[0]!.tool_call_id : '?';
        const resolution = {
          actionId: action.actionId,
          approver: APPROVER,
          decisions: [{ tool_call_id: callId, decision: 'edit', editedArguments: value }],
        };
        const expected = tooBig(value) ? 'InvalidResolution' : accepts(value) ? 'accepted' : 'IncompleteDecision';
        let got: string;
        try {
          await handle(runId).executeUpdate(resolveActionUpdate, { args: [resolution as Resolution] });
          got = 'accepted';
        } catch (error) {
          got = refusalFromError(error)?.type ?? `untyped ${errorText(error)}`;
        }
        results.push(`edit:${got}`);
        if (got !== expected) problem(`edit ${short(value)}: expected ${expected}, got ${got}`);
        if (got === 'accepted') {
          const previous = action.actionId;
          action = await until(
            async () => {
              const next = await hitl.getPendingAction(runId);
              return next && next.actionId !== previous ? next : undefined;
            },
            `the next pause of ${runId}`,
            60_000,
            100,
          );
        }
      }
      return results;
    });

    // ---- 5. valid but odd runs: unicode identities, polluted and deep tool arguments — they work ----
    const oddArgs = (i: number) =>
      JSON.parse(
        `{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}},"path":"odd/run-${i}.txt",` +
          `"content":"odd ✓ ${i}\\n","deep":${'['.repeat(MAX_JSON_DEPTH - 2)}"leaf"${']'.repeat(MAX_JSON_DEPTH - 2)},"ünïcødé‮":"😀"}`,
      ) as Record<string, unknown>;
    const oddUsers = Array.from({ length: weirdValidRuns }, (_, i) => `Ünïcødé-用户-😀-${i}`);
    const oddIds = await startRuns(
      hitl,
      oddUsers.map((user, i) =>
        runInput(user, [{ tool_calls: [{ id: 'call_odd', name: 'append_file', arguments: oddArgs(i) }] }], {
          conversationId: `conv ✓ ${i} <script>`,
        }),
      ),
    );
    const oddPending = await waitAllPaused(hitl, oddIds, 60_000);
    oddIds.forEach((runId, i) => {
      const action = oddPending.get(runId)!;
      const shown = action.payload.type === 'tool_approval' ? action.payload.action_requests[0]!.arguments : undefined;
      const { ['__proto__']: _dropped, ...expected } = overTheWire(oddArgs(i)) as Record<string, unknown>;
      // zod drops an own "__proto__" key (it never becomes a prototype); everything else is shown as sent.
      if (JSON.stringify(shown) !== JSON.stringify(expected))
        problem(`odd run ${i}: arguments shown as ${short(shown)}`);
    });
    const oddListed = await until(
      async () => {
        const listed = await Promise.all(
          oddUsers.map((user) => hitl.listRuns({ userId: user, status: 'requires_action' })),
        );
        return listed.every((runs) => runs.length === 1) ? listed.length : undefined;
      },
      'visibility to list each odd user’s paused run',
      30_000,
    ).catch(() => 0);

    // ---- 5b. valid but odd agent requests through POST /runs: unicode owners, odd conversation ids and
    // transcripts, tightening that changes nothing. They start, pause, are approved over HTTP and complete ----
    const oddAgentUsers = Array.from({ length: oddAgentRuns }, (_, i) => `Ägënt-用户-😀\u202e-${i}`);
    const oddTranscript = (i: number) =>
      [
        [{ role: 'user', content: `odd ✓ \u0000 e\u0301 \u202eevil 😀 \ud800 ${i}` }],
        [
          { role: 'user', content: 'delete ../../x' },
          {
            role: 'assistant',
            content: '',
            tool_calls: [{ id: 'h1', name: 'delete_file', arguments: { path: '../../x' } }],
          },
          { role: 'tool', tool_call_id: 'h1', name: 'delete_file', status: 'error', content: 'refused' },
          { role: 'user', content: '" OR HitlUserId="victim' },
        ],
        [{ role: 'user', content: 'y'.repeat(100_000) }],
      ][i % 3]!;
    // None of these patterns matches append_file (`*` is the only wildcard; literal, anchored, case-sensitive).
    const oddTighten = (i: number) =>
      [
        undefined,
        {},
        { deny: ['APPEND_FILE', 'append_file ', '😀*', '*_files_*', 'delete_file'], ask: ['nothing_*'] },
        { approvalTtlMs: 3_600_000, onExpiry: 'abort' },
        { ask: ['append_file', 'append_*'] },
      ][i % 5];
    const oddAgentTokens = await Promise.all(oddAgentUsers.map((user) => api.token(user)));
    const oddAgentStarts = await mapLimit(oddAgentUsers, 4, async (_, i) => {
      const tighten = oddTighten(i);
      const body = {
        agentId: AGENTS.hostile,
        conversationId: `conv ✓ ${i} <script>" OR HitlConversationId="x`,
        messages: oddTranscript(i),
        ...(tighten !== undefined ? { tighten } : {}),
      };
      const res = await request<{ runId: string } & ErrorBody>(api.url, 'POST', '/runs', {
        token: oddAgentTokens[i]!,
        body,
      });
      if (res.status !== 201) problem(`odd agent request ${i} ${short(body)} → ${res.status} ${short(res.body)}`);
      return res.status === 201 ? res.body.runId : undefined;
    });
    const oddAgentIds = oddAgentStarts.filter((runId): runId is string => runId !== undefined);
    const oddAgentPending = await waitAllPaused(hitl, oddAgentIds, 60_000);
    const oddAgentResolved = await mapLimit(oddAgentUsers, 4, async (user, i) => {
      const runId = oddAgentStarts[i];
      if (runId === undefined) return false;
      const action = oddAgentPending.get(runId)!;
      const asked = action.payload.type === 'tool_approval' ? action.payload.action_requests : [];
      if (asked.length !== 1 || asked[0]!.name !== 'append_file' || asked[0]!.arguments.path !== HOSTILE_AGENT_FILE)
        problem(`odd agent run ${i} paused on ${short(asked)}`);
      const res = await request<ErrorBody>(api.url, 'POST', `/runs/${encodeURIComponent(runId)}/resolve`, {
        token: oddAgentTokens[i]!,
        body: { actionId: action.actionId, decisions: [{ tool_call_id: 'call_1', decision: 'approve' }] },
      });
      if (res.status !== 200) problem(`odd agent run ${i}: approval by ${user} → ${res.status} ${short(res.body)}`);
      return res.status === 200;
    });
    const oddAgentListed = await until(
      async () => {
        const listed = await Promise.all(
          oddAgentTokens.map(
            async (token) => (await request<{ runs: { runId: string }[] }>(api.url, 'GET', '/runs', { token })).body,
          ),
        );
        const right = listed.filter((list, i) => list.runs.length === 1 && list.runs[0]!.runId === oddAgentStarts[i]);
        return right.length === oddAgentUsers.length ? right.length : undefined;
      },
      'GET /runs to list each odd agent user’s run, and only it',
      30_000,
    ).catch(() => 0);

    // ---- 6. afterwards: every target still paused on the same action, signals all recorded; then resolvable ----
    for (const runId of [...approvalIds, ...questionIds]) {
      const state = await hitl.getRunState(runId);
      if (state.pendingAction?.actionId !== initial.get(runId)!.actionId)
        problem(`${runId} is no longer paused on its action`);
      if (state.decisions.some((d) => d.outcome === 'accepted')) problem(`${runId} has an accepted resolution`);
      const recorded = state.decisions.filter((d) => d.via === 'signal' && d.outcome === 'refused').length;
      const delivered = signalsDelivered.get(runId) ?? 0;
      if (delivered <= 500 && recorded !== delivered)
        problem(`${runId}: ${delivered} signals delivered, ${recorded} recorded`);
    }
    const resolvable = [
      ...approvalIds,
      ...questionIds,
      ...editIds,
      ...oddIds,
      ...edgeIds.filter((_, i) => edgeStates[i]),
    ];
    const finals = await mapLimit(resolvable, 16, async (runId) => {
      const action = await until(() => hitl.getPendingAction(runId), `the pause of ${runId}`, 60_000);
      const approver = oddIds.includes(runId) ? oddUsers[oddIds.indexOf(runId)]! : APPROVER;
      const resolution: Resolution =
        action.payload.type === 'ask_user_question'
          ? { actionId: action.actionId, approver, answers: { q1: 'uno', q2: 'dos' } }
          : {
              actionId: action.actionId,
              approver,
              decisions: (action.payload.type === 'tool_approval' ? action.payload.review_configs : []).map((c) => ({
                tool_call_id: c.tool_call_id,
                decision: 'approve' as const,
              })),
            };
      const outcome = await hitl.resolve(runId, resolution);
      if (!outcome.ok) problem(`final resolution of ${runId} refused: ${short(outcome.refusal)}`);
      return outcome.ok;
    });
    const targets = [...resolvable, ...oddAgentIds];
    const statuses = tally((await waitAllResults(hitl, targets, 120_000)).values());
    const approvalLines = await Promise.all(approvalFiles.map((file) => countLines(sandboxDir, OWNER, file)));
    const oddLines = await Promise.all(oddIds.map((_, i) => countLines(sandboxDir, oddUsers[i]!, `odd/run-${i}.txt`)));
    const oddAgentLines = await Promise.all(
      oddAgentUsers.map((user) => countLines(sandboxDir, user, HOSTILE_AGENT_FILE)),
    );

    // ---- 7. the whole task queue: no workflow task failed, nothing is left running, nothing escaped ----
    const everyRun = await workflowIdsOnQueue(cluster.client, taskQueue);
    // Every run on the queue is one this scenario started on purpose: no refused input started one.
    const startedOnPurpose = new Set([
      ...approvalIds,
      ...questionIds,
      ...edgeIds,
      ...rawIds,
      ...editIds,
      ...oddIds,
      ...oddAgentIds,
      ...bigStartIds,
    ]);
    const startedByRefused = everyRun.filter((runId) => !startedOnPurpose.has(runId));
    for (const runId of startedByRefused.slice(0, 5)) problem(`a run nobody meant to start is on the queue: ${runId}`);
    const starterRuns = await hitl.listRuns({ userId: STARTER, limit: 100 });
    if (starterRuns.length > 0) problem(`${starterRuns.length} runs of ${STARTER}, whose every request was refused`);
    const scan = await scanHistories(cluster.client, everyRun);
    const rawOversizeRuns = new Set(edgeIds.filter((_, i) => edges[i]!.rawOversize));
    const payloadLimitElsewhere = [...scan.payloadTooLarge.keys()].filter((runId) => !rawOversizeRuns.has(runId));
    const payloadLimitFailures = [...scan.payloadTooLarge.values()].reduce((a, b) => a + b, 0);
    const stillRunning = (
      await mapLimit(everyRun, 16, async (runId) => (await handle(runId).describe()).status.name)
    ).filter((s) => s === 'RUNNING').length;
    const escaped = readdirSync(hostileDir).filter((name) => name.startsWith('hitl-escape-'));
    const polluted =
      Object.keys(Object.prototype).length + (({} as Record<string, unknown>).isAdmin === undefined ? 0 : 1);
    const apiHealthy = (await request<{ ok: boolean }>(api.url, 'GET', '/healthz')).body?.ok === true;

    const all = [
      ...outcomes,
      ...edgeOutcomes,
      ...startEdges,
      ...runInputOutcomes,
      ...rawOutcomes,
      ...editOutcomes.flat(),
    ];
    const sent = all.length + oddIds.length + oddAgentUsers.length;
    const runInputsSent = runInputOutcomes.length + rawOutcomes.length;
    figure(
      `hostile-input: ${sent} hostile inputs (seed ${SEED}; ${sends.length} resolutions/answers via update+signal+HTTP, ` +
        `${edges.length + startEdges.length} oversized or deeply nested (${edgeStuck} left a run stuck), ` +
        `${runInputsSent} run inputs (${agentRequestOutcomes.length} agent requests via POST /runs, ` +
        `${agentRequestOutcomes.filter((o) => o.startsWith('http-start:400:')).length} refused 400; ${clientOutcomes.length} inline via the client; ` +
        `${rawOutcomes.length} raw starts; ${startedByRefused.length} runs started by them), ${edits.length} edited arguments, ` +
        `${oddIds.length + oddAgentUsers.length} odd-but-valid runs (${oddAgentUsers.length} via POST /runs)), ${problems.length} mishandled, ${scan.workflowTaskFailures} workflow task failures ` +
        `in ${everyRun.length} runs (+${payloadLimitFailures} PayloadsTooLarge from > 2 MB raw updates, runs unharmed), ${stillRunning} stuck, ${escaped.length} sandbox escapes, ` +
        `${targets.length - (statuses.completed ?? 0)} targets not completed after a correct resolution`,
    );
    console.log(
      `        outcomes: ${JSON.stringify(tally(all.map((o) => o.replace(/^(edit|raw-start):untyped.*/, '$1:untyped'))))}`,
    );
    if (scan.failures.length > 0)
      console.log(`        workflow task failures: ${scan.failures.map((f) => f.slice(0, 300)).join(' | ')}`);
    console.log(`        edge cases: ${[...edgeOutcomes, ...startEdges].join(' | ')}`);

    assert.deepEqual(problems, []);
    assert.equal(scan.workflowTaskFailures, 0, scan.failures.join('\n'));
    assert.deepEqual(payloadLimitElsewhere, [], 'PayloadsTooLarge only where a raw client sent more than 2 MB');
    assert.equal(edgeStuck, 0, 'no oversized or deeply nested input leaves a run stuck');
    assert.equal(stillRunning, 0);
    assert.deepEqual(statuses, { completed: targets.length });
    assert.ok(finals.every(Boolean));
    assert.deepEqual(
      approvalLines,
      approvalIds.map(() => 1),
    );
    assert.deepEqual(
      oddLines,
      oddIds.map(() => 1),
    );
    assert.equal(oddListed, oddUsers.length);
    assert.deepEqual(
      oddAgentLines,
      oddAgentUsers.map(() => 1),
      'every odd agent request ran its approved tool once, in its owner’s folder',
    );
    assert.ok(oddAgentResolved.every(Boolean));
    assert.equal(oddAgentListed, oddAgentUsers.length);
    assert.deepEqual(startedByRefused, [], 'no refused input started a run');
    assert.deepEqual(escaped, []);
    assert.ok(!existsSync(path.join(cluster.dir, escapeName)));
    assert.equal(polluted, 0);
    assert.ok(apiHealthy);
  });
});

/**
 * A POST whose headers announce `bytes` of JSON body and which sends none of it: what a server that checks the
 * announced length answers (a real upload of that size would be cut off by the refusal mid-way).
 */
function announceBody(
  baseUrl: string,
  route: string,
  token: string,
  bytes: number,
): Promise<{ status: number; body: ErrorBody }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(route, baseUrl), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': String(bytes),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        req.destroy();
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as ErrorBody });
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}
