// Server-sent events for one run: polls query `getRunState` and turns what changed into events.
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { RunNotFoundError, type HitlClient } from '../client';
import type { ChatMessage, PendingAction, RunResult, RunState, RunStatus, ToolMessage } from '../contracts';

/** Event names of the stream (the `event:` field). */
export type RunEventName = 'status' | 'pending_action' | 'tool_result' | 'completed' | 'aborted' | 'failed' | 'error';

export interface RunEvent {
  event: RunEventName;
  data: unknown;
}

export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'aborted', 'failed'];

/** What the stream has already told its client. */
export interface RunEventCursor {
  status: RunStatus | undefined;
  /** Id of the pending action last announced; null once announced that none is pending. */
  actionId: string | null | undefined;
  /** Position in the transcript up to which tool messages were sent. */
  nextSeq: number;
}

export function newCursor(): RunEventCursor {
  return { status: undefined, actionId: undefined, nextSeq: 0 };
}

function isToolMessage(message: ChatMessage): message is ToolMessage {
  return message.role === 'tool';
}

/**
 * The events that take a client from `cursor` to `state`, in this order: new tool results, the status
 * if it changed, the pending action if a new one appeared. Updates the cursor. The terminal event is
 * added by the caller (it may carry the run's result).
 */
export function diffRunState(cursor: RunEventCursor, state: RunState): RunEvent[] {
  const events: RunEvent[] = [];
  // The state shows the latest messages from position `messagesFrom` (0 when it shows them all).
  const from = state.messagesFrom ?? 0;
  state.messages.forEach((message, index) => {
    if (from + index >= cursor.nextSeq && isToolMessage(message)) events.push({ event: 'tool_result', data: message });
  });
  cursor.nextSeq = Math.max(cursor.nextSeq, from + state.messages.length);
  if (state.status !== cursor.status) {
    events.push({ event: 'status', data: { status: state.status, turn: state.turn } });
    cursor.status = state.status;
  }
  const actionId = state.pendingAction?.actionId ?? null;
  if (state.pendingAction && actionId !== cursor.actionId) {
    events.push({ event: 'pending_action', data: state.pendingAction satisfies PendingAction });
  }
  cursor.actionId = actionId;
  return events;
}

/** The last assistant text of a transcript, if the run ended on one. */
function finalMessageOf(messages: ChatMessage[]): string | undefined {
  const last = messages[messages.length - 1];
  return last?.role === 'assistant' && typeof last.content === 'string' ? last.content : undefined;
}

export interface RunEventStreamOptions {
  /** How often the run state is queried. */
  pollIntervalMs: number;
  /** How often a comment line keeps idle connections (and proxies) alive. */
  heartbeatMs: number;
  /** How long to wait for the run's result once its state is terminal, to add finishReason and reason. */
  resultTimeoutMs?: number;
  /** Consecutive failed polls after which the stream gives up with an `error` event. */
  maxFailures?: number;
}

const DESCRIBE_EVERY_POLLS = 10;

/** Event streams one caller may hold open at once (each polls a worker every `pollIntervalMs`). */
export const DEFAULT_MAX_STREAMS_PER_CALLER = 16;

/**
 * The open streams: closes every one when the server stops (open SSE responses would keep it from closing),
 * and counts them per caller, so one token cannot open enough of them to keep the workers busy answering.
 */
export class RunEventStreams {
  private readonly open = new Set<() => void>();
  private readonly perCaller = new Map<string, number>();

  constructor(readonly maxPerCaller: number = DEFAULT_MAX_STREAMS_PER_CALLER) {}

  /** Takes one of `caller`'s stream slots; false when the caller holds `maxPerCaller` already. */
  reserve(caller: string): boolean {
    const held = this.perCaller.get(caller) ?? 0;
    if (held >= this.maxPerCaller) return false;
    this.perCaller.set(caller, held + 1);
    return true;
  }

  release(caller: string): void {
    const held = this.perCaller.get(caller) ?? 0;
    if (held <= 1) this.perCaller.delete(caller);
    else this.perCaller.set(caller, held - 1);
  }

  add(stop: () => void): () => void {
    this.open.add(stop);
    return () => this.open.delete(stop);
  }

  closeAll(): void {
    for (const stop of [...this.open]) stop();
  }
}

/**
 * Writes the event stream of `runId` to `res` until the run ends, the client goes away, the server closes, or
 * `until` (epoch ms: the caller's token expires) passes; then an `error` event `TokenExpired` ends it and the
 * client reconnects with a fresh token. The response must not have been sent yet (the route hijacks the reply).
 */
