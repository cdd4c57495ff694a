// Request and response shapes of the HTTP API, built from the wire schemas in src/contracts.
import { z } from 'zod';
import { FilterValueSchema, IdempotencyKeySchema } from '../client/hitl-client';
import {
  AgentIdSchema,
  AssistantMessageSchema,
  ClaimRuleSchema,
  ContentRefStringSchema,
  ElicitationAnswerSchema,
  GrantSchema,
  MAX_ID_CHARS,
  PendingActionSchema,
  ResolutionSchema,
  ResolveResultSchema,
  RunStateSchema,
  TightenSchema,
  ToolMessageSchema,
  UserMessageSchema,
  RunStatusSchema,
  RevokeGrantRequestSchema,
  RevokeGrantResultSchema,
} from '../contracts';
import { GrantOfferSchema } from './grant-offers';

const DependencyStateSchema = z
  .enum(['ok', 'unavailable'])
  .describe('whether it answered within the check’s timeout (the error is in the server’s log, not here)');

/** `GET /readyz` (200 when `ready`, 503 otherwise): whether what the API depends on answers now. */
export const ReadinessResponseSchema = z.object({
  ready: z.boolean(),
  checks: z.object({
    temporal: DependencyStateSchema,
    contentStore: DependencyStateSchema.optional().describe('absent when the API has no content store'),
  }),
});
export type ReadinessResponse = z.infer<typeof ReadinessResponseSchema>;

export const RunIdParamsSchema = z.object({
  runId: z.string().min(1).max(256).describe('workflow id of the generation run'),
});

/** `GET /runs/:runId/content/:ref`: a content reference the run's tool messages name. */
export const RunContentParamsSchema = RunIdParamsSchema.extend({
  ref: ContentRefStringSchema.describe('`sha256:<64 hex>`, as a tool message names it (`content ref sha256:…`)'),
});

/** Fields a run request may carry; anything else is refused (400) by name. */
export const START_RUN_FIELDS = ['agentId', 'conversationId', 'messages', 'tighten'] as const;
const NOT_IN_RUN_REQUEST =
  "not allowed: a run request carries only agentId, conversationId, messages and tighten; the agent's configuration decides the rest";

/** The transcript a request may send: user, assistant and tool messages (system prompts are the agent's). */
export const RequestMessageSchema = z.discriminatedUnion('role', [
  UserMessageSchema,
  AssistantMessageSchema,
  ToolMessageSchema,
]);

/**
 * Messages a `POST /runs` may carry. Each one costs the API parsing, checking and serializing (2.2 million
 * one-word messages in a 64 MiB body took 13 s of CPU and 1.4 GB); a conversation this long is far beyond any
 * model's context, and its bytes may still reach the body limit in fewer, longer messages.
 */
export const MAX_START_MESSAGES = 10_000;

/**
 * `POST /runs`: a run of one of the configured agents, owned by the caller (the token subject). It can
 * only tighten the agent: extra deny / ask patterns, a shorter TTL, abort on expiry.
 */
export const StartRunBodySchema = z.strictObject(
  {
    agentId: AgentIdSchema.describe('one of the agents of `GET /agents`'),
    conversationId: z.string().min(1).max(MAX_ID_CHARS),
    messages: z
      .array(RequestMessageSchema)
      .min(1)
      .max(MAX_START_MESSAGES)
      .describe(
        `the conversation so far (at most ${MAX_START_MESSAGES} messages); system prompts come from the agent, not the request`,
      ),
    tighten: TightenSchema.optional().describe(
      'only stricter than the agent: more deny / ask patterns, a shorter approvalTtlMs, onExpiry "abort"',
    ),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? NOT_IN_RUN_REQUEST : undefined) },
);
export type StartRunBody = z.output<typeof StartRunBodySchema>;

/** `GET /agents`: the agents the caller may start runs with. */
export const AgentSummarySchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  description: z.string().optional(),
  tools: z.array(z.string()),
  configVersion: z
    .string()
    .describe(
      'content hash of the agent’s configuration in the file (its entry, inherited defaults, the MCP servers ' +
        'it names): the configVersion a run started now records. The MCP tools a run lists are its toolsVersion.',
    ),
});
export const ListAgentsResponseSchema = z.object({ agents: z.array(AgentSummarySchema) });

