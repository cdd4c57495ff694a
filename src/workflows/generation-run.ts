// The generationRun workflow: one assistant response, with tool calls paused for a human where the
// policy says so. Deterministic: every side effect happens in an activity.
import * as wf from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type {
  ActionRequest,
  ApproverRules,
  AskUserQuestionArgs,
  AuditEntry,
  AwaitPendingActionRequest,
  AwaitPendingActionResult,
  CallModelRequest,
  CallModelResult,
  CheckToolArgumentsRequest,
  ChatMessage,
  ContinuedState,
  ElicitationAnswer,
  ElicitationRequest,
  GrantActivities,
  GrantScope,
  HitlActivities,
  HumanInterruptPayload,
  JsonObject,
  LoadGrantsRequest,
  McpElicitationPayload,
  ModelConfig,
  NormalizedAgentRunInput,
  NormalizedInlineRunInput,
  NormalizedRunInput,
  PendingAction,
  Refusal,
  ResolveResult,
  RunAccessMemo,
  RunConfig,
  RunInput,
  RunResult,
  RunState,
  RunStatus,
  StoredToolCall,
  StoredToolResult,
  ToolMessage,
  ToolOutcome,
  ToolSpec,
  TurnInProgress,
} from '../contracts';
import {
  awaitPendingActionUpdate,
  getElicitationResponseQuery,
  getPendingActionQuery,
  requestElicitationSignal,
  getRunStateQuery,
  HitlConversationId,
  HitlExpiresAt,
  HitlPendingTools,
  HitlStatus,
  HitlUserId,
  resolveActionSignal,
  resolveActionUpdate,
} from '../contracts/temporal';
import {
  ALL_DECISIONS,
  ASK_USER_QUESTION,
  DEFAULT_AWAIT_PENDING_MS,
  MAX_AUDITED_REFUSAL_CHARS,
  MAX_CONCURRENT_WAITERS,
  FINAL_RUN_STATUSES,
  INVALID_INPUT_ERROR_TYPE,
  inlineRunConfig,
  isInlineRunInput,
  RESET_NOT_FORKED_MEMO_KEY,
  RUN_ACCESS_MEMO_KEY,
  TRANSCRIPT_KEY_MEMO_KEY,
  truncateToolResult,
} from '../contracts/values';
import { evaluateRunPolicy, evaluateToolPolicy, type PolicyVerdict } from '../policy';
import { AuditLog } from './audit-log';
import { describePendingAction } from './details';
import { conditionWithin } from './timed-wait';
import { WorkflowTranscript } from './transcript';
import {
  checkResolutionShape,
  parseAskUserQuestionArgs,
  parseAwaitPendingActionRequest,
  parseContinuedState,
  parseElicitationRequest,
  parseRunConfig,
  parseRunInput,
} from './parse';
import { jsonLimitProblem } from '../contracts/json-limits';
import { checkResolution, type ResolutionCheck } from './validate-resolution';

/** An accepted resolution and when it was accepted (the workflow time of its handler). */
type AcceptedResolution = Extract<ResolutionCheck, { ok: true }> & { acceptedAt: string };
/** A turn being decided: what a continue-as-new while paused carries, but the pending action. */
type TurnState = Omit<TurnInProgress, 'pending'>;

export const EXPIRED_REASON = 'Approval expired before a decision was made';
export const REJECTED_REASON = 'Rejected by user';
export { MAX_AUDIT_CHARS, MAX_REFUSALS_IN_AUDIT } from './audit-log';
/**
 * Updates one run handles before it continues as new while paused: below Temporal's 2 000 per run (and
 * its suggestion at 90 %), with room for a burst that arrives while the handlers drain.
 */
export const UPDATES_BEFORE_CONTINUE_AS_NEW = 1500;
/** `patched()` id: runs that paused before continue-as-new-while-paused existed replay without it. */
export const CONTINUE_WHILE_PAUSED_PATCH = 'continue-as-new-while-paused';
/**
 * `patched()` id: runs keep their transcript in the content store (activities write it; the workflow holds
 * its length, what is still to append and a window of previews). Runs recorded before replay as they were.
 */
export const CONTENT_STORE_PATCH = 'content-store';
/**
 * `patched()` id: MCP tool calls (`<tool>_mcp_<server>` with a pinned MCP spec) have their arguments checked
 * against the tool's input schema before any pause, and their pending action names the server and shows the
 * tool's annotations. Runs recorded before replay as they were (they had no MCP tools).
 */
export const MCP_TOOLS_PATCH = 'mcp-tools';
/**
 * `patched()` id: every behaviour above at once (continue-as-new while paused, model retries in the run,
 * the content store, MCP tools), and search attributes written only when their value changes. Each
 * `patched()` of a new run records a marker and a `TemporalChangeVersion` upsert: new runs record only
 * this one instead of four; runs recorded before it replay the four separate ones, as they were.
 */
export const RUN_FEATURES_PATCH = 'run-features-v2';
/**
 * `patched()` id: everything RUN_FEATURES_PATCH switches on, and grants read and the transcript closed by
 * regular activities instead of local ones (GRANTS_ACTIVITY_OPTIONS says why). New runs record only this
 * one; runs recorded before it replay RUN_FEATURES_PATCH (or the four before it) and their local activities.
 */
export const RUN_FEATURES_V3_PATCH = 'run-features-v3';
/**
 * `patched()` id: everything RUN_FEATURES_V3_PATCH switches on, and the model call does two things the run
 * did with activities of its own: it returns the user's grants with a turn that calls tools (`grantsFor`), and
 * closes the content with a final answer (`closeIfFinal`). Each saves an activity and a workflow task; the
 * run still does them itself when the worker could not. Runs recorded before replay as they were.
 */
export const RUN_FEATURES_V4_PATCH = 'run-features-v4';
/** Elicitation requests a run remembers for the call in flight (the rest are answered `cancel` and dropped). */
export const MAX_ELICITATIONS_PER_CALL = 64;
/** Why an elicitation stopped waiting without an answer: its tool call ended or asked again. */
export const ELICITATION_WITHDRAWN = 'Withdrawn: the tool call ended or asked again before an answer';
/** Most resolved/expired action ids and update answers a continued run carries (the most recent ones). */
export const MAX_CARRIED_IDS = 256;

// Both activities heartbeat every second, so a worker that dies mid-call is noticed within the
// heartbeat timeout and the call is retried elsewhere (tools with the same idempotency key).
const MODEL_CALL_OPTIONS: wf.ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
};
const TOOL_CALL_TIMEOUT_MS = 10 * 60 * 1000;
const TOOL_CALL_OPTIONS: wf.ActivityOptions = {
  startToCloseTimeout: TOOL_CALL_TIMEOUT_MS,
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
};
const { callModel } = wf.proxyActivities<HitlActivities>(MODEL_CALL_OPTIONS);
/**
 * Model calls are retried by the run itself (one attempt per activity), so it can honour `Retry-After`
 * (the failure's `nextRetryDelay`), keep trying for minutes through an outage, and say in its details
 * and state that it is waiting, and why. Runs whose model call started before this replay as they were.
 */