export async function streamRunEvents(
  hitl: HitlClient,
  runId: string,
  res: ServerResponse,
  options: RunEventStreamOptions,
  registry: RunEventStreams,
  log: FastifyBaseLogger,
  until?: number,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${Math.max(1000, options.pollIntervalMs)}\n\n`);

  let closed = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    closed = true;
    wake?.();
  };
  res.on('close', stop);
  const unregister = registry.add(() => {
    stop();
    res.end();
  });
  const heartbeat = setInterval(() => {
    if (!closed) res.write(': heartbeat\n\n');
  }, options.heartbeatMs);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  let id = 0;
  const send = (event: RunEvent) => {
    if (closed) return;
    id += 1;
    res.write(`id: ${id}\nevent: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`);
  };

  const cursor = newCursor();
  let failures = 0;
  let polls = 0;
  const maxFailures = options.maxFailures ?? 20;
  try {
    while (!closed) {
      polls += 1;
      let state: RunState;
      try {
        state = await hitl.getRunState(runId);
        failures = 0;
      } catch (error) {
        if (error instanceof RunNotFoundError) {
          send({ event: 'error', data: { type: 'RunNotFound', error: error.message } });
          return;
        }
        failures += 1;
        log.warn({ err: error, runId }, 'run events: getRunState failed');
        const closedAs = await closedStatus(hitl, runId);
        if (closedAs !== undefined) {
          send({ event: closedAs, data: { status: closedAs } });
          return;
        }
        if (failures >= maxFailures) {
          send({ event: 'error', data: { type: 'TemporalUnavailable', error: 'The run state could not be read' } });
          return;
        }
        await sleep(Math.min(options.pollIntervalMs * 2 ** failures, 10_000));
        continue;
      }
      for (const event of diffRunState(cursor, state)) {
        // Arguments too large to keep in the run are read back from the store: approvers see them whole.
        if (event.event === 'pending_action') {
          send({ event: 'pending_action', data: await hitl.pendingActionInFull(runId, event.data as PendingAction) });
        } else send(event);
      }
      if (TERMINAL_STATUSES.includes(state.status)) {
        send({ event: state.status as RunEventName, data: await terminalData(hitl, runId, state, options) });
        return;
      }
      // A run closed without passing through a terminal status (terminated, timed out) would keep
      // answering queries with its last state: look at the execution itself now and then.
      if (polls % DESCRIBE_EVERY_POLLS === 0) {
        const closedAs = await closedStatus(hitl, runId);
        if (closedAs !== undefined) {
          send({ event: 'status', data: { status: closedAs, turn: state.turn } });
          send({ event: closedAs, data: { status: closedAs, turn: state.turn } });
          return;
        }
      }
      if (until !== undefined && Date.now() + options.pollIntervalMs >= until) {
        await sleep(Math.max(0, until - Date.now()));
        if (closed) return;
        send({ event: 'error', data: { type: 'TokenExpired', error: 'The token expired: reconnect with a new one' } });
        return;
      }
      await sleep(options.pollIntervalMs);
    }
  } finally {
    clearInterval(heartbeat);
    unregister();
    res.off('close', stop);
    closed = true;
    if (!res.writableEnded) res.end();
  }
}

async function terminalData(
  hitl: HitlClient,
  runId: string,
  state: RunState,
  options: RunEventStreamOptions,
): Promise<Record<string, unknown>> {
  const data: Record<string, unknown> = { status: state.status, turn: state.turn };
  if (state.error !== undefined) data.error = state.error;
  const finalMessage = finalMessageOf(state.messages);
  if (finalMessage !== undefined && state.status === 'completed') data.finalMessage = finalMessage;
  if (state.status === 'failed') return data;
  // A deadline on the gRPC calls, so no long poll outlives the stream if the run is slow to close.
  const timeoutMs = options.resultTimeoutMs ?? 2000;
  const result = await hitl.client.connection
    .withDeadline(Date.now() + timeoutMs, () => hitl.result(runId))
    .catch((): RunResult | undefined => undefined);
  if (result) {
    data.finishReason = result.finishReason;
    if (result.reason !== undefined) data.reason = result.reason;
    if (result.finalMessage !== undefined) data.finalMessage = result.finalMessage;
  }
  return data;
}

/** The terminal event for a closed execution, or undefined while it is open (or unknown). */
async function closedStatus(hitl: HitlClient, runId: string): Promise<'completed' | 'aborted' | 'failed' | undefined> {
  let status: string;
  try {
    status = (await hitl.client.workflow.getHandle(runId).describe()).status.name;
  } catch {
    return undefined;
  }
  switch (status) {
    case 'COMPLETED':
      return 'completed';
    case 'CANCELLED':
    case 'TERMINATED':
      return 'aborted';
    case 'FAILED':
    case 'TIMED_OUT':
      return 'failed';
    default:
      return undefined;
  }
}