export const StartRunResponseSchema = z.object({ runId: z.string() });

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Set (`true`) on the 200 answer of a `POST /runs` retry: the run was started by an earlier request. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

/** `POST /runs` headers: an optional `Idempotency-Key` (per caller) makes a retry answer with the same run. */
export const StartRunHeadersSchema = z.looseObject({
  [IDEMPOTENCY_KEY_HEADER]: IdempotencyKeySchema.optional().describe(
    'a retry with the same key and the same body (by the same caller) answers 200 with the run the first ' +
      'request started (201); the same key with another body is 409 IdempotencyKeyReused. Kept as long as ' +
      'the namespace retains the run',
  ),
});

/** What a bad `limit` is told, with what it sent (`limit=abc`: `expected an integer from 1 to 1000, got "abc"`). */
function limitError(issue: { input?: unknown }): string {
  return `expected an integer from 1 to 1000, got ${JSON.stringify(String(issue.input))}`;
}

/** `GET /runs` filters; the owner is always the caller. */
export const ListRunsQuerySchema = z.object({
  status: RunStatusSchema.optional().describe('only runs with this HitlStatus'),
  tool: FilterValueSchema.optional().describe('only runs waiting for a decision on this tool'),
  conversationId: FilterValueSchema.optional(),
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, { error: limitError })
    .transform(Number)
    .pipe(z.number().int().min(1, { error: limitError }).max(1000, { error: limitError }))
    .default(100)
    .describe('at most this many runs (1 to 1000, default 100)'),
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
  toolsVersion: z
    .string()
    .optional()
    .describe(
      'agent runs naming MCP servers: content hash of the MCP tools listed and pinned when the run started ' +
        '(`configVersion` is the file’s configuration, the one GET /agents shows)',
    ),
  approvers: z.array(z.string()).describe('identities that may resolve (for an agent run, once resolved)'),
  approverClaims: z.array(ClaimRuleSchema).describe('claim rules: a caller whose token matches one may resolve too'),
  caller: z.object({
    sub: z.string(),
    owner: z.boolean().describe('the caller owns the run (may abort it)'),
    approver: z.boolean().describe('the caller may resolve its pending actions'),
  }),
  grantOffers: z
    .record(z.string(), GrantOfferSchema)
    .nullable()
    .describe(
      'per tool of the run: the remembered scopes (session, always) an approval may use because they take ' +
        'effect under its pinned policy, or why not (an explicit ask entry always asks); null when the ' +
        'configuration cannot be read yet',
    ),
});
export type RunView = z.infer<typeof RunViewSchema>;

export const PendingResponseSchema = z.object({ pendingAction: PendingActionSchema.nullable() });

/** `GET /runs/:runId/messages` query. */
export const MessagesQuerySchema = z.object({
  fromSeq: z.coerce.number().int().min(0).max(2_147_483_647).optional().describe('first position (default 0)'),
  limit: z.coerce.number().int().min(1).max(500).optional().describe('most messages (default and maximum 500)'),
});

/**
 * `POST /runs/:runId/resolve`: a `Resolution` without `approver`. The approver is the token subject;
 * an `approver` field in the body is ignored (stripped before anything else sees the body).
 */
export const ResolveBodySchema = ResolutionSchema.omit({ approver: true, approverClaims: true }).extend({
  elicitation: ElicitationAnswerSchema.optional().describe(
    'the answer to an `mcp_elicitation` action: `accept` with `content` (the values of the requested form, by ' +
      'field name; a URL elicitation is accepted without content), `decline` or `cancel` (no content)',
  ),
});
export type ResolveBody = z.output<typeof ResolveBodySchema>;

export const ResolveHeadersSchema = z.looseObject({
  [IDEMPOTENCY_KEY_HEADER]: IdempotencyKeySchema.optional().describe(
    'a retry with the same key (by the same caller, on the same run) returns the first answer',
  ),
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