export const MODEL_RETRY_PATCH = 'model-retries-in-run';
const MODEL_ATTEMPT_OPTIONS: wf.ActivityOptions = { ...MODEL_CALL_OPTIONS, retry: { maximumAttempts: 1 } };
/** How long the run keeps retrying a model that is unavailable before it fails. */
export const MODEL_RETRY_WINDOW_MS = 15 * 60 * 1000;
const MODEL_RETRY_INITIAL_MS = 1000;
const MODEL_RETRY_MAX_INTERVAL_MS = 60 * 1000;
// Grants are read before a policy decision that they could change, so a revocation is seen at the next decision.
// Runs started with RUN_FEATURES_V3_PATCH use a regular activity, older runs a local one. The SDK core (1.24.0)
// can record a local activity's marker in a workflow task that answered queries while it finished, before the
// workflow saw the result: the workflow sees it in the next task, after an update delivered with that task, and a
// replay at the marker, before the update, so the commands differ (nondeterminism; see
// test/workflow/local-activity-update-race.test.ts). A regular activity's result is an event, seen at the same
// point on replay; it costs five more events and one more workflow task per read.
const GRANTS_ACTIVITY_OPTIONS: wf.ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  // Bounds the wait for a worker too: without grants the calls ask (fail closed).
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 3 },
};
const { loadGrants } = wf.proxyActivities<GrantActivities>(GRANTS_ACTIVITY_OPTIONS);
const { loadGrants: loadGrantsLocally } = wf.proxyLocalActivities<GrantActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 3 },
});
const { recordGrant } = wf.proxyActivities<GrantActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
});
/** Policy outcomes a remembered grant can turn into "allow" (it never overrides deny or an explicit ask). */
const GRANTABLE_RULES: ReadonlySet<PolicyVerdict['rule']> = new Set(['default', 'dontAsk', 'disabled']);
const { executeTool } = wf.proxyActivities<HitlActivities>(TOOL_CALL_OPTIONS);
// Writes to the content store: retried like a tool (idempotent appends).
const { appendTranscript } = wf.proxyActivities<HitlActivities>(TOOL_CALL_OPTIONS);
// Marks the run's content closed as it ends: a regular activity in runs started with RUN_FEATURES_V3_PATCH,
// for the reason grants are (the run completes or writes its status right after it).
const CLOSE_TRANSCRIPT_OPTIONS: wf.ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
};
const { closeTranscript } = wf.proxyActivities<HitlActivities>(CLOSE_TRANSCRIPT_OPTIONS);
const { closeTranscript: closeTranscriptLocally } = wf.proxyLocalActivities<HitlActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});
// Reads the worker's configuration file: retried on transient errors, never on an unknown agent.
const RESOLVE_AGENT_OPTIONS: wf.ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
};
const { resolveAgentConfig } = wf.proxyActivities<HitlActivities>(RESOLVE_AGENT_OPTIONS);
// Checks MCP tool arguments against their schemas (a pure check; retried like a tool).
const CHECK_ARGUMENTS_OPTIONS: wf.ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
};
const { checkToolArguments } = wf.proxyActivities<HitlActivities>(CHECK_ARGUMENTS_OPTIONS);

function refusalFailure(refusal: Refusal): wf.ApplicationFailure {
  return wf.ApplicationFailure.create({
    type: refusal.type,
    message: refusal.message,
    nonRetryable: true,
    details: refusal.details ? [refusal.details] : [],
  });
}

function toolMessage(call: StoredToolCall, status: ToolMessage['status'], content: string): ToolOutcome {
  return { role: 'tool', tool_call_id: call.id, name: call.name, status, content: truncateToolResult(content) };
}

const MAX_MCP_DESCRIPTION_CHARS = 500;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function blockedMessage(call: StoredToolCall, reason: string): ToolOutcome {
  return toolMessage(call, 'error', `Blocked: ${reason}`);
}

/**
 * An activity refused the run's input (an unknown agent, a model provider the worker does not accept):
 * the run fails with the same non-retryable `InvalidInput` as malformed input, naming the cause.
 */
function invalidInputCause(err: unknown): wf.ApplicationFailure | undefined {
  if (!(err instanceof wf.ActivityFailure)) return undefined;
  const cause = err.cause;
  if (!(cause instanceof wf.ApplicationFailure) || cause.type !== INVALID_INPUT_ERROR_TYPE) return undefined;
  return wf.ApplicationFailure.create({ type: INVALID_INPUT_ERROR_TYPE, message: cause.message, nonRetryable: true });
}

/** The root cause of a failure, as `Type: message` (the innermost ApplicationFailure or timeout). */
export function describeFailure(err: unknown): string {
  let current: unknown = err;
  while (current instanceof wf.ActivityFailure || current instanceof wf.ChildWorkflowFailure) {
    if (!current.cause) break;
    current = current.cause;
  }
  if (current instanceof wf.ApplicationFailure)
    return current.type ? `${current.type}: ${current.message}` : current.message;
  if (current instanceof wf.TimeoutFailure) return `Timeout (${String(current.timeoutType)}): ${current.message}`;
  return current instanceof Error ? current.message : String(current);
}

/**
 * How long to wait before the next attempt of a failed model call, or undefined when retrying cannot help
 * (a non-retryable failure, a cancellation). Retry-After wins over the backoff.
 */
function retryDelay(err: unknown, attempt: number): number | undefined {
  if (!(err instanceof wf.ActivityFailure) || wf.isCancellation(err)) return undefined;
  const cause = err.cause;
  if (cause instanceof wf.ApplicationFailure) {
    if (cause.nonRetryable) return undefined;
    if (cause.nextRetryDelay !== undefined && cause.nextRetryDelay !== null) return msToNumber(cause.nextRetryDelay);
    // The SDK does not decode `nextRetryDelay` back into a failure: the provider also puts it in its details.
    const details: unknown = cause.details?.[0];
    const asked =
      typeof details === 'object' && details !== null
        ? (details as { retryAfterMs?: unknown }).retryAfterMs
        : undefined;
    if (typeof asked === 'number' && Number.isFinite(asked) && asked >= 0) return asked;
  }
  return Math.min(MODEL_RETRY_MAX_INTERVAL_MS, MODEL_RETRY_INITIAL_MS * 2 ** (attempt - 1));
}

/** The reason shown for a tool the policy blocks when the policy has no `reason` template. */
function defaultBlockReason(name: string, verdict: PolicyVerdict): string {
  switch (verdict.rule) {
    case 'disabled':
      return `Tool "${name}" needs approval, but tool approval is disabled`;
    case 'dontAsk':
      return `Tool "${name}" is not allowed without approval (mode dontAsk)`;
    case 'tightenDeny':
      return `Tool "${name}" is denied for this run`;
    default:
      return `Tool "${name}" is denied by policy`;
  }
}

/** A value in the start event without a type (not readable as typed): written whatever it is. */
const UNREADABLE = Symbol('unreadable');

/** Same value: absent, null and [] are all "none" (an upsert of null or [] removes one); lists item by item. */
function sameSearchAttributeValue(
  had: SearchAttributeUpdatePair['value'] | typeof UNREADABLE | undefined,
  next: SearchAttributeUpdatePair['value'],
): boolean {
  if (had === UNREADABLE) return false;
  const none = (value: unknown) =>
    value === undefined || value === null || (Array.isArray(value) && value.length === 0);
  if (none(had) || none(next)) return none(had) && none(next);
  if (Array.isArray(had) && Array.isArray(next)) {
    return had.length === next.length && had.every((item, index) => item === next[index]);
  }
  if (had instanceof Date && next instanceof Date) return had.getTime() === next.getTime();
  return had === next;
}

