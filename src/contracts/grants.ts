// Remembered decisions: `session` and `always` grants, held by one long-lived `userGrants` entity
// workflow per user. Sandbox-safe: the workflow bundle imports this file.
import { z } from 'zod';
// The grants' constants and messages live in zod-free modules (the workflow bundle imports those); here too
// for the grants' other users.
export {
  GRANT_LIMIT_ERROR_TYPE,
  GRANT_RETENTION_DEFAULTS,
  GRANT_REVOKED_ERROR_TYPE,
  GRANT_WRITE_MEMORY_MS,
  INVALID_GRANT_ERROR_TYPE,
  MAX_GRANTS_PER_SCOPE,
  MAX_REMEMBERED_GRANT_WRITES,
  USER_GRANTS_WORKFLOW,
  userGrantsWorkflowId,
} from './values';
export { addGrantUpdate, listGrantsQuery, revokeGrantUpdate } from './temporal';

/** The scopes a grant can have (`once` is never remembered). */
export const GrantScopeSchema = z.enum(['session', 'always']);
export type GrantScope = z.infer<typeof GrantScopeSchema>;

/** A grant names one exact tool: `*` would make it a glob, and grants never cover wildcards. */
export const GrantToolNameSchema = z
  .string()
  .min(1)
  .max(256)
  .refine((name) => !name.includes('*'), { message: 'grants name one exact tool; "*" (wildcard) is not allowed' });

const IdSchema = z.string().min(1).max(256);

/** `session` needs the conversation it applies to; `always` applies to every conversation and has none. */
function checkConversation(value: { scope: GrantScope; conversationId?: string | undefined }, ctx: z.RefinementCtx) {
  if (value.scope === 'session' && value.conversationId === undefined) {
    ctx.addIssue({ code: 'custom', path: ['conversationId'], message: 'required when scope is "session"' });
  }
  if (value.scope === 'always' && value.conversationId !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['conversationId'], message: 'must be absent when scope is "always"' });
  }
}

const GrantFields = {
  tool: GrantToolNameSchema,
  scope: GrantScopeSchema,
  conversationId: IdSchema.optional(),
  /** Identity of the approver whose decision created the grant. */
  grantedBy: IdSchema,
  /** Workflow id of the generation run the approval came from. */
  runId: IdSchema,
};

/** One remembered approval, as the entity stores and lists it. */
export const GrantSchema = z
  .object({
    ...GrantFields,
    /** Workflow time at which the entity recorded the grant. */
    grantedAt: z.iso.datetime(),
  })
  .superRefine(checkConversation);
export type Grant = z.infer<typeof GrantSchema>;

/**
 * Argument of update `addGrant`: a grant without `grantedAt` (the entity stamps its own time), and
 * optionally `approvedAt`, the time the approval was decided. With it, the entity refuses the write
 * (`GrantRevoked`) when the same grant was revoked at or after that time; without it (older callers)
 * the grant is written as before.
 */
export const AddGrantRequestSchema = z
  .object({ ...GrantFields, approvedAt: z.iso.datetime().optional() })
  .superRefine(checkConversation);
export type AddGrantRequest = z.infer<typeof AddGrantRequestSchema>;

/** Argument of update `revokeGrant`; revoking a `session` grant names its conversation. */
export const RevokeGrantRequestSchema = z
  .object({
    tool: GrantToolNameSchema,
    scope: GrantScopeSchema,
    conversationId: IdSchema.optional(),
  })
  .superRefine(checkConversation);
export type RevokeGrantRequest = z.infer<typeof RevokeGrantRequestSchema>;

/** What update `revokeGrant` returns: how many grants were removed (0 when there was none). */
export const RevokeGrantResultSchema = z.object({ revoked: z.number().int().nonnegative() });
export type RevokeGrantResult = z.infer<typeof RevokeGrantResultSchema>;

/** A revocation the entity remembers (a tombstone), so an older approval cannot write the grant again. */
export const GrantRevocationSchema = z
  .object({
    tool: GrantToolNameSchema,
    scope: GrantScopeSchema,
    conversationId: IdSchema.optional(),
    /** Workflow time at which the entity handled the revocation. */
    revokedAt: z.iso.datetime(),
  })
  .superRefine(checkConversation);
