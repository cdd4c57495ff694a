import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { RefusalTypeSchema, type Refusal } from '../contracts';

/** The input of `startRun` does not match `RunInput`; nothing was started. */
export class InvalidRunInputError extends Error {
  override readonly name = 'InvalidRunInputError';
  readonly type = 'InvalidInput';
}

/** No generation run with this id exists in the namespace. */
export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFoundError';
  constructor(readonly runId: string) {
    super(`No generation run with id "${runId}"`);
  }
}

/**
 * An idempotent start (`startRun` / `startRunAndWait` with `idempotencyKey`) whose key already named a run
 * started with a different request. `runId` is that run; nothing was started.
 */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = 'IdempotencyKeyReusedError';
  readonly type = 'IdempotencyKeyReused';
  constructor(readonly runId: string) {
    super(`The idempotency key already started run "${runId}" with a different request`);
  }
}

/** The Temporal server did not answer at the configured address. */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
  readonly type = 'TemporalUnreachable';
  constructor(
    readonly address: string,
    readonly source: string,
    cause?: unknown,
  ) {
    super(`cannot reach Temporal at ${address} (from ${source}) — is npm start running?`, { cause });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns what an update call threw into a typed refusal, when it is one: an `ApplicationFailure`
 * from the workflow whose type is a refusal type. Anything else is returned as `undefined`.
 */
export function refusalFromError(error: unknown): Refusal | undefined {
  const failure = error instanceof WorkflowUpdateFailedError ? error.cause : error;
  if (!(failure instanceof ApplicationFailure)) return undefined;
  const type = RefusalTypeSchema.safeParse(failure.type);
  if (!type.success) return undefined;
  const details = failure.details?.[0];
  return {
    type: type.data,
    message: failure.message,
    ...(isRecord(details) ? { details } : {}),
  };
}

/** How the server fails an update that the run's closing overtook (accepted, or on its way). */
const CLOSED_UNDER_UPDATE = /aborted by closing workflow|AcceptedUpdateCompletedWorkflow/;

/** True when Temporal says the run does not exist, or has closed (an update can no longer reach it). */
export function isRunNotFound(error: unknown): boolean {
  if (error instanceof WorkflowNotFoundError) return true;
  if (!(error instanceof WorkflowUpdateFailedError) || !(error.cause instanceof Error)) return false;
  const cause = error.cause;
  return (
    CLOSED_UNDER_UPDATE.test(cause.message) ||
    (cause instanceof ApplicationFailure && cause.type === 'AcceptedUpdateCompletedWorkflow')
  );
}

/**
 * True when the server dropped an update before the run accepted it ("Workflow Update is rejected
 * because it wasn't processed by worker"). Seen on Temporal 1.32 when more updates than the per-run
 * in-flight limit arrive while the run is being queried. Nothing was applied: resending the same
 * update id is safe (if it did land, the first answer comes back).
 */
export function isUnprocessedUpdate(error: unknown): boolean {
  return (
    error instanceof WorkflowUpdateFailedError &&
    error.cause instanceof ApplicationFailure &&
    error.cause.type === 'UnprocessedUpdate'
  );
}

/**
 * Something the client was about to send would exceed what Temporal accepts in one payload (or what this
 * product allows there); nothing was sent. `what` names it, `chars` and `limit` say by how much.
 */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  readonly type = 'PayloadTooLarge';
  constructor(
    readonly what: string,
    readonly chars: number,
    readonly limit: number,
    hint = '',
  ) {
    super(`${what} is ${chars} characters; at most ${limit} may be sent${hint ? `: ${hint}` : ''}`);
  }
}

/** The run keeps no transcript in the content store (it started before the store), or no store is configured. */
export class TranscriptUnavailableError extends Error {
  override readonly name = 'TranscriptUnavailableError';
  readonly type = 'TranscriptUnavailable';
}

/**
 * The run keeps no binary content with this reference (`HitlClient.readContent`): the reference is unknown to
 * the run's content store, or names something else there (a message, tool arguments), or the content was
 * deleted with the run's (retention).
 */
export class ContentNotFoundError extends Error {
  override readonly name = 'ContentNotFoundError';
  readonly type = 'ContentNotFound';
  constructor(
    readonly runId: string,
    readonly ref: string,
  ) {
    super(`Run "${runId}" keeps no binary content ${ref}`);
  }
}
