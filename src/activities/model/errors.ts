import { STATUS_CODES } from 'node:http';
import { ApplicationFailure } from '@temporalio/common';
import {
  APICallError,
  InvalidArgumentError,
  InvalidMessageRoleError,
  InvalidPromptError,
  MissingToolResultsError,
  RetryError,
} from 'ai';
import type { Secret } from '../config';

/** `ApplicationFailure.type` values thrown by `callModel`. */
export const ModelErrorType = {
  /** The worker has no endpoint (or no model name) for `provider: "openai-compatible"`. Non-retryable. */
  NotConfigured: 'ModelNotConfigured',
  /** The endpoint refused the request with a 4xx other than 408/409/429 (bad key, unknown model…). Non-retryable. */
  RequestRejected: 'ModelRequestRejected',
  /** The transcript cannot be sent (e.g. a tool call without a result). Non-retryable. */
  InvalidRequest: 'InvalidModelRequest',
  /** A scripted turn does not match `ModelTurnSchema` (e.g. duplicate tool call ids). Non-retryable. */
  InvalidScriptedTurn: 'InvalidScriptedTurn',
  /** The endpoint answered with something that is not a valid turn. Retryable (models are not deterministic). */
  InvalidResponse: 'InvalidModelResponse',
  /**
   * Unreachable endpoint (connection refused, DNS failure, reset), timeout, HTTP 408/409/429/5xx. Retryable:
   * Temporal's retry policy does the back-off, and `Retry-After` becomes the failure's `nextRetryDelay`.
   */
  Unavailable: 'ModelUnavailable',
} as const;
export type ModelErrorType = (typeof ModelErrorType)[keyof typeof ModelErrorType];

/**
 * `details[0]` of every failure that `toModelFailure` makes: what a retry policy or the workflow needs to
 * know, as plain JSON. `statusCode` is null when no HTTP answer came (network error, timeout);
 * `retryAfterMs` is the wait the endpoint asked for (`Retry-After` / `retry-after-ms`, clamped to
 * `RETRY_AFTER_MIN_MS`..`RETRY_AFTER_MAX_MS`), null when it asked for none. A retryable failure with a
 * `retryAfterMs` carries the same value as `nextRetryDelay`, so Temporal waits that long before the next attempt.
 */
export interface ModelFailureDetails {
  statusCode: number | null;
  retryAfterMs: number | null;
}

/** Shortest wait taken from `Retry-After` (a 0 or a date in the past means "now", which we do not hammer). */
export const RETRY_AFTER_MIN_MS = 1_000;
/** Longest wait taken from `Retry-After`: beyond it Temporal's own back-off applies again at the next attempt. */
export const RETRY_AFTER_MAX_MS = 10 * 60_000;
/** Longest text of the endpoint's own message kept in a failure message. */
const MAX_ENDPOINT_TEXT = 300;

/** True for errors that mean "the call was aborted" (activity cancellation); they must propagate as they are. */
export function isAbortError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || error.name === 'TimeoutError' || error.name === 'CancelledFailure')
  );
}

/**
 * The wait an HTTP answer asks for, in ms: `retry-after-ms` (OpenAI, Azure), else `Retry-After` as delta
 * seconds or as an HTTP date; clamped to `RETRY_AFTER_MIN_MS`..`RETRY_AFTER_MAX_MS`. Undefined when there is
 * no such header or it cannot be read. Header names are matched case-insensitively.
 */
export function retryAfterMsFromHeaders(
  headers: Readonly<Record<string, string | undefined>> | undefined,
  now: number = Date.now(),
): number | undefined {
  if (headers === undefined) return undefined;
  const header = (name: string): string | undefined => {
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() === name && value !== undefined && value.trim() !== '') return value.trim();
    }
    return undefined;
  };
  let ms: number | undefined;
  const retryAfterMs = header('retry-after-ms');
  if (retryAfterMs !== undefined && /^\d+(\.\d+)?$/.test(retryAfterMs)) ms = Number(retryAfterMs);
  const retryAfter = header('retry-after');
  if (ms === undefined && retryAfter !== undefined) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) {
      ms = Number(retryAfter) * 1000;
    } else if (/^[a-z]/i.test(retryAfter)) {
      // An HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`, or an obsolete form); it starts with the day name.
      // Date.parse alone would also take "-3" as a year.
      const date = Date.parse(retryAfter);
      if (!Number.isNaN(date)) ms = date - now;
    }
  }
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, Math.round(ms)));
}

export interface ModelFailureContext {
  /** How the endpoint is named in messages (e.g. `provider "openai" (hitl.config.yaml providers.openai)`). */
  label?: string;
  /** Clock for HTTP-date `Retry-After` values (tests). */
  now?: number;
}

