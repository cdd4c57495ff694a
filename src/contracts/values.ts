// The contracts' constants and pure helpers, without zod. The workflow bundle imports these (and types)
// only: it evaluates its modules again for every new run and every replay, and building the zod schemas
// cost ~12 ms of the single workflow thread each time. The schema modules import from here, and
// src/contracts/index.ts exports both.
import type { NormalizedInlineRunInput, RunConfig } from './run-input';
import type { DecisionKind } from './pending-action';
import type { RunStatus } from './run-state';

// ---- pending-action.ts ----
export const ALL_DECISIONS: readonly DecisionKind[] = ['approve', 'reject', 'edit', 'respond'];
/** The built-in tool through which the model asks the user (handled by the workflow, never an activity). */
export const ASK_USER_QUESTION = 'ask_user_question';

// ---- run-state.ts ----
/** Statuses a run never leaves. */
export const FINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set(['completed', 'aborted', 'failed']);
/**
 * At most this many `awaitPendingAction` calls wait in one run at a time; another one is answered at
 * once with `busy: true` (poll instead). The server caps in-flight updates per run (10 by default) and
 * holds back further updates, `resolveAction` included, until one completes: approvals must never wait
 * behind waiters. (Refusing them in the validator instead made concurrent resolutions fail on the dev
 * server with "Workflow Update is rejected because it wasn't processed by worker".)
 */
export const MAX_CONCURRENT_WAITERS = 5;

/** Longest single `awaitPendingAction` wait; a caller that waits longer sends the update again. */
export const MAX_AWAIT_PENDING_MS = 10 * 60 * 1000;
export const DEFAULT_AWAIT_PENDING_MS = 60 * 1000;

// ---- errors.ts ----
/** `ApplicationFailure.type` of a run whose input does not match `RunInput` (wire). */
export const INVALID_INPUT_ERROR_TYPE = 'InvalidInput';

// ---- agents.ts ----
/** Memo key under which an agent run publishes who may read and resolve it (read by the HTTP API). */
export const RUN_ACCESS_MEMO_KEY = 'hitlAccess';
/**
 * Memo key under which a run whose transcript forked after a reset publishes its content-store key (read by the
 * client); absent, the key is `<workflowId>/<firstExecutionRunId>`.
 */
export const TRANSCRIPT_KEY_MEMO_KEY = 'hitlTranscriptKey';
/**
 * Memo key (`true`) of a run continued from a reset run that has not forked its transcript yet: like the reset
 * run itself (whose description has `lastResetTime`, which continue-as-new does not carry), its readers read the
 * chain's key only up to `getRunState().messagesStored`.
 */
export const RESET_NOT_FORKED_MEMO_KEY = 'hitlResetNotForked';
/** Longest id or name that arrives from outside (user ids, agent ids, tool names, claim values). */
export const MAX_ID_CHARS = 256;

// ---- messages.ts ----
/** Longest tool result (in characters) that goes back to the model; longer ones are cut. */
export const MAX_TOOL_RESULT_CHARS = 20_000;
const TRUNCATION_MARK = '\n…[truncated]';
/** Cuts a tool result to MAX_TOOL_RESULT_CHARS so one call cannot flood the transcript. */
export function truncateToolResult(content: string): string {
  if (content.length <= MAX_TOOL_RESULT_CHARS) return content;
  return content.slice(0, MAX_TOOL_RESULT_CHARS - TRUNCATION_MARK.length) + TRUNCATION_MARK;
}

// ---- transcript.ts ----
/** Longest message content (characters) the workflow keeps: longer ones are a preview and a length. */
export const MESSAGE_PREVIEW_CHARS = 2000;
/** Tool arguments up to this size (JSON characters) ride in history; larger ones are a reference. */
export const INLINE_ARGUMENTS_CHARS = 8 * 1024;
/** How many of the latest messages `getRunState`, the run result and continue-as-new carry. */
export const RECENT_MESSAGES = 20;
/** The first `max` characters of `text` (never splitting a surrogate pair), or `text` itself. */
export function previewText(text: string, max: number = MESSAGE_PREVIEW_CHARS): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end);
}

