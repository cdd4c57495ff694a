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
  /** The endpoint refused the request with a 4xx other than 408/429 (bad key, unknown model…). Non-retryable. */
  RequestRejected: 'ModelRequestRejected',
  /** The transcript cannot be sent (e.g. a tool call without a result). Non-retryable. */
  InvalidRequest: 'InvalidModelRequest',
  /** A scripted turn does not match `ModelTurnSchema` (e.g. duplicate tool call ids). Non-retryable. */
  InvalidScriptedTurn: 'InvalidScriptedTurn',
  /** The endpoint answered with something that is not a valid turn. Retryable (models are not deterministic). */
  InvalidResponse: 'InvalidModelResponse',
  /** Network error, timeout, 408/429/5xx. Retryable: Temporal's retry policy does the back-off. */
  Unavailable: 'ModelUnavailable',
} as const;
export type ModelErrorType = (typeof ModelErrorType)[keyof typeof ModelErrorType];

/** True for errors that mean "the call was aborted" (activity cancellation); they must propagate as they are. */
export function isAbortError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || error.name === 'TimeoutError' || error.name === 'CancelledFailure')
  );
}

/**
 * Turns whatever the AI SDK threw into an `ApplicationFailure` with a redacted message and no
 * `cause` (a cause chain would be serialized into workflow history as it is).
 */
export function toModelFailure(error: unknown, secret: Secret | undefined): Error {
  if (error instanceof ApplicationFailure || isAbortError(error)) return error as Error;
  const redact = (text: string): string => (secret ? secret.redact(text) : text);
  const cause = RetryError.isInstance(error) && error.lastError !== undefined ? error.lastError : error;

  if (APICallError.isInstance(cause)) {
    const status = cause.statusCode;
    const message = redact(cause.message);
    if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
      return ApplicationFailure.nonRetryable(
        `Model endpoint rejected the request (HTTP ${status}): ${message}`,
        ModelErrorType.RequestRejected,
        { statusCode: status },
      );
    }
    return ApplicationFailure.retryable(
      `Model endpoint call failed${status !== undefined ? ` (HTTP ${status})` : ''}: ${message}`,
      ModelErrorType.Unavailable,
      { statusCode: status ?? null },
    );
  }
  if (
    InvalidPromptError.isInstance(cause) ||
    MissingToolResultsError.isInstance(cause) ||
    InvalidMessageRoleError.isInstance(cause) ||
    InvalidArgumentError.isInstance(cause)
  ) {
    return ApplicationFailure.nonRetryable(
      `Cannot send the transcript to the model: ${redact(cause.message)}`,
      ModelErrorType.InvalidRequest,
    );
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return ApplicationFailure.retryable(`Model call failed: ${redact(message)}`, ModelErrorType.Unavailable);
}