/**
 * Turns whatever the AI SDK threw into an `ApplicationFailure` that tells Temporal whether (and when) a retry
 * can help: a one-line message (HTTP status, the endpoint's own text made safe, never the key), the type
 * (`ModelErrorType`), `nonRetryable`, `nextRetryDelay` from `Retry-After`, and `details[0]` =
 * `ModelFailureDetails`. No `cause`: a cause chain would be serialized into workflow history as it is.
 *
 * - HTTP 4xx other than 408/409/429 → `ModelRequestRejected`, non-retryable;
 * - HTTP 408/409/429/5xx, connection refused, DNS failure, reset, timeout → `ModelUnavailable`, retryable;
 * - HTTP 2xx that cannot be read → `InvalidModelResponse`, retryable;
 * - a transcript the SDK refuses to send → `InvalidModelRequest`, non-retryable.
 *
 * Cancellation (`CancelledFailure`) passes through unchanged; the caller rethrows the abort of its own
 * signal before calling this, so an `AbortError` / `TimeoutError` that gets here is a timeout.
 */
export function toModelFailure(error: unknown, secret: Secret | undefined, context: ModelFailureContext = {}): Error {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof Error && error.name === 'CancelledFailure') return error;
  const safe = (text: string): string => endpointText(text, secret);
  const endpoint = context.label ? `model endpoint ${context.label}` : 'the model endpoint';
  const Endpoint = capitalize(endpoint);
  const cause = RetryError.isInstance(error) && error.lastError !== undefined ? error.lastError : error;

  if (APICallError.isInstance(cause)) {
    const status = cause.statusCode;
    if (status === undefined) {
      // No HTTP answer: the SDK wraps the network error as "Cannot connect to API: <cause>".
      const reason = cause.message.replace(/^Cannot connect to API:\s*/i, '');
      return failure({
        message: `Cannot connect to ${endpoint}: ${safe(reason)}`,
        type: ModelErrorType.Unavailable,
        nonRetryable: false,
        details: { statusCode: null, retryAfterMs: null },
      });
    }
    const retryAfterMs = retryAfterMsFromHeaders(cause.responseHeaders, context.now) ?? null;
    const http = `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;
    const text = safe(cause.message);
    const details: ModelFailureDetails = { statusCode: status, retryAfterMs };
    if (status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429) {
      return failure({
        message: `${Endpoint} rejected the request with ${http}: ${text}`,
        type: ModelErrorType.RequestRejected,
        nonRetryable: true,
        details,
      });
    }
    if (status >= 200 && status < 300) {
      return failure({
        message: `${Endpoint} answered ${http} with a response that cannot be read: ${text}`,
        type: ModelErrorType.InvalidResponse,
        nonRetryable: false,
        details,
      });
    }
    const wait = retryAfterMs !== null ? ` (retry after ${formatMs(retryAfterMs)})` : '';
    return failure({
      message: `${Endpoint} is unavailable: ${http}${wait}: ${text}`,
      type: ModelErrorType.Unavailable,
      nonRetryable: false,
      details,
    });
  }
  if (
    InvalidPromptError.isInstance(cause) ||
    MissingToolResultsError.isInstance(cause) ||
    InvalidMessageRoleError.isInstance(cause) ||
    InvalidArgumentError.isInstance(cause)
  ) {
    return failure({
      message: `Cannot send the transcript to the model: ${safe(cause.message)}`,
      type: ModelErrorType.InvalidRequest,
      nonRetryable: true,
      details: { statusCode: null, retryAfterMs: null },
    });
  }
  if (isAbortError(cause)) {
    return failure({
      message: `${Endpoint} did not answer in time: ${safe((cause as Error).message)}`,
      type: ModelErrorType.Unavailable,
      nonRetryable: false,
      details: { statusCode: null, retryAfterMs: null },
    });
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return failure({
    message: `Model call failed: ${safe(message)}`,
    type: ModelErrorType.Unavailable,
    nonRetryable: false,
    details: { statusCode: null, retryAfterMs: null },
  });
}

function failure(options: {
  message: string;
  type: ModelErrorType;
  nonRetryable: boolean;
  details: ModelFailureDetails;
}): ApplicationFailure {
  const { retryAfterMs } = options.details;
  return ApplicationFailure.create({
    message: options.message,
    type: options.type,
    nonRetryable: options.nonRetryable,
    details: [options.details],
    ...(!options.nonRetryable && retryAfterMs !== null ? { nextRetryDelay: retryAfterMs } : {}),
  });
}

/** Text from the endpoint (or the network stack) as one redacted line of bounded length. */
function endpointText(text: string, secret: Secret | undefined): string {
  // Redact before cutting, so a key split by the cut cannot survive in part.
  const redacted = secret ? secret.redact(text) : text;
  let line = redacted.replace(/\s+/g, ' ').trim() || '(no message)';
  if (secret) line = secret.redact(line);
  return line.length > MAX_ENDPOINT_TEXT ? `${line.slice(0, MAX_ENDPOINT_TEXT - 1)}…` : line;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
