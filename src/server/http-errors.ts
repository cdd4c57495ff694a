// The one place where refusals and API errors become HTTP status codes and JSON error bodies.
import { z } from 'zod';
import { REFUSAL_TYPES, type Refusal, type RefusalType } from '../contracts';

/**
 * Refusal type (wire) → HTTP status, like LibreChat's resume route: the request itself is wrong (400),
 * the caller may not do it (403), or the run is not in a state that accepts it (409).
 */
export const REFUSAL_HTTP_STATUS = {
  InvalidResolution: 400,
  UndecidedToolCalls: 400,
  IncompleteDecision: 400,
  AnswerRequired: 400,
  AnswerTooLong: 400,
  UnknownQuestionId: 400,
  InvalidElicitationContent: 400,
  NotAuthorized: 403,
  DecisionNotPermitted: 403,
  StaleAction: 409,
  AlreadyResolved: 409,
  ActionExpired: 409,
  NoPendingAction: 409,
} as const satisfies Record<RefusalType, 400 | 403 | 409>;

/** Error types of the HTTP API that are not workflow refusals. */
export const API_ERROR_HTTP_STATUS = {
  /** The request (query string, path, JSON syntax, headers) is malformed. */
  InvalidRequest: 400,
  /** The body of `POST /runs` is not a run request (unknown field, bad tightening…). */
  InvalidInput: 400,
  /** The body of `POST /grants/revoke` does not match `RevokeGrantRequest`. */
  InvalidGrant: 400,
  /** No bearer token, or one that is malformed, wrongly signed, expired or without `sub`. */
  Unauthorized: 401,
  /** No generation run with this id. */
  RunNotFound: 404,
  /** No agent with this id in the configuration. */
  AgentNotFound: 404,
  /** No such route. */
  NotFound: 404,
  /** The run has already finished (e.g. abort of a completed run). */
  RunClosed: 409,
  /** `POST /runs`: the caller's `Idempotency-Key` already started a run with a different body (`details.runId`). */
  IdempotencyKeyReused: 409,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  /** `GET /runs/:runId/events`: the caller holds the most event streams one user may hold open. */
  TooManyStreams: 429,
  /** The run keeps no transcript in the content store (it started before the store), or the API has none. */
  TranscriptUnavailable: 404,
  /** `GET /runs/:runId/content/:ref`: the run keeps no binary content with this reference. */
  ContentNotFound: 404,
  InternalError: 500,
  /** Temporal could not be reached. */
  TemporalUnavailable: 503,
} as const;
export type ApiErrorType = keyof typeof API_ERROR_HTTP_STATUS;

/** Every `type` an error body can carry. */
export type ErrorType = RefusalType | ApiErrorType;
export const ERROR_TYPES: readonly ErrorType[] = [
  ...REFUSAL_TYPES,
  ...(Object.keys(API_ERROR_HTTP_STATUS) as ApiErrorType[]),
];

/** The JSON body of every error response. */
export const ErrorBodySchema = z.object({
  error: z.string().describe('human-readable message'),
  type: z.enum(ERROR_TYPES as [ErrorType, ...ErrorType[]]).describe('machine-readable error type'),
  details: z.record(z.string(), z.unknown()).describe('extra data, e.g. the undecided tool_call_ids'),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export function statusOfErrorType(type: ErrorType): number {
  return (REFUSAL_HTTP_STATUS as Record<string, number>)[type] ?? API_ERROR_HTTP_STATUS[type as ApiErrorType];
}

/** An error a route handler throws to answer with `{ error, type, details }`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly statusCode: number;
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.statusCode = statusOfErrorType(type);
  }

  get body(): ErrorBody {
    return { error: this.message, type: this.type, details: this.details };
  }
}

/**
 * The HTTP status of one refusal. `DecisionNotPermitted` covers two cases (wire): a decision the call
 * does not allow (403: the caller may not do that; details carry `allowed_decisions`) and a request that
 * names no such call (an unknown or repeated `tool_call_id`, decisions for a question: 400, the request
 * itself is wrong).
 */
export function statusOfRefusal(refusal: Refusal): 400 | 403 | 409 {
  if (refusal.type === 'DecisionNotPermitted' && !Array.isArray(refusal.details?.allowed_decisions)) return 400;
  return REFUSAL_HTTP_STATUS[refusal.type];
}

/** A workflow refusal as an HTTP answer. */
export function refusalToHttp(refusal: Refusal): { status: 400 | 403 | 409; body: ErrorBody } {
  return {
    status: statusOfRefusal(refusal),
    body: { error: refusal.message, type: refusal.type, details: refusal.details ?? {} },
  };
}

/** The status codes a route may answer with an error body, for the OpenAPI document. */
export function errorResponses<const S extends readonly number[]>(
  ...statuses: S
): Record<S[number], typeof ErrorBodySchema> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBodySchema])) as Record<S[number], typeof ErrorBodySchema>;
}
