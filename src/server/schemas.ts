// Request and response shapes of the HTTP API, built from the wire schemas in src/contracts.
import { z } from 'zod';
import { FilterValueSchema } from '../client/hitl-client';
import {
  GrantSchema,
  PendingActionSchema,
  ResolutionSchema,
  ResolveResultSchema,
  RunInputSchema,
  RunStateSchema,
  RunStatusSchema,
  RevokeGrantRequestSchema,
  RevokeGrantResultSchema,
} from '../contracts';

const IdentitySchema = z.string().min(1).max(256);

export const RunIdParamsSchema = z.object({
  runId: z.string().min(1).max(256).describe('workflow id of the generation run'),
});

/** `POST /runs`: a `RunInput` whose owner is the caller. */
export const StartRunBodySchema = RunInputSchema.extend({
  userId: IdentitySchema.optional().describe(
    'owner of the run; must equal the token subject, and is set from it when left out',
  ),
});
export type StartRunBody = z.output<typeof StartRunBodySchema>;

export const StartRunResponseSchema = z.object({ runId: z.string() });

/** `GET /runs` filters; the owner is always the caller. */
export const ListRunsQuerySchema = z.object({
  status: RunStatusSchema.optional().describe('only runs with this HitlStatus'),
  tool: FilterValueSchema.optional().describe('only runs waiting for a decision on this tool'),
  conversationId: FilterValueSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** One run of a listing, from Temporal visibility (search attributes). */
export const RunSummarySchema = z.object({
  runId: z.string(),
  status: RunStatusSchema.nullable(),
  userId: z.string().nullable(),
  conversationId: z.string().nullable(),
  pendingTools: z.array(z.string()),
  expiresAt: z.iso.datetime().nullable(),
  startTime: z.iso.datetime(),
  closeTime: z.iso.datetime().nullable(),
  executionStatus: z.string().describe("Temporal's own execution status (RUNNING, COMPLETED, CANCELLED, …)"),
});
export type RunSummaryDto = z.infer<typeof RunSummarySchema>;

export const ListRunsResponseSchema = z.object({ runs: z.array(RunSummarySchema) });

/** `GET /runs/:runId`: query `getRunState` plus who owns and who may approve the run. */
export const RunViewSchema = RunStateSchema.extend({
  runId: z.string(),
  userId: z.string().nullable(),
  conversationId: z.string().nullable(),
  agentId: z.string().optional(),
  approvers: z.array(z.string()),
  caller: z.object({
    sub: z.string(),
    owner: z.boolean().describe('the caller owns the run (may abort it)'),
    approver: z.boolean().describe('the caller may resolve its pending actions'),
  }),
});
export type RunView = z.infer<typeof RunViewSchema>;

export const PendingResponseSchema = z.object({ pendingAction: PendingActionSchema.nullable() });

/**
 * `POST /runs/:runId/resolve`: a `Resolution` without `approver`. The approver is the token subject;
 * an `approver` field in the body is ignored (stripped before anything else sees the body).
 */
export const ResolveBodySchema = ResolutionSchema.omit({ approver: true });
export type ResolveBody = z.output<typeof ResolveBodySchema>;

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const ResolveHeadersSchema = z.looseObject({
  [IDEMPOTENCY_KEY_HEADER]: z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, 'Idempotency-Key must be 1-200 visible ASCII characters')
    .optional()
    .describe('a retry with the same key (by the same caller, on the same run) returns the first answer'),
});

export { ResolveResultSchema };

export const AbortResponseSchema = z.object({
  runId: z.string(),
  abortRequested: z.literal(true),
});

export const SseQuerySchema = z.object({
  access_token: z
    .string()
    .optional()
    .describe('bearer token for clients that cannot send headers (EventSource); prefer the Authorization header'),
});

/** `GET /grants`: the caller's remembered approvals, oldest first. */
export const ListGrantsResponseSchema = z.object({ grants: z.array(GrantSchema) });

/** `POST /grants/revoke`: which of the caller's grants to forget (a `session` grant names its conversation). */
export const RevokeGrantBodySchema = RevokeGrantRequestSchema;
export { RevokeGrantResultSchema };

/** `GET /console/config.json`: what the approver console needs to know besides the API itself. */
export const ConsoleConfigSchema = z.object({
  webUiUrl: z.string().nullable().describe('base URL of the Temporal Web UI, or null when unknown'),
  namespace: z.string().describe('Temporal namespace of the runs (for Web UI links)'),
  apiVersion: z.string(),
});
export type ConsoleConfig = z.infer<typeof ConsoleConfigSchema>;
