// Runs the scenarios start, and how their outcome is measured: side effects are counted in the sandbox
// (lines appended to files), never in logs; workflow task failures are counted in the histories.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { userSandboxDir } from '../../../src/activities';
import type { HitlClient } from '../../../src/client';
import type { PendingAction, InlineRunInput as RunInput } from '../../../src/contracts';
import { mapLimit, until } from './suite';

type Script = Extract<RunInput['model'], { provider: 'scripted' }>['script'];

/** A scripted run of `userId`; every tool call asks (HITL on, default mode), unless `overrides` say otherwise. */
export function runInput(userId: string, script: Script, overrides: Partial<RunInput> = {}): RunInput {
  return {
    userId,
    conversationId: `conv-${userId}`,
    messages: [{ role: 'user', content: 'Please append a line for me' }],
    model: { provider: 'scripted', script },
    tools: ['append_file'],
    policy: { enabled: true, mode: 'default', allow: [], deny: [], ask: [] },
    ...overrides,
  };
}

/** One assistant turn that asks to append exactly one line `line` to `file`. */
export function appendTurn(callId: string, file: string, line: string) {
  return { tool_calls: [{ id: callId, name: 'append_file', arguments: { path: file, content: `${line}\n` } }] };
}

/** Lines of a file in the sandbox folder of `userId`, where that user's runs write (0 when it does not exist). */
export async function countLines(sandboxDir: string, userId: string, file: string): Promise<number> {
  const text = await readFile(path.join(userSandboxDir(sandboxDir, userId), file), 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line !== '').length;
}

/** Starts runs with bounded concurrency; returns their ids in order. */
export async function startRuns(hitl: HitlClient, inputs: RunInput[], runIds?: string[]): Promise<string[]> {
  return mapLimit(inputs, 16, async (input, i) => {
    const { runId } = await hitl.startRun(input, runIds?.[i] !== undefined ? { runId: runIds[i] } : {});
    return runId;
  });
}

/** Waits until every run has a pending action; returns them by run id. */
export async function waitAllPaused(
  hitl: HitlClient,
  runIds: readonly string[],
  timeoutMs: number,
): Promise<Map<string, PendingAction>> {
  const pending = new Map<string, PendingAction>();
  await until(
    async () => {
      const missing = runIds.filter((id) => !pending.has(id));
      await mapLimit(missing, 16, async (runId) => {
        const action = await hitl.getPendingAction(runId).catch(() => null);
        if (action) pending.set(runId, action);
      });
      return pending.size === runIds.length;
    },
    () => `${runIds.length} runs to pause (${pending.size} paused)`,
    timeoutMs,
    250,
  );
  return pending;
}

/** Waits for every run's result; returns how many ended with each status (`error:<message>` for failures). */
export async function waitAllResults(
  hitl: HitlClient,
  runIds: readonly string[],
  timeoutMs: number,
): Promise<Map<string, string>> {
  const outcomes = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  await mapLimit(runIds, 32, async (runId) => {
    const result = await Promise.race([
      hitl.result(runId).then(
        (r) => r.status,
        (error: unknown) => `error:${error instanceof Error ? error.message : String(error)}`,
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('stuck'), Math.max(0, deadline - Date.now())).unref()),
    ]);
    outcomes.set(runId, result);
  });
  return outcomes;
}

export function tally(values: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/**
 * WorkflowTaskFailed causes that are Temporal's own flow control, not a failure of the workflow code: the
 * server refuses a completion because a signal or update arrived meanwhile (UnhandledCommand,
 * UnhandledUpdate) or a sticky queue was reset, and the worker simply runs the next task.
 */
const SERVER_FLOW_CONTROL_CAUSES = new Set([1, 13, 31]);
/** PayloadsTooLarge: the SDK refused to send a completion carrying a > 2 MB payload (an oversized update echoed back). */
const PAYLOADS_TOO_LARGE = 37;

export interface HistoryScan {
  runs: number;
  /** WorkflowTaskFailed events caused by the worker (workflow code, payloads, non-determinism…). */
  workflowTaskFailures: number;
  /** WorkflowTaskFailed events of server flow control (see SERVER_FLOW_CONTROL_CAUSES): counted, not failures. */
  flowControlRetries: number;
  /** WorkflowTaskFailed events with cause PayloadsTooLarge, by run id (counted apart from the failures above). */
  payloadTooLarge: Map<string, number>;
  /** `workflowId: cause message` of each failed workflow task (first 10). */
  failures: string[];
  /** Highest attempt of any ActivityTaskStarted event, per run. */
  maxActivityAttempt: Map<string, number>;
}

/**
 * Reads every history and counts WorkflowTaskFailed events (the sign of a workflow bug or a poisonous input).
 * An id is a workflow id (its latest run) or `workflowId@runId`.
 */
export async function scanHistories(client: Client, runIds: readonly string[]): Promise<HistoryScan> {
  const scan: HistoryScan = {
    runs: runIds.length,
    workflowTaskFailures: 0,
    flowControlRetries: 0,
    payloadTooLarge: new Map(),
    failures: [],
    maxActivityAttempt: new Map(),
  };
  await mapLimit(runIds, 8, async (id) => {
    // `workflowId` or `workflowId@runId` (one run of a continue-as-new chain).
    const [runId, executionRunId] = id.split('@') as [string, string | undefined];
    const history = await client.workflow.getHandle(runId, executionRunId).fetchHistory();
    let maxAttempt = 0;
    for (const event of history.events ?? []) {
      const attributes = event.workflowTaskFailedEventAttributes;
      if (attributes && SERVER_FLOW_CONTROL_CAUSES.has(Number(attributes.cause ?? 0))) {
        scan.flowControlRetries += 1;
      } else if (attributes && Number(attributes.cause) === PAYLOADS_TOO_LARGE) {
        scan.payloadTooLarge.set(runId, (scan.payloadTooLarge.get(runId) ?? 0) + 1);
      } else if (attributes) {
        scan.workflowTaskFailures += 1;
        if (scan.failures.length < 10) {
          scan.failures.push(`${runId}: cause ${attributes.cause ?? '?'} ${attributes.failure?.message ?? ''}`);
        }
      }
      const started = event.activityTaskStartedEventAttributes;
      if (started) maxAttempt = Math.max(maxAttempt, started.attempt ?? 0);
    }
    scan.maxActivityAttempt.set(runId, maxAttempt);
  });
  return scan;
}

/** Every workflow id ever started on `taskQueue` (visibility; includes closed runs). */
export async function workflowIdsOnQueue(client: Client, taskQueue: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query: `TaskQueue = "${taskQueue}"`, pageSize: 1000 })) {
    ids.push(execution.workflowId);
  }
  return ids;
}

/** Every run of a workflow id's continue-as-new chain, as `workflowId@runId`, oldest first. */
export async function chainRuns(client: Client, workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    runs.push(`${workflowId}@${execution.runId}`);
  }
  return runs.reverse();
}