// ---- resolution.ts ----
export const MAX_REASON_CHARS = 4000;
export const MAX_ANSWER_CHARS = 16_000;
/**
 * A resolution larger than this (serialized) that the run would refuse is refused by the update validator, so it
 * never enters history nor the audit log. Otherwise anyone who may read a run could grow its history by a
 * megabyte per refused request while it cannot continue as new (paused on an MCP elicitation, or inside an
 * activity) until Temporal terminates it; smaller refusals are recorded, at most a few MiB per run.
 */
export const MAX_AUDITED_REFUSAL_CHARS = 4096;

// ---- run-input.ts ----
/** True for v1 inline input: it carries its own `model`. */
export function isInlineRunInput(input: unknown): boolean {
  return typeof input === 'object' && input !== null && 'model' in input;
}
/** The effective configuration of an inline (v1) run: its own fields, with the tightening applied. */
export function inlineRunConfig(input: NormalizedInlineRunInput): RunConfig {
  const tighten = input.tighten ?? {};
  return {
    ...(input.agentId !== undefined ? { agentId: input.agentId } : {}),
    model: input.model,
    tools: input.tools,
    policy: input.policy,
    tighten: { deny: tighten.deny ?? [], ask: tighten.ask ?? [] },
    approvers: { users: input.approvers ?? [input.userId], claims: [] },
    approvalTtlMs:
      tighten.approvalTtlMs !== undefined ? Math.min(tighten.approvalTtlMs, input.approvalTtlMs) : input.approvalTtlMs,
    onExpiry: tighten.onExpiry ?? input.onExpiry,
    maxTurns: input.maxTurns,
  };
}

// ---- grants.ts ----
/** Most grants one user holds in one bucket: `always`, or `session` per conversation. */
export const MAX_GRANTS_PER_SCOPE = 64;

/** `ApplicationFailure.type` when a bucket already holds MAX_GRANTS_PER_SCOPE grants (wire). */
export const GRANT_LIMIT_ERROR_TYPE = 'GrantLimitReached';
/** `ApplicationFailure.type` when a grant or revocation does not match its schema (wire). */
export const INVALID_GRANT_ERROR_TYPE = 'InvalidGrant';
/**
 * `ApplicationFailure.type` when an `addGrant` carries an `approvedAt` that is not later than a revocation
 * of the same grant (or than revocations the entity no longer remembers): the approval was revoked before
 * its grant could be written, so nothing is written (wire).
 */
export const GRANT_REVOKED_ERROR_TYPE = 'GrantRevoked';

/** How long, and how much, a `userGrants` entity keeps before pruning (all optional in its state). */
export const GRANT_RETENTION_DEFAULTS = {
  /** Session grants of a conversation with no grant written for this long are pruned: 30 days. */
  sessionIdleMs: 30 * 24 * 60 * 60 * 1000,
  /** Most conversations with session grants one user keeps; the longest idle are pruned first. */
  maxSessionConversations: 50,
  /** Most session grants over all conversations; the longest idle conversations are pruned first. */
  maxSessionGrants: 512,
  /** Revocations (tombstones) are remembered this long: 7 days. */
  revocationRetentionMs: 7 * 24 * 60 * 60 * 1000,
  /** Most revocations remembered; the oldest are forgotten first. */
  maxRevocations: 256,
} as const;

/** How long the entity remembers the answer of an `addGrant` update id (so a retry gets it after continue-as-new). */
export const GRANT_WRITE_MEMORY_MS = 24 * 60 * 60 * 1000;
/** Most `addGrant` answers remembered by update id. */
export const MAX_REMEMBERED_GRANT_WRITES = 64;

/** Workflow type of the per-user grants entity (wire). */
export const USER_GRANTS_WORKFLOW = 'userGrants';
/** Workflow id of a user's grants entity (wire). */
export function userGrantsWorkflowId(userId: string): string {
  return 'hitl-grants/' + userId;
}
