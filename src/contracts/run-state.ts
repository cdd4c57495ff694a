import { z } from 'zod';
import { MAX_AWAIT_PENDING_MS } from './values';
import { RefusalSchema } from './errors';
import { MAX_TOOL_CALLS_PER_TURN, ToolMessageSchema } from './messages';
import { PendingActionSchema } from './pending-action';
import { ResolveResultSchema, ScopeSchema } from './resolution';
import { RunConfigSchema } from './run-input';
import { DecisionKindSchema } from './pending-action';
import { AppendEntrySchema, ContentRefStringSchema, StoredToolCallSchema, TranscriptMessageSchema } from './transcript';

/**
 * Where the shown messages sit in the whole transcript (runs that keep it in the content store): `messages`
 * are the latest ones, from position `messagesFrom` of `messagesTotal`; the rest is read from the store.
 */
const TranscriptWindowFields = {
  messagesFrom: z.number().int().nonnegative().optional(),
  messagesTotal: z.number().int().nonnegative().optional(),
};

/** `HitlStatus` values (wire). */
export const RunStatusSchema = z.enum(['running', 'requires_action', 'completed', 'aborted', 'failed']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/**
 * Update `awaitPendingAction` (wire; optional argument): wait inside the run for its next pause.
 * `afterActionId` skips an action the caller already knows (e.g. the one it just resolved).
 */
export const AwaitPendingActionRequestSchema = z.strictObject({
  afterActionId: z.string().min(1).max(256).optional(),
  /** How long the run holds the update before it answers with its current state (default 60 s, at most 10 min). */
  timeoutMs: z.number().int().positive().max(MAX_AWAIT_PENDING_MS).optional(),
});
export type AwaitPendingActionRequest = z.infer<typeof AwaitPendingActionRequestSchema>;

/**
 * What `awaitPendingAction` returns: the run paused (`requires_action` and the action), or it ended
 * (a final status, no action). No action and a status that is not final means "not yet": the wait timed
 * out, or the run continued as new before it paused; send the update again (it reaches the new run).
 */
export const AwaitPendingActionResultSchema = z.object({
  status: RunStatusSchema,
  pendingAction: PendingActionSchema.nullable(),
  /** Too many callers already wait in this run: nothing was waited for; poll `getPendingAction` instead. */
  busy: z.literal(true).optional(),
});
export type AwaitPendingActionResult = z.infer<typeof AwaitPendingActionResultSchema>;

/** One entry of the audit log: every resolution attempt, accepted or refused, and every expiry. */
export const AuditEntrySchema = z.object({
  at: z.iso.datetime(),
  via: z.enum(['update', 'signal', 'expiry', 'cancel', 'grant']),
  actionId: z.string().nullable(),
  approver: z.string().nullable(),
  outcome: z.enum(['accepted', 'refused', 'expired', 'cancelled', 'granted']),
  refusal: RefusalSchema.optional(),
  /** For `via: "grant"`: the remembered approval written (or not) after the approved call succeeded. */
  grant: z.object({ tool: z.string(), scope: z.enum(['session', 'always']) }).optional(),
  message: z.string().optional(),
  decisions: z
    .array(z.object({ tool_call_id: z.string(), decision: DecisionKindSchema, scope: ScopeSchema.optional() }))
    .optional(),
  /** An accepted answer to an MCP elicitation: its action (the content goes to the server only). */
  elicitation: z.enum(['accept', 'decline', 'cancel']).optional(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** Query `getRunState` (wire). */
export const RunStateSchema = z.object({
  status: RunStatusSchema,
  turn: z.number().int(),
  pendingAction: PendingActionSchema.nullable(),
  /** The transcript (runs recorded before the content store), or its latest messages, previewed. */
  messages: z.array(TranscriptMessageSchema),
  ...TranscriptWindowFields,
  /**
   * How many entries of the transcript the content store holds for this run (the rest of `messagesTotal` is
   * still in the run, stored by its next step). A reader of a run that an operator reset, and that has not
   * forked its transcript yet, reads no further: past it the store holds the branch the reset left.
   */
  messagesStored: z.number().int().nonnegative().optional(),
  decisions: z.array(AuditEntrySchema),
  error: z.string().optional(),
  /** The agent the run was started with (also an inline run's `agentId` label). */
  agentId: z.string().optional(),
  /** Content hash of the agent's configuration the run was started under (agent runs). */
  configVersion: z.string().optional(),
  /** Audit entries dropped to keep the log bounded (oldest refusals first); the history has them all. */
  decisionsDropped: z.number().int().nonnegative().optional(),
  /** While a model call waits to be retried: which attempt comes next, why, and when. */
  modelRetry: z
    .object({ attempt: z.number().int().positive(), lastError: z.string(), nextAttemptAt: z.iso.datetime() })
    .optional(),
});
export type RunState = z.infer<typeof RunStateSchema>;

/** What a finished `generationRun` returns. */
export const RunResultSchema = z.object({
  status: z.enum(['completed', 'aborted']),
  /** Why the run ended: `final_answer`, `max_turns`, `expired`, or `cancelled`. */
  finishReason: z.enum(['final_answer', 'max_turns', 'expired', 'cancelled']),
  reason: z.string().optional(),
  /** The final answer (its first MESSAGE_PREVIEW_CHARS when `finalMessageChars` is set). */
  finalMessage: z.string().optional(),
  finalMessageChars: z.number().int().nonnegative().optional(),
  turn: z.number().int(),
  messages: z.array(TranscriptMessageSchema),
  ...TranscriptWindowFields,
});
export type RunResult = z.infer<typeof RunResultSchema>;

/**
 * A tool message as the workflow keeps it: with `messageRef` the whole message is in the content store
 * (`content` is then a preview, `contentChars` the full length when cut).
 */
export const ToolOutcomeSchema = ToolMessageSchema.extend({
  messageRef: ContentRefStringSchema.optional(),
  contentChars: z.number().int().nonnegative().optional(),
});
export type ToolOutcome = z.infer<typeof ToolOutcomeSchema>;

/** The transcript of a run that keeps it in the content store, as continue-as-new carries it. */
export const TranscriptStateSchema = z.object({
  /** Entries already in the store. */
  length: z.number().int().nonnegative(),
  /** Entries still to append (appended by the next model call, or when the run ends). */
  append: z.array(AppendEntrySchema),
  /** Messages in all, appended or not. */
  total: z.number().int().nonnegative(),
  /**
   * The transcript's content-store key when it is not the chain's `<workflowId>/<firstExecutionRunId>`: a run
   * reset to an earlier point forked its transcript to a key of its own (`<workflowId>/<runId>`).
   */
  key: z.string().min(1).max(1000).optional(),
});
export type TranscriptState = z.infer<typeof TranscriptStateSchema>;

/**
 * A model turn whose run continued as new while it waited for a person: the next run resumes it at the
 * same pending action (same `actionId`, same `expiresAt`), without calling the model or any tool again.
 */
export const TurnInProgressSchema = z.object({
  callIndex: z.number().int().nonnegative(),
  calls: z.array(StoredToolCallSchema).max(MAX_TOOL_CALLS_PER_TURN),
  /** Tool messages decided so far (denied, allowed and run, invalid), by tool_call_id. */
  outcomes: z.record(z.string(), ToolOutcomeSchema),
  /** The calls of the approval pause, with the policy's reason. */
  asked: z.array(z.object({ id: z.string(), reason: z.string().optional() })),
  /** ids of the ask_user_question calls, one pause each, in call order. */
  questions: z.array(z.string()),
  /** Which pause the turn is in: the approval, or the n-th question. */
  stage: z.union([z.literal('approval'), z.number().int().nonnegative()]),
  pending: PendingActionSchema,
});
export type TurnInProgress = z.infer<typeof TurnInProgressSchema>;

/**
 * Second workflow argument, passed only by the workflow itself on continue-as-new: the transcript,
 * the audit log and what was resolved, so a long run keeps its memory and its exactly-once answers.
 */
export const ContinuedStateSchema = z.object({
  turn: z.number().int().nonnegative(),
  /** The whole transcript, or (with `transcript`) its latest messages. */
  messages: z.array(TranscriptMessageSchema),
  /** Set by runs that keep their transcript in the content store. */
  transcript: TranscriptStateSchema.optional(),
  decisions: z.array(AuditEntrySchema),
  resolvedActionIds: z.array(z.string()),
  expiredActionIds: z.array(z.string()),
  /** update id → the answer it got, so a retried update returns the first answer after continue-as-new. */
  acceptedUpdates: z.record(z.string(), ResolveResultSchema),
  /** An agent run's pinned configuration: a continued run never resolves its agent again. */
  config: RunConfigSchema.optional(),
  /** Audit entries dropped so far. */
  decisionsDropped: z.number().int().nonnegative().optional(),
  /** Set when the run continued as new while paused: the turn to resume. */
  turnInProgress: TurnInProgressSchema.optional(),
});
export type ContinuedState = z.infer<typeof ContinuedStateSchema>;