export async function generationRun(rawInput: RunInput, continued?: ContinuedState): Promise<RunResult> {
  const info = wf.workflowInfo();
  const runId = info.workflowId;
  // Behaviour added after runs were already recorded, decided once, in the run's first workflow task: a
  // patch marker recorded later (e.g. right after a local activity) can land in a different workflow task
  // on replay than where the code asks for it. Runs started before replay as they were recorded.
  // A new run records RUN_FEATURES_V4_PATCH alone (one marker); a run recorded before it asks for the patches
  // of its time (RUN_FEATURES_V3_PATCH, RUN_FEATURES_PATCH, then the four older ones), in this order, as it did.
  const modelCallDoesMore = wf.patched(RUN_FEATURES_V4_PATCH);
  const noLocalActivities = modelCallDoesMore || wf.patched(RUN_FEATURES_V3_PATCH);
  const current = noLocalActivities || wf.patched(RUN_FEATURES_PATCH);
  const continueWhilePaused = current || wf.patched(CONTINUE_WHILE_PAUSED_PATCH);
  const modelRetriesInRun = current || wf.patched(MODEL_RETRY_PATCH);
  const storeTranscript = current || wf.patched(CONTENT_STORE_PATCH);
  const mcpTools = current || wf.patched(MCP_TOOLS_PATCH);
  // The run's search attributes as it knows them: those of its start event (set by the client that started
  // it; a run continued as new inherits its predecessor's), then only what the run itself writes. Read
  // here, once, before any await or handler can run, so what the run writes depends on its start event and
  // its own code alone, and replays the same however updates interleave with its workflow tasks.
  const searchAttributeValues = new Map<string, SearchAttributeUpdatePair['value'] | typeof UNREADABLE>();
  for (const key of [HitlStatus, HitlUserId, HitlConversationId, HitlPendingTools, HitlExpiresAt]) {
    const value = info.typedSearchAttributes.get(key);
    if (value !== undefined) searchAttributeValues.set(key.name, value);
    else if (info.searchAttributes[key.name] !== undefined) searchAttributeValues.set(key.name, UNREADABLE);
  }
  /**
   * The content-store keys: the run's transcript (stable across continue-as-new), and staged input (`runId`).
   * A run reset to an earlier point may fork its transcript to a key of its own: then the model call or the
   * append that forked it says so, and a continued run carries it.
   */
  const chainTranscriptKey = `${runId}/${info.firstExecutionRunId}`;
  const parsedInput = parseRunInput(rawInput);
  const parsedContinued = continued === undefined ? undefined : parseContinuedState(continued);
  const carried = parsedContinued?.success ? parsedContinued.data : undefined;
  let transcriptKey = carried?.transcript?.key ?? chainTranscriptKey;
  const inline = isInlineRunInput(rawInput);
  // The effective configuration: an inline run's own fields; an agent run's is resolved by an activity
  // below (once, then carried across continue-as-new), so until then nobody may resolve anything.
  let config: RunConfig | undefined =
    carried?.config ??
    (parsedInput.success && inline ? inlineRunConfig(parsedInput.data as NormalizedInlineRunInput) : undefined);

  // ---- state, exposed by the queries ----
  let status: RunStatus = carried?.turnInProgress ? 'requires_action' : 'running';
  let turn = carried?.turn ?? 0;
  const transcript = openTranscript();
  /** The transcript the run starts from: carried across continue-as-new, else the input's. */
  function openTranscript(): WorkflowTranscript {
    if (carried?.transcript) return WorkflowTranscript.restored(carried.messages, carried.transcript);
    const start: ChatMessage[] = carried ? carried.messages : parsedInput.success ? parsedInput.data.messages : [];
    if (!storeTranscript) return WorkflowTranscript.inline(start);
    const stored = WorkflowTranscript.stored();
    const staged = carried ? undefined : parsedInput.success ? parsedInput.data.stagedConversation : undefined;
    if (staged) stored.addStaged(staged);
    for (const message of start) stored.add(message);
    return stored;
  }
  const audit = new AuditLog(carried?.decisions ?? [], carried?.decisionsDropped ?? 0);
  /** Updates this run has handled (accepted or refused by the handler): Temporal caps them per run. */
  let updatesThisRun = 0;
  const resolvedActionIds = new Set(carried?.resolvedActionIds ?? []);
  const expiredActionIds = new Set(carried?.expiredActionIds ?? []);
  const acceptedUpdates = new Map<string, ResolveResult>(Object.entries(carried?.acceptedUpdates ?? {}));
  const noApprovers: ApproverRules = { users: [], claims: [] };
  // A run that continued as new while paused is paused from its first moment: updates buffered for it are
  // delivered as soon as the handlers below are registered, before the main code resumes the turn.
  let pending: PendingAction | null = carried?.turnInProgress?.pending ?? null;
  let accepted: AcceptedResolution | null = null;
  let errorMessage: string | undefined;
  /** Set while a model call waits to be retried. */
  let modelRetry: RunState['modelRetry'];

  function record(entry: AuditEntry): void {
    audit.record(entry);
  }

  /** What a resolution is judged against: the pending action, who may decide, what was decided or expired. */
  function resolutionContext(): Parameters<typeof checkResolution>[1] {
    return { pending, approvers: config?.approvers ?? noApprovers, resolvedActionIds, expiredActionIds };
  }

  /**
   * The refusal of a large resolution, judged before it is accepted (see MAX_AUDITED_REFUSAL_CHARS); null for
   * a small one, one the run would accept, or the repeat of an accepted update (the handler answers it again).
   */
  function largeResolutionRefusal(raw: unknown): Refusal | null {
    if (jsonLimitProblem(raw, MAX_AUDITED_REFUSAL_CHARS, 'The resolution') === undefined) return null;
    const updateId = wf.currentUpdateInfo()?.id;
    if (updateId !== undefined && acceptedUpdates.has(updateId)) return null;
    try {
      const check = checkResolution(raw, resolutionContext());
      return check.ok ? null : check.refusal;
    } catch {
      return null; // the handler records it as unreadable
    }
  }

  /** Shared by update and signal: checks, records, and on success resolves before any await. */
  function tryResolve(raw: unknown, via: 'update' | 'signal'): ResolveResult | Refusal {
    const at = new Date().toISOString();
    let check: ResolutionCheck;
    try {
      check = checkResolution(raw, resolutionContext());
    } catch (err) {
      // A handler must never throw anything but a typed refusal: that would fail the workflow task.
      const refusal: Refusal = { type: 'InvalidResolution', message: `Unreadable resolution: ${String(err)}` };
      record({ at, via, actionId: null, approver: null, outcome: 'refused', refusal });
      return refusal;
    }
    if (!check.ok) {
      record({
        at,
        via,
        actionId: check.actionId,
        approver: check.approver,
        outcome: 'refused',
        refusal: check.refusal,
      });
      return check.refusal;
    }
    const { actionId, approver } = check.resolution;
    // Marked resolved synchronously: a second resolution in the same activation sees it.
    resolvedActionIds.add(actionId);
    accepted = { ...check, acceptedAt: at };
    pending = null;
    status = 'running';
    record({
      at,
      via,
      actionId,
      approver,
      outcome: 'accepted',
      decisions: [...check.decisions.values()].map((d) => ({
        tool_call_id: d.tool_call_id,
        decision: d.decision,
        ...(d.decision === 'approve' ? { scope: d.scope } : {}),
      })),
      ...(check.elicitation !== undefined ? { elicitation: check.elicitation.action } : {}),
    });
    return { actionId, status: 'running', decidedBy: approver };
  }

  // ---- handlers: registered before the first await ----
  /** `agentId` and `configVersion` for the queries (the input's label until an agent is resolved). */
  function agentFields(): { agentId?: string; configVersion?: string } {
    const agentId = config?.agentId ?? (parsedInput.success ? parsedInput.data.agentId : undefined);
    return {
      ...(agentId !== undefined ? { agentId } : {}),
      ...(config?.configVersion !== undefined ? { configVersion: config.configVersion } : {}),
    };
  }
  /** Current details in the Web UI; an agent run's start with the agent and its configuration version. */
  function setDetails(markdown: string): void {
    const header = config?.configVersion ? `Agent \`${config.agentId}\` · config \`${config.configVersion}\`\n\n` : '';
    wf.setCurrentDetails(header + markdown);
  }
  wf.setHandler(getPendingActionQuery, () => pending);
  wf.setHandler(getRunStateQuery, (): RunState => ({
    status,
    turn,
    pendingAction: pending,
    ...transcript.view(),
    ...(transcript.stored ? { messagesStored: transcript.storedLength } : {}),
    decisions: audit.entries,
    ...(errorMessage !== undefined ? { error: errorMessage } : {}),
    ...(audit.dropped > 0 ? { decisionsDropped: audit.dropped } : {}),
    ...(modelRetry !== undefined ? { modelRetry } : {}),
    ...agentFields(),
  }));
  wf.setHandler(
    resolveActionUpdate,
    (resolution) => {
      updatesThisRun += 1;
      const updateId = wf.currentUpdateInfo()?.id;
      const earlier = updateId === undefined ? undefined : acceptedUpdates.get(updateId);
      if (earlier) return earlier;
      const outcome = tryResolve(resolution, 'update');
      if (!('status' in outcome)) throw refusalFailure(outcome);
      if (updateId !== undefined) acceptedUpdates.set(updateId, outcome);
      return outcome;
    },
    {
      // Malformed payloads, and large ones the run would refuse, are refused here and never enter history;
      // everything else is judged (and recorded in the audit log) by the handler.
      validator: (resolution) => {
        const refusal = checkResolutionShape(resolution) ?? largeResolutionRefusal(resolution);
        if (refusal) throw refusalFailure(refusal);
      },
    },
  );
  wf.setHandler(resolveActionSignal, (resolution) => {
    tryResolve(resolution, 'signal');
  });
  // MCP elicitation: the activity of the MCP call in flight asks (signal), the run pauses, the activity polls
  // the answer (query). Tool calls run one at a time, so at most one call can be asking.
  let runningMcpCall: { id: string; server: string } | null = null;
  const elicitationQueue: ElicitationRequest[] = [];
  /** Requests of the call in flight: null while unanswered. */
  const elicitations = new Map<string, ElicitationAnswer | null>();
  wf.setHandler(requestElicitationSignal, (raw) => {
    const parsed = parseElicitationRequest(raw);
    if (!parsed.success) {
      wf.log.warn('ignored an unreadable requestElicitation signal', { problem: parsed.problem });
      return;
    }
    const request = parsed.data;
    if (elicitations.has(request.elicitationId)) return; // the same signal again
    const call = runningMcpCall;
    const expected = call !== null && call.id === request.tool_call_id && call.server === request.server;
    if (!expected || elicitations.size >= MAX_ELICITATIONS_PER_CALL) {
      if (elicitations.size < MAX_ELICITATIONS_PER_CALL) elicitations.set(request.elicitationId, { action: 'cancel' });
      return;
    }
    elicitations.set(request.elicitationId, null);
    elicitationQueue.push(request);
  });
  wf.setHandler(getElicitationResponseQuery, (elicitationId) => {
    if (!elicitations.has(elicitationId)) return { status: 'unknown' };
    const answer = elicitations.get(elicitationId);
    return answer ? { status: 'answered', answer } : { status: 'waiting' };
  });
  // Waiters answer "ask again" when the run continues as new, instead of holding it back.
  let continuing = false;
  let waiters = 0;
  wf.setHandler(
    awaitPendingActionUpdate,
    async (request): Promise<AwaitPendingActionResult> => {
      updatesThisRun += 1;
      waiters += 1;
      try {
        return await waitForPause(request);
      } finally {
        waiters -= 1;
      }
    },
    {
      validator: (request) => {
        const parsed = parseAwaitPendingActionRequest(request ?? {});
        if (!parsed.success) {
          throw wf.ApplicationFailure.create({
            type: INVALID_INPUT_ERROR_TYPE,
            message: `Invalid awaitPendingAction request: ${parsed.problem}`,
            nonRetryable: true,
          });
        }
      },
    },
  );
  /** The run's next pause (other than `afterActionId`), its end, or "not yet" after the timeout. */
  async function waitForPause(request: AwaitPendingActionRequest | undefined): Promise<AwaitPendingActionResult> {
    const skip = request?.afterActionId;
    const paused = () => pending !== null && pending.actionId !== skip;
    const answered = () => paused() || FINAL_RUN_STATUSES.has(status) || continuing;
    // Bounded, so a caller that gave up does not leave the update in flight (the server caps those);
    // not cancellable, so a cancelled run still answers its waiters with "aborted".
    if (!answered()) {
      if (waiters > MAX_CONCURRENT_WAITERS) return { status, pendingAction: null, busy: true };
      await conditionWithin(answered, request?.timeoutMs ?? DEFAULT_AWAIT_PENDING_MS, {
        summary: 'awaitPendingAction',
        shielded: true,
      });
    }
    return paused() ? { status: 'requires_action', pendingAction: pending } : { status, pendingAction: null };
  }
  /**
   * Lets pending `awaitPendingAction` calls answer with the final status before the run closes. Usually none is
   * left: then no scope, no condition and not even a promise (the SDK formats a stack trace for each one).
   */
  function settleWaiters(): Promise<void> | undefined {
    if (wf.allHandlersFinished()) return undefined;
    return wf.CancellationScope.nonCancellable(() => wf.condition(wf.allHandlersFinished));
  }

  /**
   * Upserts the search attributes whose value differs from the run's (none at all when nothing differs).
   * Runs recorded before RUN_FEATURES_PATCH write every pair, as they did.
   */
  function upsertSearchAttributes(pairs: SearchAttributeUpdatePair[]): void {
    const changed = current
      ? pairs.filter((pair) => !sameSearchAttributeValue(searchAttributeValues.get(pair.key.name), pair.value))
      : pairs;
    if (changed.length === 0) return;
    wf.upsertSearchAttributes(changed);
    for (const { key, value } of changed) {
      searchAttributeValues.set(key.name, Array.isArray(value) ? [...value] : value);
    }
  }
  function setSearchStatus(next: RunStatus, waiting?: { tools: string[]; expiresAt: Date }): void {
    status = next;
    upsertSearchAttributes([
      { key: HitlStatus, value: next },
      { key: HitlPendingTools, value: waiting ? waiting.tools : [] },
      { key: HitlExpiresAt, value: waiting ? waiting.expiresAt : null },
    ]);
  }

  const continuedProblem = parsedContinued?.success === false ? parsedContinued.problem : undefined;
  if (!parsedInput.success || continuedProblem !== undefined) {
    errorMessage = parsedInput.success
      ? `Invalid continued state: ${continuedProblem}`
      : `Invalid RunInput: ${parsedInput.problem}`;
    setSearchStatus('failed');
    await settleWaiters();
    throw wf.ApplicationFailure.create({ type: INVALID_INPUT_ERROR_TYPE, message: errorMessage, nonRetryable: true });
  }
  const input: NormalizedRunInput = parsedInput.data;
  /** The run's configuration, once resolved (inline runs: from the start). */
  const run = (): RunConfig => config!;
  upsertSearchAttributes([
    { key: HitlUserId, value: input.userId },
    { key: HitlConversationId, value: input.conversationId },
  ]);
  setSearchStatus('running');

  async function finish(
    finalStatus: RunResult['status'],
    finishReason: RunResult['finishReason'],
    extra: { reason?: string; finalMessage?: string; finalMessageChars?: number } = {},
  ): Promise<RunResult> {
    // The last tool messages go to the store before the run says it is done.
    const flushing = flushTranscript();
    if (flushing) await flushing;
    pending = null;
    setSearchStatus(finalStatus);
    setDetails(`**${finalStatus}** (${finishReason})${extra.reason ? `: ${extra.reason}` : ''}`);
    return { status: finalStatus, finishReason, ...extra, turn, ...transcript.view() };
  }

  /** Appends what the store does not have yet (a stored run's last tool messages); undefined when nothing is left. */
  function flushTranscript(): Promise<void> | undefined {
    if (!transcript.stored || transcript.unappended === 0) return undefined;
    return appendTranscript
      .executeWithOptions({ summary: 'append to the transcript', ...TOOL_CALL_OPTIONS }, [
        { transcript: transcript.cursor(transcriptKey, runId) },
      ])
      .then(({ length, transcriptKey: forked }) => {
        movedTranscript(forked);
        transcript.appended(length);
      });
  }

  /**
   * After an activity forked the transcript (the store held another branch of this run past its cursor: a
   * reset): the run goes on there, and publishes the key for readers (the memo; the client reads it).
   */
  function movedTranscript(forked: string | undefined): void {
    if (forked === undefined || forked === transcriptKey) return;
    transcriptKey = forked;
    wf.upsertMemo({ [TRANSCRIPT_KEY_MEMO_KEY]: forked });
  }

  /** Set when the final model call closed the content itself (`closeIfFinal`). */
  let transcriptClosed = false;
  /** Marks the run's content closed (retention deletes it later); never fails the run. Undefined: nothing to close. */
  function closeStoredTranscript(flush: boolean): Promise<void> | undefined {
    if (!transcript.stored || transcriptClosed) return undefined;
    return wf.CancellationScope.nonCancellable(async () => {
      try {
        const flushing = flush ? flushTranscript() : undefined;
        if (flushing) await flushing;
        // A forked run also closes the branch it left, so retention deletes that one too.
        const keys = [transcriptKey, runId, ...(transcriptKey !== chainTranscriptKey ? [chainTranscriptKey] : [])];
        const request = { keys };
        if (noLocalActivities) {
          await closeTranscript.executeWithOptions({ summary: 'close the transcript', ...CLOSE_TRANSCRIPT_OPTIONS }, [
            request,
          ]);
        } else await closeTranscriptLocally(request);
      } catch (err) {
        wf.log.warn('could not close the transcript in the content store', { error: describeFailure(err) });
      }
    });
  }

  /** Runs one call: with the arguments it was approved with (by reference when large), or edited ones. */
  async function runTool(call: StoredToolCall, args: JsonObject | 'asCalled', callIndex: number): Promise<ToolOutcome> {
    setDetails(`Running tool \`${call.name}\` (\`${call.id}\`)`);
    // Stable across retries, replays and continue-as-new: the tool must not repeat its side effect.
    const idempotencyKey = `${runId}/${info.firstExecutionRunId}/${callIndex}/${call.id}`;
    // An MCP call may pause the run for an elicitation while it runs: its attempt may last as long.
    const mcp = mcpSpec(call.name)?.mcp;
    const execution = executeTool.executeWithOptions(
      {
        summary: `tool ${call.name} (${call.id})`,
        ...TOOL_CALL_OPTIONS,
        ...(mcp !== undefined ? { startToCloseTimeout: mcpCallTimeoutMs() } : {}),
      },
      [
        {
          runId,
          userId: input.userId,
          conversationId: input.conversationId,
          toolCallId: call.id,
          name: call.name,
          arguments: args === 'asCalled' ? call.arguments : args,
          ...(args === 'asCalled' && call.argumentsRef !== undefined ? { argumentsRef: call.argumentsRef } : {}),
          idempotencyKey,
          ...(transcript.stored ? { transcriptKey } : {}),
          ...(mcp !== undefined ? { elicitation: true } : {}),
        },
      ],
    );
    const result = mcp !== undefined ? await answeringElicitations(call, mcp.server, execution) : await execution;
    if (!transcript.stored) return toolMessage(call, result.status, result.content);
    const stored = result as StoredToolResult;
    return {
      role: 'tool',
      tool_call_id: call.id,
      name: call.name,
      status: stored.status,
      content: stored.content,
      ...(stored.messageRef !== undefined ? { messageRef: stored.messageRef } : {}),
      ...(stored.contentChars !== undefined ? { contentChars: stored.contentChars } : {}),
    };
  }

  /** An MCP call's start-to-close timeout: its own time plus the pauses for elicitations it may ask. */
  function mcpCallTimeoutMs(): number {
    return Math.max(TOOL_CALL_TIMEOUT_MS, 2 * run().approvalTtlMs + TOOL_CALL_TIMEOUT_MS);
  }

  /**
   * Waits for an MCP call, pausing the run for each elicitation its server sends meanwhile (one at a time,
   * in order). Each answer (or `cancel` on expiry) is left for the call's activity to read.
   */
  async function answeringElicitations<T>(call: StoredToolCall, server: string, execution: Promise<T>): Promise<T> {
    runningMcpCall = { id: call.id, server };
    let settled = false;
    execution.then(
      () => (settled = true),
      () => (settled = true),
    );
    try {
      for (;;) {
        await wf.condition(() => settled || elicitationQueue.length > 0);
        if (settled) return await execution;
        const request = elicitationQueue.shift()!;
        // The call ended, or asked again (a retried attempt): this request no longer has anyone to answer.
        const answer = await askForElicitation(call, request, () => settled || elicitationQueue.length > 0);
        elicitations.set(request.elicitationId, answer);
      }
    } finally {
      runningMcpCall = null;
      elicitationQueue.length = 0;
      elicitations.clear();
    }
  }

  /** Pauses with an `mcp_elicitation` action; the approver's answer, or `cancel` when none came. */
  async function askForElicitation(
    call: StoredToolCall,
    request: ElicitationRequest,
    withdrawn: () => boolean,
  ): Promise<ElicitationAnswer> {
    const payload: McpElicitationPayload = {
      type: 'mcp_elicitation',
      tool_call_id: call.id,
      name: call.name,
      server: request.server,
      message: request.message,
      requestedSchema: request.requestedSchema,
      ...(request.mode === 'url'
        ? { mode: 'url' as const, ...(request.url !== undefined ? { url: request.url } : {}) }
        : {}),
    };
    const resolution = await waitForResolution(payload, [call.name], undefined, { withdrawn });
    return resolution?.elicitation ?? { action: 'cancel' };
  }

  /**
   * Which grants apply to this run: the user's, for this conversation or always, made by one of the run's
   * approvers (by identity). A grant the user gave themselves in a run of another agent, where they were their
   * own approver, must not skip the approvers this run names.
   */
  function grantsRequest(): LoadGrantsRequest {
    return { userId: input.userId, conversationId: input.conversationId, grantors: run().approvers.users };
  }

  /**
   * The exact tool names the user granted for this conversation (or always), read by an activity (when the model
   * turn did not bring them); none if they cannot be read.
   */
  async function readGrants(): Promise<ReadonlySet<string>> {
    try {
      const request = grantsRequest();
      return new Set(
        noLocalActivities
          ? await loadGrants.executeWithOptions({ summary: 'read grants', ...GRANTS_ACTIVITY_OPTIONS }, [request])
          : await loadGrantsLocally(request),
      );
    } catch (err) {
      if (wf.isCancellation(err)) throw err;
      // Fail closed: without grants the calls ask, which is safe.
      wf.log.warn('could not read remembered grants; asking instead', { error: String(err) });
      return new Set();
    }
  }

  /** Writes a remembered approval after the approved call succeeded; a refusal is recorded, not fatal. */
  async function rememberGrant(
    tool: string,
    scope: GrantScope,
    grantedBy: string,
    actionId: string,
    approvedAt: string,
  ): Promise<void> {
    const grant = { tool, scope };
    try {
      await recordGrant({
        userId: input.userId,
        tool,
        scope,
        ...(scope === 'session' ? { conversationId: input.conversationId } : {}),
        grantedBy,
        runId,
        approvedAt,
      });
      record({ at: new Date().toISOString(), via: 'grant', actionId, approver: grantedBy, outcome: 'granted', grant });
    } catch (err) {
      if (wf.isCancellation(err)) throw err;
      const cause = err instanceof wf.ActivityFailure && err.cause ? err.cause : err;
      const message = cause instanceof Error ? cause.message : String(cause);
      record({
        at: new Date().toISOString(),
        via: 'grant',
        actionId,
        approver: grantedBy,
        outcome: 'refused',
        grant,
        message,
      });
    }
  }

  /** The state a continued run starts from (everything but the turn in progress). */
  function continuedState(turnInProgress?: TurnInProgress): ContinuedState {
    // Only the most recent ids and answers: a retried update or a stale resolution concerns recent actions,
    // and older ones are refused as unknown instead, so the carried state stays bounded.
    return {
      turn,
      ...transcript.continued(transcriptKey !== chainTranscriptKey ? transcriptKey : undefined),
      decisions: audit.entries,
      resolvedActionIds: [...resolvedActionIds].slice(-MAX_CARRIED_IDS),
      expiredActionIds: [...expiredActionIds].slice(-MAX_CARRIED_IDS),
      acceptedUpdates: Object.fromEntries([...acceptedUpdates].slice(-MAX_CARRIED_IDS)),
      ...(inline ? {} : { config: run() }),
      ...(audit.dropped > 0 ? { decisionsDropped: audit.dropped } : {}),
      ...(turnInProgress ? { turnInProgress } : {}),
    };
  }

  /**
   * Continues as new once every handler has finished: waiters answer "ask again" (their next update
   * reaches the new run), so no accepted update is cut off. Returns only if a resolution was accepted
   * while the handlers drained (the caller goes on with it); otherwise it does not return.
   */
  async function continueAsNewNow(turnInProgress?: TurnInProgress): Promise<void> {
    continuing = true;
    await wf.condition(wf.allHandlersFinished);
    if (accepted !== null) {
      continuing = false;
      return;
    }
    const state = continuedState(turnInProgress);
    // A reset run (or one continued from it) still on the chain's key: the key holds the branch the reset left
    // past this run's entries, and the next run's description will not say it was reset. The memo does.
    const marked = resetNotForked();
    const { [RESET_NOT_FORKED_MEMO_KEY]: _mark, ...carriedMemo } = wf.workflowInfo().memo ?? {};
    const memo = marked ? { ...carriedMemo, [RESET_NOT_FORKED_MEMO_KEY]: true } : carriedMemo;
    if (inline && transcriptKey === chainTranscriptKey && !marked) {
      await wf.continueAsNew<typeof generationRun>(input, state);
    }
    // An agent run keeps its memo (who may read and resolve it) in the next run of the chain, and so does a
    // run whose transcript forked (the key readers find it under).
    else await wf.makeContinueAsNewFunc<typeof generationRun>({ memo })(input, state);
  }

  /**
   * This run was reset (its start event names another run) or continues one that was, and its transcript is
   * still the chain's key: past its own entries the key may hold the branch the reset left. Decides only the
   * memo of the continue-as-new, which a replay does not check: an offline replayer (`Worker.runReplayHistory`),
   * which knows no run id but the start event's, takes a reset run for one that was not, and still replays it.
   */
  function resetNotForked(): boolean {
    if (!transcript.stored || transcriptKey !== chainTranscriptKey) return false;
    return info.originalExecutionRunId !== info.runId || info.memo?.[RESET_NOT_FORKED_MEMO_KEY] === true;
  }

  /**
   * Time to hand over to a fresh run while paused: Temporal suggests it (history size, or 90 % of the
   * updates a run may take), or this run has handled UPDATES_BEFORE_CONTINUE_AS_NEW updates itself.
   */
  function shouldContinueWhilePaused(): boolean {
    return wf.workflowInfo().continueAsNewSuggested || updatesThisRun >= UPDATES_BEFORE_CONTINUE_AS_NEW;
  }

  /** The turn being decided, kept current so a continue-as-new while paused can carry it. */
  let currentTurn: TurnState | null = null;

  /**
   * Publishes one pending action (or, in a continued run, the one the previous run was waiting for) and
   * waits for its resolution; null when it expired first. While it waits, the run continues as new
   * whenever the update count or the history nears Temporal's limits, keeping the action and its expiry.
   */
  async function waitForResolution(
    payload: HumanInterruptPayload,
    tools: string[],
    resumed?: PendingAction,
    options: { withdrawn?: () => boolean } = {},
  ): Promise<AcceptedResolution | null> {
    const withdrawn = options.withdrawn ?? (() => false);
    // A pause inside a running activity (an elicitation) cannot hand over to a new run.
    const mayContinue = continueWhilePaused && options.withdrawn === undefined;
    const createdAt = resumed ? new Date(resumed.createdAt) : new Date();
    const expiresAt = resumed ? new Date(resumed.expiresAt) : new Date(createdAt.getTime() + run().approvalTtlMs);
    const actionId = resumed?.actionId ?? wf.uuid4();
    // A resumed action is already pending (and may even have been resolved in this run's first moment).
    if (!resumed) {
      pending = {
        actionId,
        runId,
        userId: input.userId,
        conversationId: input.conversationId,
        createdAt: createdAt.toISOString(),
        expiresAt: expiresAt.toISOString(),
        payload,
      };
      accepted = null;
    }
    const action = resumed ?? pending!;
    setSearchStatus('requires_action', { tools, expiresAt });
    setDetails(describePendingAction(action));

    const stopWaiting = () => accepted !== null || withdrawn() || (mayContinue && shouldContinueWhilePaused());
    while (accepted === null) {
      const remaining = expiresAt.getTime() - Date.now();
      if (remaining <= 0) break;
      const woken = await conditionWithin(stopWaiting, remaining, { summary: `approval expiry for ${actionId}` });
      if (!woken || accepted !== null || withdrawn()) break;
      // Nothing decided yet, but the run is near its limits: the next run waits for the same action.
      await continueAsNewNow(currentTurn ? { ...currentTurn, pending: action } : undefined);
    }
    // A resolution handled in the same activation as the timer wins: it was accepted first.
    const resolution = accepted;
    if (resolution === null) {
      expiredActionIds.add(actionId);
      pending = null;
      record({
        at: new Date().toISOString(),
        via: 'expiry',
        actionId,
        approver: null,
        outcome: 'expired',
        ...(withdrawn() ? { message: ELICITATION_WITHDRAWN } : {}),
      });
    }
    accepted = null;
    setSearchStatus('running');
    return resolution;
  }

  /** The calls of the approval pause, with their policy reasons. */
  function askedCalls(turnState: TurnState): { call: StoredToolCall; reason: string | undefined }[] {
    return turnState.asked.map(({ id, reason }) => ({
      call: turnState.calls.find((call) => call.id === id)!,
      reason,
    }));
  }

  /** The pinned spec of an MCP tool of this run (MCP runs only). */
  function mcpSpec(name: string): ToolSpec | undefined {
    if (!mcpTools) return undefined;
    const spec = run().toolSpecs?.find((candidate) => candidate.name === name);
    return spec?.mcp !== undefined ? spec : undefined;
  }

  /** An action request's `description` (the policy reason), and for an MCP tool its server and annotations. */
  function actionRequestDescription(
    name: string,
    reason: string | undefined,
  ): Pick<ActionRequest, 'description' | 'mcp'> {
    const spec = mcpSpec(name);
    if (spec === undefined || spec.mcp === undefined) return reason !== undefined ? { description: reason } : {};
    const about = `MCP server "${spec.mcp.server}", tool "${spec.mcp.tool}": ${truncate(spec.description, MAX_MCP_DESCRIPTION_CHARS)}`;
    return {
      description: reason !== undefined ? `${reason}\n\n${about}` : about,
      mcp: { ...spec.mcp, ...(spec.annotations !== undefined ? { annotations: spec.annotations } : {}) },
    };
  }

  /** The MCP calls among `calls` whose arguments must be checked: calls the policy denies are blocked anyway. */
  function mcpArgumentChecks(calls: StoredToolCall[]): CheckToolArgumentsRequest['calls'] {
    const { tools, policy, tighten } = run();
    return calls.flatMap((call) => {
      const spec = tools.includes(call.name) ? mcpSpec(call.name) : undefined;
      if (spec === undefined) return [];
      if (evaluateRunPolicy(call.name, policy, { grants: new Set(), tighten }).decision === 'deny') return [];
      return [
        {
          toolCallId: call.id,
          name: call.name,
          inputSchema: spec.inputSchema,
          arguments: call.arguments,
          ...(call.argumentsRef !== undefined ? { argumentsRef: call.argumentsRef } : {}),
        },
      ];
    });
  }

  /** The checked MCP calls whose arguments do not fit the tool's input schema (an activity, before any pause), by call id. */
  async function invalidMcpCalls(checks: CheckToolArgumentsRequest['calls']): Promise<Record<string, string>> {
    const { invalid } = await checkToolArguments.executeWithOptions(
      {
        summary: `check arguments of ${checks.length} MCP call(s)`,
        ...CHECK_ARGUMENTS_OPTIONS,
      },
      [{ calls: checks, ...(transcript.stored ? { transcriptKey } : {}) }],
    );
    return invalid;
  }

  /** Pauses once for every asked call of the turn; applies the decisions. */
  async function approveAndRun(turnState: TurnState, resumed?: PendingAction): Promise<'expired' | undefined> {
    const asked = askedCalls(turnState);
    const resolution = await waitForResolution(
      {
        type: 'tool_approval',
        action_requests: asked.map(({ call, reason }) => ({
          tool_call_id: call.id,
          name: call.name,
          arguments: call.arguments,
          ...(call.argumentsRef !== undefined ? { arguments_ref: call.argumentsRef } : {}),
          ...(call.argumentsChars !== undefined ? { arguments_chars: call.argumentsChars } : {}),
          ...actionRequestDescription(call.name, reason),
        })),
        review_configs: asked.map(({ call }) => ({
          tool_call_id: call.id,
          action_name: call.name,
          allowed_decisions: [...ALL_DECISIONS],
        })),
      },
      [...new Set(asked.map((a) => a.call.name))],
      resumed,
    );
    if (resolution === null && run().onExpiry === 'abort') return 'expired';
    const outcomes = turnState.outcomes;
    const callIndex = turnState.callIndex;
    for (const { call, reason } of asked) {
      const decision = resolution?.decisions.get(call.id);
      if (!decision) {
        outcomes[call.id] = blockedMessage(call, EXPIRED_REASON);
        continue;
      }
      switch (decision.decision) {
        case 'approve': {
          const outcome = await runTool(call, 'asCalled', callIndex);
          outcomes[call.id] = outcome;
          if (decision.scope !== 'once' && outcome.status === 'success') {
            await rememberGrant(
              call.name,
              decision.scope,
              resolution!.resolution.approver,
              resolution!.resolution.actionId,
              resolution!.acceptedAt,
            );
          }
          break;
        }
        case 'edit':
          outcomes[call.id] = await runTool(call, decision.editedArguments, callIndex);
          break;
        case 'reject':
          outcomes[call.id] = blockedMessage(call, decision.reason?.trim() || reason || REJECTED_REASON);
          break;
        case 'respond':
          outcomes[call.id] = toolMessage(call, 'success', decision.responseText);
          break;
      }
    }
    return undefined;
  }

  /** Pauses with an ask_user_question action; the answers become the tool result. */
  async function askUser(
    call: StoredToolCall,
    args: AskUserQuestionArgs,
    resumed?: PendingAction,
  ): Promise<ToolOutcome | 'expired'> {
    const payload: HumanInterruptPayload =
      'questions' in args
        ? { type: 'ask_user_question', tool_call_id: call.id, question: args.questions[0]!, questions: args.questions }
        : { type: 'ask_user_question', tool_call_id: call.id, question: args };
    const resolution = await waitForResolution(payload, [ASK_USER_QUESTION], resumed);
    if (!resolution?.answer) return run().onExpiry === 'abort' ? 'expired' : blockedMessage(call, EXPIRED_REASON);
    return toolMessage(call, 'success', JSON.stringify(resolution.answer));
  }

  /**
   * One model turn's tool calls, in this order: denied calls are blocked, allowed calls run (once),
   * then one pause for every call that needs approval, then one pause per ask_user_question call.
   * Tool messages go back in the model's call order.
   */
  async function handleToolCalls(
    calls: StoredToolCall[],
    callIndex: number,
    grantsWithTurn: string[] | undefined,
  ): Promise<ToolOutcome[] | 'expired'> {
    const turnState: TurnState = { callIndex, calls, outcomes: {}, asked: [], questions: [], stage: 'approval' };
    const outcomes = turnState.outcomes;
    const allowed: StoredToolCall[] = [];
    const { tools, policy, tighten } = run();
    const offered = calls.filter((call) => tools.includes(call.name));
    // Awaited only when an activity must be asked (a promise costs a formatted stack trace in the SDK).
    const grants = !offered.some((call) => GRANTABLE_RULES.has(evaluateToolPolicy(call.name, policy).rule))
      ? new Set<string>()
      : grantsWithTurn !== undefined
        ? new Set(grantsWithTurn)
        : await readGrants();
    // MCP calls with arguments their schema refuses get an error message, and no approver is asked.
    const checks = mcpArgumentChecks(offered);
    const invalid = checks.length > 0 ? await invalidMcpCalls(checks) : {};
    for (const call of calls) {
      if (!tools.includes(call.name)) {
        outcomes[call.id] = toolMessage(call, 'error', `Tool "${call.name}" is not available in this run`);
        continue;
      }
      const verdict = evaluateRunPolicy(call.name, policy, { grants, tighten });
      if (verdict.decision === 'deny') {
        outcomes[call.id] = blockedMessage(call, verdict.reason ?? defaultBlockReason(call.name, verdict));
      } else if (invalid[call.id] !== undefined) {
        outcomes[call.id] = toolMessage(call, 'error', invalid[call.id]!);
      } else if (call.name === ASK_USER_QUESTION) {
        // Asking the user is itself the human step: allowed or asked, the call pauses for answers.
        const args = parseAskUserQuestionArgs(call.arguments);
        if (args.success) turnState.questions.push(call.id);
        else outcomes[call.id] = toolMessage(call, 'error', `Invalid arguments for "${call.name}": ${args.problem}`);
      } else if (verdict.decision === 'allow') {
        allowed.push(call);
      } else {
        turnState.asked.push({ id: call.id, ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}) });
      }
    }
    // Allowed calls run now, once: they are never re-run after a pause.
    for (const call of allowed) outcomes[call.id] = await runTool(call, 'asCalled', callIndex);
    return finishTurn(turnState);
  }

  /**
   * The pauses of a turn, from its current stage on: the approval, then each question. A continued run
   * enters here with the turn and the action its predecessor was waiting for.
   */
  async function finishTurn(turnState: TurnState, resumed?: PendingAction): Promise<ToolOutcome[] | 'expired'> {
    currentTurn = turnState;
    try {
      if (turnState.stage === 'approval') {
        if (turnState.asked.length > 0 && (await approveAndRun(turnState, resumed)) === 'expired') return 'expired';
        resumed = undefined;
        turnState.stage = 0;
      }
      for (let index = turnState.stage; index < turnState.questions.length; index += 1) {
        turnState.stage = index;
        const call = turnState.calls.find((c) => c.id === turnState.questions[index])!;
        // Checked when the turn was planned; a failure here is a bug (it fails the workflow task, as zod's
        // `parse` did before).
        const args = parseAskUserQuestionArgs(call.arguments);
        if (!args.success) throw new TypeError(`Invalid arguments for "${call.name}": ${args.problem}`);
        const outcome = await askUser(call, args.data, resumed);
        resumed = undefined;
        if (outcome === 'expired') return 'expired';
        turnState.outcomes[call.id] = outcome;
      }
      return turnState.calls.map((call) => turnState.outcomes[call.id]!);
    } finally {
      currentTurn = null;
    }
  }

  /**
   * One model call, retried by the run while the failure is retryable and the retry window lasts: waits
   * `nextRetryDelay` when the provider gave one (Retry-After), else backs off 1 s, 2 s … 60 s; the details
   * and `getRunState().modelRetry` say what it waits for.
   */
  async function callModelRetrying(request: CallModelRequest): Promise<CallModelResult> {
    const summary = `model call ${request.callIndex + 1}`;
    if (!modelRetriesInRun) {
      return callModel.executeWithOptions({ summary, ...MODEL_CALL_OPTIONS }, [request]);
    }
    const firstAttemptAt = Date.now();
    for (let attempt = 1; ; attempt += 1) {
      try {
        const turnResult = await callModel.executeWithOptions({ summary, ...MODEL_ATTEMPT_OPTIONS }, [request]);
        modelRetry = undefined;
        return turnResult;
      } catch (err) {
        const delay = retryDelay(err, attempt);
        if (delay === undefined || Date.now() + delay - firstAttemptAt > MODEL_RETRY_WINDOW_MS) throw err;
        const lastError = describeFailure(err);
        modelRetry = { attempt: attempt + 1, lastError, nextAttemptAt: new Date(Date.now() + delay).toISOString() };
        setDetails(
          `Model unavailable, retrying (attempt ${attempt + 1}) in ${Math.ceil(delay / 1000)} s — ${lastError}`,
        );
        await wf.sleep(delay);
        setDetails(`Waiting for the model (call ${request.callIndex + 1}, attempt ${attempt + 1})`);
      }
    }
  }

  async function runTurns(): Promise<RunResult> {
    // A run that continued as new while paused first finishes the turn it was in.
    const resuming = carried?.turnInProgress;
    if (resuming) {
      const { pending: resumedAction, ...turnState } = resuming; // parsed afresh: ours to change
      const outcomes = await finishTurn(turnState, resumedAction);
      if (outcomes === 'expired') return finish('aborted', 'expired', { reason: EXPIRED_REASON });
      for (const outcome of outcomes) transcript.addToolOutcome(outcome);
    }
    for (;;) {
      if (turn >= run().maxTurns) return finish('completed', 'max_turns');
      if (wf.workflowInfo().continueAsNewSuggested) await continueAsNewNow();

      setDetails(`Waiting for the model (call ${turn + 1} of at most ${run().maxTurns})`);
      const callIndex = turn;
      const modelTurn = await callModelRetrying({
        runId,
        callIndex,
        model: modelForCall(callIndex),
        ...(transcript.stored
          ? { transcript: transcript.cursor(transcriptKey, runId) }
          : { messages: transcript.messages }),
        tools: run().tools,
        ...(run().toolSpecs !== undefined ? { toolSpecs: run().toolSpecs } : {}),
        ...(modelCallDoesMore && grantsMayApply() ? { grantsFor: grantsRequest() } : {}),
        ...(modelCallDoesMore && transcript.stored ? { closeIfFinal: true } : {}),
      });
      turn += 1;
      const calls: StoredToolCall[] = modelTurn.tool_calls ?? [];
      if ('transcriptKey' in modelTurn) movedTranscript(modelTurn.transcriptKey);
      transcript.addModelTurn(modelTurn);
      // The final answer closed the run's own keys; a forked run still closes the branch it left at the end.
      if (modelTurn.closed === true && transcriptKey === chainTranscriptKey) transcriptClosed = true;
      if (calls.length === 0) {
        const chars = 'contentChars' in modelTurn ? modelTurn.contentChars : undefined;
        return finish('completed', 'final_answer', {
          ...(modelTurn.content !== undefined ? { finalMessage: modelTurn.content } : {}),
          ...(chars !== undefined ? { finalMessageChars: chars } : {}),
        });
      }
      const outcomes = await handleToolCalls(calls, callIndex, modelTurn.grants);
      if (outcomes === 'expired') return finish('aborted', 'expired', { reason: EXPIRED_REASON });
      for (const outcome of outcomes) transcript.addToolOutcome(outcome);
    }
  }

  /** Whether a grant can change the policy's decision for any tool of the run (else none is read). */
  function grantsMayApply(): boolean {
    const { tools, policy } = run();
    return tools.some((name) => GRANTABLE_RULES.has(evaluateToolPolicy(name, policy).rule));
  }

  /**
   * The model as one call needs it. A stored run sends the scripted provider only the turn the call plays,
   * so what each call records in history does not grow with the script.
   */
  function modelForCall(callIndex: number): ModelConfig {
    const model = run().model;
    if (!transcript.stored || model.provider !== 'scripted') return model;
    return { provider: 'scripted', script: model.script.slice(callIndex, callIndex + 1), scriptOffset: callIndex };
  }

  /**
   * An agent run resolves its agent once, at the start, through an activity: the result is pinned in the
   * history (a replay or a configuration edit never changes it) and published in the memo for the API.
   */
  async function resolveAgent(agentInput: NormalizedAgentRunInput): Promise<void> {
    setDetails(`Resolving agent \`${agentInput.agentId}\``);
    const resolved = await resolveAgentConfig.executeWithOptions(
      { summary: `agent ${agentInput.agentId}`, ...RESOLVE_AGENT_OPTIONS },
      [
        {
          agentId: agentInput.agentId,
          userId: agentInput.userId,
          conversationId: agentInput.conversationId,
          ...(agentInput.tighten !== undefined ? { tighten: agentInput.tighten } : {}),
        },
      ],
    );
    const parsed = parseRunConfig(resolved);
    if (!parsed.success) {
      throw wf.ApplicationFailure.create({
        type: INVALID_INPUT_ERROR_TYPE,
        message: `Invalid agent configuration from the worker: ${parsed.problem}`,
        nonRetryable: true,
      });
    }
    config = parsed.data;
    const memo: RunAccessMemo = {
      agentId: agentInput.agentId,
      configVersion: config.configVersion ?? '',
      approvers: config.approvers,
    };
    wf.upsertMemo({ [RUN_ACCESS_MEMO_KEY]: memo });
    if (config.instructions) transcript.addInstructions(config.instructions);
  }

  let result: RunResult;
  try {
    if (config === undefined) await resolveAgent(input as NormalizedAgentRunInput);
    result = await runTurns();
  } catch (caught) {
    if (caught instanceof wf.ContinueAsNew) throw caught;
    const err = invalidInputCause(caught) ?? caught;
    // Handlers mutate `pending` and `accepted`; the casts stop TypeScript narrowing them to null here.
    const interrupted = pending;
    pending = null;
    if (wf.isCancellation(err)) {
      if (interrupted) expiredActionIds.add(interrupted.actionId);
      record({
        at: new Date().toISOString(),
        via: 'cancel',
        actionId: interrupted?.actionId ?? null,
        approver: null,
        outcome: 'cancelled',
      });
      await closeStoredTranscript(true);
      setSearchStatus('aborted');
      setDetails('**aborted** (cancelled)');
      await settleWaiters();
      throw err;
    }
    // The cause a person can act on ("ModelNotConfigured: …"), not "Activity task failed".
    errorMessage = describeFailure(err);
    await closeStoredTranscript(true);
    setSearchStatus('failed');
    setDetails(`**failed**: ${errorMessage}`);
    await settleWaiters();
    throw err;
  }
  // Usually both have nothing left to do: then no await, and no promise (see settleWaiters).
  const closing = closeStoredTranscript(false);
  if (closing) await closing;
  const settling = settleWaiters();
  if (settling) await settling;
  return result;
}
