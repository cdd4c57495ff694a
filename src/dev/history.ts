// Reading a generation run's whole history (every run of its continue-as-new chain) and measuring it: how many
// bytes it holds, its largest payload, its failed workflow tasks. Used by the tests and `npm run bench:history`.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;

/** An event's type as its name without `EVENT_TYPE_`, e.g. `TIMER_STARTED`. */
export function eventTypeName(event: temporal.api.history.v1.IHistoryEvent): string {
  return (temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType)).replace(/^EVENT_TYPE_/, '');
}

/**
 * The histories of every run of the chain, first run first; from `fromRunId` on when given (e.g. a run a reset
 * started, which the chain's first run does not continue into).
 */
export async function chainHistories(client: Client, workflowId: string, fromRunId?: string): Promise<History[]> {
  let runId: string | undefined = fromRunId;
  if (runId === undefined) {
    const description = await client.workflow.getHandle(workflowId).describe();
    runId = description.raw.workflowExecutionInfo?.firstRunId || description.runId;
  }
  const histories: History[] = [];
  while (runId) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    histories.push(history);
    const continued = (history.events ?? []).find((e) => e.workflowExecutionContinuedAsNewEventAttributes);
    runId = continued?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return histories;
}

/** Bytes of the chain's events as the server stores them (protobuf encoding). */
export function historyBytes(histories: readonly History[]): number {
  let bytes = 0;
  for (const history of histories) {
    for (const event of history.events ?? []) {
      bytes += temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
    }
  }
  return bytes;
}

/** Events in the chain. */
export function historyEventCount(histories: readonly History[]): number {
  return histories.reduce((sum, history) => sum + (history.events?.length ?? 0), 0);
}

/** Size in bytes of the largest payload (`data`) anywhere in the chain's events. */
export function largestPayloadBytes(histories: readonly History[]): number {
  let largest = 0;
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    if (value instanceof Uint8Array) return;
    const record = value as Record<string, unknown>;
    if (record.data instanceof Uint8Array && 'metadata' in record) {
      largest = Math.max(largest, record.data.length);
      return;
    }
    for (const child of Array.isArray(value) ? value : Object.values(record)) visit(child);
  };
  for (const history of histories) for (const event of history.events ?? []) visit(event);
  return largest;
}

/** One line per failed workflow task in the chain (its cause and message): none in a healthy run. */
export function workflowTaskFailures(histories: readonly History[]): string[] {
  const failures: string[] = [];
  for (const history of histories) {
    for (const event of history.events ?? []) {
      const failed = event.workflowTaskFailedEventAttributes;
      if (failed) failures.push(`${String(failed.cause)}: ${failed.failure?.message ?? ''}`);
    }
  }
  return failures;
}