export type GrantRevocation = z.infer<typeof GrantRevocationSchema>;

/** Overrides of GRANT_RETENTION_DEFAULTS for one entity; carried over continue-as-new. */
export const GrantRetentionSchema = z.object({
  sessionIdleMs: z.number().int().positive().optional(),
  maxSessionConversations: z.number().int().positive().optional(),
  maxSessionGrants: z.number().int().positive().optional(),
  revocationRetentionMs: z.number().int().positive().optional(),
  maxRevocations: z.number().int().positive().optional(),
});
export type GrantRetention = z.infer<typeof GrantRetentionSchema>;

/** The answer of one `addGrant` update, by update id (see GRANT_WRITE_MEMORY_MS). */
export const GrantWriteSchema = z.object({
  updateId: z.string().min(1).max(1000),
  at: z.iso.datetime(),
  grant: GrantSchema,
});
export type GrantWrite = z.infer<typeof GrantWriteSchema>;

/**
 * The argument of `userGrants`: whom the entity belongs to and what it carries over continue-as-new. Every
 * field but `userId` and `grants` is optional, so states written before they existed still start it.
 */
export const UserGrantsStateSchema = z.object({
  userId: IdSchema,
  grants: z.array(GrantSchema),
  /** Remembered revocations (tombstones), oldest first. */
  revocations: z.array(GrantRevocationSchema).optional(),
  /**
   * The latest `revokedAt` of revocations the entity has forgotten (retention or count): an add whose
   * `approvedAt` is not later than this is refused, since it might have been revoked.
   */
  revocationsForgottenUntil: z.iso.datetime().optional(),
  /** Answers of recent `addGrant` updates by update id, oldest first. */
  recentWrites: z.array(GrantWriteSchema).optional(),
  /** Overrides of the retention defaults. */
  retention: GrantRetentionSchema.optional(),
});
export type UserGrantsState = z.infer<typeof UserGrantsStateSchema>;

/**
 * The exact tool names granted to a run in `conversationId`: every `always` grant plus the `session`
 * grants of that conversation, each name once, in the order the grants were made. With `grantors`, only the
 * grants those identities made count: a remembered approval stands for its approver's decision, so it counts
 * only in runs that approver may decide (the run's approvers). Without, every grant counts (a request of a
 * run recorded before grantors were passed).
 */
export function grantedToolNames(
  grants: readonly Grant[],
  conversationId: string,
  grantors?: readonly string[],
): string[] {
  const names = new Set<string>();
  for (const grant of grants) {
    if (grantors !== undefined && !grantors.includes(grant.grantedBy)) continue;
    if (grant.scope === 'always' || (grant.scope === 'session' && grant.conversationId === conversationId))
      names.add(grant.tool);
  }
  return [...names];
}

/**
 * Argument of activity `loadGrants`. `grantors`: the run's approvers by identity; only their grants count
 * (a grant made where the user approved their own calls must not stand in for an approver another agent names).
 */
export const LoadGrantsRequestSchema = z.object({
  userId: IdSchema,
  conversationId: IdSchema,
  grantors: z.array(IdSchema).max(100).optional(),
});
export type LoadGrantsRequest = z.infer<typeof LoadGrantsRequestSchema>;

/** Argument of activity `recordGrant`: whose entity, and the grant to add (with `approvedAt` when known). */
export type RecordGrantRequest = { userId: string } & AddGrantRequest;

/**
 * The grant activities a workflow proxies (implemented in src/activities/grants.ts). `recordGrant`
 * fails with a non-retryable `GrantLimitReached`, `GrantRevoked` or `InvalidGrant` ApplicationFailure
 * when refused. Its update id is derived from the activity's identity, so every retry of one activity
 * gets the first attempt's answer instead of writing again.
 */
export interface GrantActivities {
  /** Exact tool names granted to a run of `userId` in `conversationId` (none when the user has no entity). */
  loadGrants(request: LoadGrantsRequest): Promise<string[]>;
  /** Adds the grant to the user's entity, starting the entity when it does not exist yet. */
  recordGrant(request: RecordGrantRequest): Promise<Grant>;
}
