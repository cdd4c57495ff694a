import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Client,
  isGrpcServiceError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
  type QueryDefinition,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { z } from 'zod';
import {
  awaitPendingActionUpdate,
  DEFAULT_AWAIT_PENDING_MS,
  DEFAULT_TASK_QUEUE,
  describeIssues,
  FINAL_RUN_STATUSES,
  MAX_AWAIT_PENDING_MS,
  GENERATION_RUN_WORKFLOW,
  getPendingActionQuery,
  getRunStateQuery,
  HitlConversationId,
  HitlExpiresAt,
  HitlPendingTools,
  HitlStatus,
  HitlUserId,
  resolveActionUpdate,
  resolveActionSignal,
  checkResolutionShape,
  ContentRefStringSchema,
  type BinaryContentType,
  parseRunInput,
  RunStatusSchema,
  type AwaitPendingActionResult,
  type ElicitationAnswer,
  type NormalizedRunInput,
  type Grant,
  type PendingAction,
  type RevokeGrantRequest,
  type RevokeGrantResult,
  type Refusal,
  type Resolution,
  type ResolveResult,
  type RunInput,
  type RunResult,
  type RunState,
  type RunStatus,
  MAX_INLINE_CONVERSATION_CHARS,
  RESET_NOT_FORKED_MEMO_KEY,
  TRANSCRIPT_KEY_MEMO_KEY,
  type MessagesPage,
} from '../contracts';
import type { ContentStore } from '../content-store';
import { MAX_MESSAGES_PAGE, readBinaryContent, readMessagesPage } from '../transcript';
import {
  ContentNotFoundError,
  IdempotencyKeyReusedError,
  InvalidRunInputError,
  PayloadTooLargeError,
  TranscriptUnavailableError,
  isRunNotFound,
  isUnprocessedUpdate,
  refusalFromError,
  RunNotFoundError,
} from './errors';
import { listGrants, revokeGrant } from './grants';

export type ResolveOutcome = { ok: true; result: ResolveResult } | { ok: false; refusal: Refusal };

/**
 * The answer to a pending `mcp_elicitation` action (`HitlClient.elicit`): `accept` with the form's values
 * (`content`, by field name), or `decline` / `cancel` without. A URL-mode elicitation is accepted ("done")
 * without content.
 */
export interface ElicitationResponse {
  actionId: string;
  approver: string;
  action: ElicitationAnswer['action'];
  content?: ElicitationAnswer['content'];
  /** Claims of the approver's verified token, for the run's claim rules (see `Resolution.approverClaims`). */
  approverClaims?: Resolution['approverClaims'];
}

export interface StartRunOptions {
  /** Workflow id of the run; a fresh `run-<uuid>` when left out. Not together with `idempotencyKey`. */
  runId?: string;
  /**
   * Makes the start idempotent (1-200 visible ASCII characters, chosen by the caller per request). The run
   * id is derived from `input.userId` and the key (`idempotentRunId`); Temporal refuses a second execution
   * with that id, running or closed (for as long as the namespace retains the closed one). A retry with the
   * same input answers with the same run (`created: false`); the same key with another input throws
   * `IdempotencyKeyReusedError`. Concurrent retries end with one run.
   */
  idempotencyKey?: string;
}

/** What a start answers: the run, and whether this call started it (false: an idempotent retry). */
export interface StartedRun {
  runId: string;
  created: boolean;
}

/** The syntax of an idempotency key (also the `Idempotency-Key` header of the HTTP API). */
export const IdempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, 'Idempotency-Key must be 1-200 visible ASCII characters');

/**
 * Memo key under which a run started with an idempotency key records the fingerprint of its request
 * (`{ fingerprint }`), written with the start itself: a retry compares it (one describe, no worker). The
 * memo is carried across continue-as-new.
 */
export const START_REQUEST_MEMO_KEY = 'hitlStartRequest';
const StartRequestMemoSchema = z.object({ fingerprint: z.string() });

/**
 * The run id of an idempotent start: `run-` + SHA-256 of the owner and the key (an unambiguous encoding of
 * the pair), so equal keys of two users name two runs and a key can never name another user's run.
 */
export function idempotentRunId(userId: string, idempotencyKey: string): string {
  return `run-${digestOf('temporal-hitl/start-run/v1', userId, idempotencyKey)}`;
}

/** SHA-256 hex of the parts as a JSON array: an unambiguous encoding, whatever characters the parts hold. */
function digestOf(...parts: string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * The update id of a resolution sent with a caller's idempotency key: one per (caller, key) pair, hashed as
 * `idempotentRunId` is, so no two pairs share it (a plain `<caller>:<key>` made ("a", "b:K") and ("a:b", "K")
 * one id, and the second caller got the first one's answer).
 */
export function idempotentResolveId(callerId: string, idempotencyKey: string): string {
  return `resolve-${digestOf('temporal-hitl/resolve/v1', callerId, idempotencyKey)}`;
}

/** JSON with object keys sorted at every level and `undefined` members left out: one text per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    // As JSON.stringify does: an undefined array element is null.
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/** Fingerprint of a run request: SHA-256 of the canonical JSON of the normalized `RunInput`. */
export function runRequestFingerprint(input: NormalizedRunInput): string {
  return `sha256:${createHash('sha256').update(canonicalJson(input)).digest('hex')}`;
}

export interface WaitForPendingActionOptions {
  /** An action the caller already knows (e.g. the one it just resolved): wait for the next one. */
  afterActionId?: string;
  /** How long to wait in all (default 60 s). */
  timeoutMs?: number;
}

/**
 * The answer of a wait: `requires_action` with the action, a final status when the run ended first, or
 * (no action, status not final) the wait timed out.
 */
export type PendingActionWait = AwaitPendingActionResult;

/**
 * A value of a visibility filter. Temporal's list query has no escaping we can rely on, so quotes,
 * backslashes and line breaks are refused rather than passed into the query.
 */
export const FilterValueSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^"'\\\n\r]*$/, 'may not contain quotes, backslashes or line breaks');

/** Filters of `listRuns`; every value is matched exactly. */
export const ListRunsFilterSchema = z.object({
  userId: FilterValueSchema.optional(),
  conversationId: FilterValueSchema.optional(),
  status: RunStatusSchema.optional(),
  tool: FilterValueSchema.optional(),
  limit: z.number().int().positive().max(1000).default(100),
});
export type ListRunsFilter = z.input<typeof ListRunsFilterSchema>;

export interface RunSummary {
  runId: string;
  status: RunStatus | undefined;
  userId: string | undefined;
  conversationId: string | undefined;
  pendingTools: string[];
  expiresAt: Date | undefined;
  startTime: Date;
  closeTime: Date | undefined;
  /** Temporal's own execution status (RUNNING, COMPLETED, CANCELLED, …). */
  executionStatus: string;
}

/** The run's `staticSummary` in the Temporal Web UI: who, which conversation, which agent. */
export function staticSummaryOf(input: Pick<NormalizedRunInput, 'userId' | 'conversationId' | 'agentId'>): string {
  const agent = input.agentId ? ` · agent ${input.agentId}` : '';
  return `generation run · user ${input.userId} · conversation ${input.conversationId}${agent}`;
}

/** A visibility query literal (values were checked by FilterValueSchema). */
function literal(value: string): string {
  return `"${value}"`;
}

/** First query attempt's deadline (then twice, three times as long); see `HitlClient.query`. */
const QUERY_ATTEMPT_TIMEOUT_MS = 5_000;
const QUERY_ATTEMPTS = 3;
const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;

/**
 * A query worth asking again: it ran past its deadline, or the server cancelled it (the error or its cause is
 * a gRPC DEADLINE_EXCEEDED or CANCELLED — a busy server drops a query that meets the run's eviction or a
 * workflow task in flight). Queries change nothing, so asking again is always safe.
 */
export function isRetryableQueryError(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (!isGrpcServiceError(current)) continue;
    const code = Number(current.code);
    if (code === GRPC_DEADLINE_EXCEEDED || code === GRPC_CANCELLED) return true;
  }
  return false;
}

/** Poll interval of `waitForPendingAction` when the run refuses another waiter. */
const POLL_FALLBACK_MS = 250;

/** Resends of an update the server dropped before the run saw it (see isUnprocessedUpdate). */
const UNPROCESSED_RETRIES = 5;

async function retryUnprocessed<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      if (!isUnprocessedUpdate(error) || attempt > UNPROCESSED_RETRIES) throw error;
      await sleep(50 * 2 ** attempt);
    }
  }
}

/** The run paused or ended: nothing more to wait for. */
function isAnswered(answer: PendingActionWait): boolean {
  return answer.pendingAction !== null || FINAL_RUN_STATUSES.has(answer.status);
}

/** How long the next `awaitPendingAction` update may be held, for a wait that ends at `deadline`. */
function waitSlice(deadline: number): number {
  return Math.min(MAX_AWAIT_PENDING_MS, Math.max(1, Math.ceil(deadline - Date.now())));
}

/** Typed access to generation runs for chat backends and approvers. */
/**
 * Largest run input (JSON characters) the client sends: Temporal refuses payloads over 2 MB, and the input
 * is recorded in the run's first history event. A larger conversation is staged in the content store.
 */
export const MAX_RUN_INPUT_CHARS = 1024 * 1024;

/** A binary block of a tool result, read back from the content store (`HitlClient.readContent`). */
export interface BinaryContent {
  type: BinaryContentType;
  /** The MIME type the tool gave (`application/octet-stream` when it gave none that is valid). */
  mimeType: string;
  /** The resource's URI (embedded resources). */
  uri?: string;
  bytes: Buffer;
}

/** `checkReadiness`: how long each dependency may take to answer. */
export const DEFAULT_READINESS_TIMEOUT_MS = 2000;

/** One dependency's answer to a readiness check. */
export type DependencyCheck = { ok: true } | { ok: false; error: string };

/** `checkReadiness`: the Temporal server's answer, and the content store's when the client has one. */
export interface Readiness {
  temporal: DependencyCheck;
  contentStore?: DependencyCheck;
}

export class HitlClient {
  /**
   * `contentStore`: where the workers keep transcripts (the same `HITL_CONTENT_STORE`). With it the client
   * reads whole messages (`readMessages`) and stages conversations too large for a run input.
   */
  constructor(
    readonly client: Client,
    readonly taskQueue: string = DEFAULT_TASK_QUEUE,
    private readonly contentStore?: ContentStore | (() => ContentStore),
  ) {}

  /** The content store, opened on first use; undefined when the client has none. */
  private store(): ContentStore | undefined {
    return typeof this.contentStore === 'function' ? this.contentStore() : this.contentStore;
  }

  /** The run's content-store key (`<runId>/<first run id of its chain>`). */
  private async transcriptKey(runId: string): Promise<string> {
    // Content references are read by key alone: no need to ask a reset run how far its entries go.
    return (await this.transcriptSource(runId, { withStoredLength: false })).key;
  }

  /**
   * Where the run's transcript is read: its key in the content store, and, for a run an operator reset that
   * has not forked its transcript yet, how much of that key is the run's (`storedLength`; past it the key
   * holds the branch the reset left, until the run's next write forks it).
   */
  private async transcriptSource(
    runId: string,
    { withStoredLength = true }: { withStoredLength?: boolean } = {},
  ): Promise<{ key: string; storedLength?: number }> {
    const description = await this.describeRun(runId);
    if (description === undefined) throw new RunNotFoundError(runId);
    // A run reset to an earlier point that forked its transcript publishes the key it went on with.
    const forked = description.memo?.[TRANSCRIPT_KEY_MEMO_KEY];
    if (typeof forked === 'string' && forked !== '') return { key: forked };
    const key = `${runId}/${description.raw.workflowExecutionInfo?.firstRunId || description.runId}`;
    if (!withStoredLength) return { key };
    // Only a reset run asks the run itself (a query: a worker must answer); every other run owns its key whole.
    // A run continued from a reset run that had not forked says so in its memo (continue-as-new does not carry
    // `lastResetTime`).
    const reset =
      description.raw.workflowExtendedInfo?.lastResetTime || description.memo?.[RESET_NOT_FORKED_MEMO_KEY] === true;
    if (!reset) return { key };
    const { messagesStored } = await this.getRunState(runId);
    return messagesStored === undefined ? { key } : { key, storedLength: messagesStored };
  }

  /**
   * The pending action with every argument in full: a call whose arguments were too large to keep in the run
   * (`arguments_ref`) gets them back from the content store, so an approver decides on what will run.
   */
  async pendingActionInFull(runId: string, action: PendingAction): Promise<PendingAction> {
    if (action.payload.type !== 'tool_approval') return action;
    const requests = action.payload.action_requests;
    if (!requests.some((request) => request.arguments_ref !== undefined)) return action;
    const store = this.requireStore();
    const key = await this.transcriptKey(runId);
    const full = await Promise.all(
      requests.map(async (request) => {
        if (request.arguments_ref === undefined) return request;
        const args = JSON.parse(await store.get(key, request.arguments_ref)) as Record<string, unknown>;
        return { ...request, arguments: args };
      }),
    );
    return { ...action, payload: { ...action.payload, action_requests: full } };
  }

  private requireStore(): ContentStore {
    const store = this.store();
    if (store === undefined) {
      throw new TranscriptUnavailableError('No content store is configured for this client (HITL_CONTENT_STORE)');
    }
    return store;
  }

  /**
   * Whether what this client depends on answers now, each within `timeoutMs`: the Temporal server (its
   * namespace described) and, when configured, the content store (one read). Never throws: a failed check
   * carries its error for the caller to log.
   */
  async checkReadiness(timeoutMs = DEFAULT_READINESS_TIMEOUT_MS): Promise<Readiness> {
    const check = async (probe: () => Promise<unknown>): Promise<DependencyCheck> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([probe(), timeout]);
        return { ok: true };
      } catch (error) {
        return { ok: false, error: error instanceof Error ? error.message : String(error) };
      } finally {
        clearTimeout(timer);
      }
    };
    const [temporal, contentStore] = await Promise.all([
      check(() =>
        this.client.connection.withDeadline(Date.now() + timeoutMs, () =>
          this.client.workflowService.describeNamespace({ namespace: this.client.options.namespace }),
        ),
      ),
      this.contentStore === undefined ? undefined : check(async () => this.store()!.ping()),
    ]);
    return contentStore === undefined ? { temporal } : { temporal, contentStore };
  }

  private handle(runId: string): WorkflowHandle {
    return this.client.workflow.getHandle(runId);
  }

  /**
   * Validates the input with the wire schema, then starts one `generationRun`: an agent run
   * (`{ userId, conversationId, agentId, messages, tighten? }`, resolved by the worker from its
   * configuration file), or a v1 inline run (with `model`, `tools`, `policy`…; operators only).
   * With `idempotencyKey`, a retry answers with the run the first call started (see `StartRunOptions`).
   */
  async startRun(input: RunInput, options: StartRunOptions = {}): Promise<StartedRun> {
    const { start, fingerprint } = await this.startOptions(input, options);
    try {
      await this.client.workflow.start(GENERATION_RUN_WORKFLOW, start);
    } catch (error) {
      if (fingerprint === undefined || !(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      await this.checkSameRequest(start.workflowId, fingerprint);
      return { runId: start.workflowId, created: false };
    }
    return { runId: start.workflowId, created: true };
  }

  /**
   * Starts a run and waits for its first pause (or its end) in one call: update-with-start of
   * `awaitPendingAction`, answered by the workflow task that paused. No polling. With `idempotencyKey`, a
   * retry of a run that exists already waits on that run (`created: false`): its current pause, or its end.
   */
  async startRunAndWait(
    input: RunInput,
    options: StartRunOptions & Pick<WaitForPendingActionOptions, 'timeoutMs'> = {},
  ): Promise<StartedRun & PendingActionWait> {
    const { start, fingerprint } = await this.startOptions(input, options);
    const runId = start.workflowId;
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_AWAIT_PENDING_MS);
    let first: PendingActionWait;
    try {
      first = await this.client.workflow.executeUpdateWithStart(awaitPendingActionUpdate, {
        args: [{ timeoutMs: waitSlice(deadline) }],
        startWorkflowOperation: new WithStartWorkflowOperation(GENERATION_RUN_WORKFLOW, {
          ...start,
          workflowIdConflictPolicy: 'FAIL',
        }),
      });
    } catch (error) {
      if (fingerprint === undefined || !(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      await this.checkSameRequest(runId, fingerprint);
      const wait = await this.waitForPendingAction(runId, { timeoutMs: Math.max(1, deadline - Date.now()) });
      return { runId, created: false, ...wait };
    }
    if (isAnswered(first) || Date.now() >= deadline) return { runId, created: true, ...first };
    return {
      runId,
      created: true,
      ...(await this.waitForPendingAction(runId, { timeoutMs: deadline - Date.now() })),
    };
  }

  /**
   * Waits for the run's next pause, or its end, through update `awaitPendingAction` instead of polling
   * the query. Each update is held by the run for at most MAX_AWAIT_PENDING_MS; longer waits send another.
   */
  async waitForPendingAction(runId: string, options: WaitForPendingActionOptions = {}): Promise<PendingActionWait> {
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_AWAIT_PENDING_MS);
    for (;;) {
      let answer: PendingActionWait;
      try {
        answer = await retryUnprocessed(() =>
          this.handle(runId).executeUpdate(awaitPendingActionUpdate, {
            args: [
              {
                ...(options.afterActionId ? { afterActionId: options.afterActionId } : {}),
                timeoutMs: waitSlice(deadline),
              },
            ],
          }),
        );
      } catch (error) {
        // Closed before (or while) the update reached it: answer with the status it ended in.
        if (!isRunNotFound(error)) throw error;
        const closed = await this.describeClosed(runId);
        if (closed === undefined) throw new RunNotFoundError(runId);
        return { status: closed, pendingAction: null };
      }
      // The run holds as many waiters as it allows: poll instead.
      if (answer.busy) return this.pollForPendingAction(runId, deadline, options.afterActionId);
      if (isAnswered(answer) || Date.now() >= deadline) return answer;
    }
  }

  async getPendingAction(runId: string): Promise<PendingAction | null> {
    return this.query(runId, getPendingActionQuery);
  }

  async getRunState(runId: string): Promise<RunState> {
    return this.query(runId, getRunStateQuery);
  }

  /**
   * Resolves the pending action through update `resolveAction`. Refusals come back as data
   * (`{ ok: false, refusal }`); an `idempotencyKey` (the update id) makes a retry return the first answer.
   */
  async resolve(
    runId: string,
    resolution: Resolution,
    options: { idempotencyKey?: string } = {},
  ): Promise<ResolveOutcome> {
    const shapeRefusal = checkResolutionShape(resolution);
    if (shapeRefusal) return { ok: false, refusal: shapeRefusal };
    // One update id for every attempt, so a resend after UnprocessedUpdate can never apply twice.
    const updateId = options.idempotencyKey ?? randomUUID();
    try {
      const result = await retryUnprocessed(() =>
        this.handle(runId).executeUpdate(resolveActionUpdate, { args: [resolution], updateId }),
      );
      return { ok: true, result };
    } catch (error) {
      const refusal = refusalFromError(error);
      if (refusal) return { ok: false, refusal };
      if (isRunNotFound(error)) {
        const closed = (await this.describeRun(runId))?.status.name;
        if (closed === undefined) throw new RunNotFoundError(runId);
        return { ok: false, refusal: { type: 'NoPendingAction', message: `The run has already finished (${closed})` } };
      }
      throw error;
    }
  }

  /**
   * Answers a pending MCP elicitation: `resolve` with `elicitation: { action, content? }`. Refusals come back
   * as data, as from `resolve`: `InvalidElicitationContent` when the content does not fit the requested form
   * (`details.problems` by field), and the refusals of every action (`StaleAction`, `NotAuthorized`, …).
   */
  async elicit(
    runId: string,
    response: ElicitationResponse,
    options: { idempotencyKey?: string } = {},
  ): Promise<ResolveOutcome> {
    const { actionId, approver, action, content, approverClaims } = response;
    return this.resolve(
      runId,
      {
        actionId,
        approver,
        elicitation: content === undefined ? { action } : { action, content },
        ...(approverClaims !== undefined ? { approverClaims } : {}),
      },
      options,
    );
  }

  /**
   * Fire-and-forget resolution through signal `resolveAction`: the workflow's verdict is recorded in the
   * audit log only. A malformed or oversized resolution is refused here and not sent.
   */
  async signalResolve(runId: string, resolution: Resolution): Promise<{ ok: true } | { ok: false; refusal: Refusal }> {
    const shapeRefusal = checkResolutionShape(resolution);
    if (shapeRefusal) return { ok: false, refusal: shapeRefusal };
    await this.withNotFound(runId, () => this.handle(runId).signal(resolveActionSignal, resolution));
    return { ok: true };
  }

  /** Lists runs through Temporal visibility (eventually consistent: a just-started run may lag a moment). */
  async listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    const { userId, conversationId, status, tool, limit } = ListRunsFilterSchema.parse(filter);
    const clauses = [`WorkflowType = ${literal(GENERATION_RUN_WORKFLOW)}`, `TaskQueue = ${literal(this.taskQueue)}`];
    if (userId !== undefined) clauses.push(`${HitlUserId.name} = ${literal(userId)}`);
    if (conversationId !== undefined) clauses.push(`${HitlConversationId.name} = ${literal(conversationId)}`);
    if (status !== undefined) clauses.push(`${HitlStatus.name} = ${literal(status)}`);
    if (tool !== undefined) clauses.push(`${HitlPendingTools.name} = ${literal(tool)}`);
    const runs: RunSummary[] = [];
    for await (const execution of this.client.workflow.list({ query: clauses.join(' AND '), pageSize: limit })) {
      const attributes = execution.typedSearchAttributes;
      const runStatus = RunStatusSchema.safeParse(attributes.get(HitlStatus));
      runs.push({
        runId: execution.workflowId,
        status: runStatus.success ? runStatus.data : undefined,
        userId: attributes.get(HitlUserId),
        conversationId: attributes.get(HitlConversationId),
        pendingTools: attributes.get(HitlPendingTools) ?? [],
        expiresAt: attributes.get(HitlExpiresAt),
        startTime: execution.startTime,
        closeTime: execution.closeTime,
        executionStatus: execution.status.name,
      });
      if (runs.length >= limit) break;
    }
    return runs;
  }

  /** Cancels the run: it ends `aborted`, and nothing runs after. */
  async abort(runId: string): Promise<void> {
    await this.withNotFound(runId, () => this.handle(runId).cancel());
  }

  /** Waits for the run to end. A cancelled run resolves to an `aborted` result rather than throwing. */
  async result(runId: string): Promise<RunResult> {
    try {
      return (await this.withNotFound(runId, () => this.handle(runId).result())) as RunResult;
    } catch (error) {
      if (error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure) {
        const state = await this.getRunState(runId).catch(() => undefined);
        return {
          status: 'aborted',
          finishReason: 'cancelled',
          reason: 'Cancelled',
          turn: state?.turn ?? 0,
          messages: state?.messages ?? [],
        };
      }
      throw error;
    }
  }

  /** The user's remembered approvals (`session` and `always`), oldest first. */
  async listGrants(userId: string): Promise<Grant[]> {
    return listGrants(this.client, userId);
  }

  /** Forgets a remembered approval; later calls of that tool ask again (from the next policy decision on). */
  async revokeGrant(userId: string, request: RevokeGrantRequest): Promise<RevokeGrantResult> {
    return revokeGrant(this.client, userId, request, { taskQueue: this.taskQueue });
  }

  /** The wait of `waitForPendingAction` by querying `getRunState` every 250 ms. */
  private async pollForPendingAction(runId: string, deadline: number, skip?: string): Promise<PendingActionWait> {
    for (;;) {
      let state: RunState;
      try {
        state = await this.getRunState(runId);
      } catch (error) {
        // A query can fail for a moment while the run is busy ("buffered query cleared"): ask again.
        if (error instanceof RunNotFoundError || Date.now() >= deadline) throw error;
        await sleep(POLL_FALLBACK_MS);
        continue;
      }
      const { status, pendingAction } = state;
      if (pendingAction && pendingAction.actionId !== skip) return { status: 'requires_action', pendingAction };
      const remaining = deadline - Date.now();
      if (FINAL_RUN_STATUSES.has(status) || remaining <= 0) return { status, pendingAction: null };
      await sleep(Math.min(POLL_FALLBACK_MS, remaining));
    }
  }

  private async startOptions(
    input: RunInput,
    options: StartRunOptions,
  ): Promise<{ start: WorkflowStartOptions & { workflowId: string }; fingerprint: string | undefined }> {
    const parsed = parseRunInput(input);
    if (!parsed.success) throw new InvalidRunInputError(`Invalid RunInput: ${describeIssues(parsed.error)}`);
    const { start, fingerprint } = this.startOptionsFor(parsed.data, options);
    const args = [await this.stageLargeConversation(start.workflowId, parsed.data)];
    const chars = JSON.stringify(args[0]).length;
    if (chars > MAX_RUN_INPUT_CHARS) {
      throw new PayloadTooLargeError('The run input', chars, MAX_RUN_INPUT_CHARS);
    }
    return { start: { ...start, args }, fingerprint };
  }

  /**
   * A conversation larger than MAX_INLINE_CONVERSATION_CHARS goes to the content store under the run id,
   * as one JSON array; the input then names it (`stagedConversation`). Idempotent: the same conversation is
   * the same reference.
   */
  private async stageLargeConversation(runId: string, input: NormalizedRunInput): Promise<NormalizedRunInput> {
    if (input.messages.length === 0) return input;
    const json = JSON.stringify(input.messages);
    if (json.length <= MAX_INLINE_CONVERSATION_CHARS) return input;
    const store = this.store();
    if (store === undefined) {
      throw new PayloadTooLargeError(
        'The conversation',
        json.length,
        MAX_INLINE_CONVERSATION_CHARS,
        'give the client the content store (HITL_CONTENT_STORE) so it can stage a larger one',
      );
    }
    if (input.stagedConversation !== undefined) {
      throw new InvalidRunInputError(
        'stagedConversation: a staged conversation takes at most 256 KiB of messages after it',
      );
    }
    const ref = await store.put(runId, json);
    return { ...input, messages: [], stagedConversation: { ref, count: input.messages.length } };
  }

  /**
   * Whole messages of the run's transcript from position `fromSeq` on, read from the content store (the run
   * state shows only the latest ones, previewed). Pages of at most 500; `nextSeq` < `total` means more.
   */
  async readMessages(runId: string, options: { fromSeq?: number; limit?: number } = {}): Promise<MessagesPage> {
    const store = this.requireStore();
    const { key, storedLength } = await this.transcriptSource(runId);
    return readMessagesPage(store, key, options.fromSeq ?? 0, options.limit ?? MAX_MESSAGES_PAGE, storedLength);
  }

  /**
   * A binary block of a tool result the run keeps in the content store (an image, audio, a binary resource):
   * its tool message names it `[image image/png, 1234 bytes, content ref sha256:…]`. `ContentNotFoundError`
   * when the run keeps no such block; `RunNotFoundError` for an unknown run.
   */
  async readContent(runId: string, ref: string): Promise<BinaryContent> {
    const store = this.requireStore();
    const key = await this.transcriptKey(runId);
    const parsedRef = ContentRefStringSchema.safeParse(ref);
    const content = parsedRef.success ? await readBinaryContent(store, key, parsedRef.data) : undefined;
    if (content === undefined) throw new ContentNotFoundError(runId, ref);
    return {
      type: content.type,
      mimeType: content.mimeType,
      ...(content.uri !== undefined ? { uri: content.uri } : {}),
      bytes: Buffer.from(content.data, 'base64'),
    };
  }

  private startOptionsFor(
    input: NormalizedRunInput,
    options: StartRunOptions,
  ): { start: WorkflowStartOptions & { workflowId: string }; fingerprint: string | undefined } {
    const parsed = { data: input };
    const base = {
      taskQueue: this.taskQueue,
      args: [parsed.data],
      staticSummary: staticSummaryOf(parsed.data),
      typedSearchAttributes: [
        { key: HitlStatus, value: 'running' as const },
        { key: HitlUserId, value: parsed.data.userId },
        { key: HitlConversationId, value: parsed.data.conversationId },
      ],
    };
    const key = options.idempotencyKey;
    if (key === undefined) {
      return { start: { ...base, workflowId: options.runId ?? `run-${randomUUID()}` }, fingerprint: undefined };
    }
    if (options.runId !== undefined) {
      throw new InvalidRunInputError('runId and idempotencyKey exclude each other: the key decides the run id');
    }
    const keyCheck = IdempotencyKeySchema.safeParse(key);
    if (!keyCheck.success) throw new InvalidRunInputError(`idempotencyKey: ${describeIssues(keyCheck.error)}`);
    const fingerprint = runRequestFingerprint(parsed.data);
    return {
      start: {
        ...base,
        workflowId: idempotentRunId(parsed.data.userId, key),
        // One execution per id, ever: neither a running nor a closed run (while retained) lets another start.
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: { [START_REQUEST_MEMO_KEY]: { fingerprint } },
      },
      fingerprint,
    };
  }

  /**
   * After Temporal refused a second execution of an idempotent run id: the existing run must be a
   * `generationRun` started with the same request (fingerprint in its memo), else the key was reused.
   */
  private async checkSameRequest(runId: string, fingerprint: string): Promise<void> {
    const description = await this.describeRun(runId);
    // Refused as a duplicate, then gone: deleted (retention) in between. Rare; the caller may retry.
    if (description === undefined) throw new RunNotFoundError(runId);
    const recorded = StartRequestMemoSchema.safeParse(description.memo?.[START_REQUEST_MEMO_KEY]);
    const same =
      description.type === GENERATION_RUN_WORKFLOW && recorded.success && recorded.data.fingerprint === fingerprint;
    if (!same) throw new IdempotencyKeyReusedError(runId);
  }

  /** The final status of a closed run (its `HitlStatus`), or undefined when there is no such run. */
  private async describeClosed(runId: string): Promise<RunStatus | undefined> {
    const description = await this.describeRun(runId);
    if (description === undefined) return undefined;
    const status = RunStatusSchema.safeParse(description.typedSearchAttributes.get(HitlStatus));
    if (status.success && FINAL_RUN_STATUSES.has(status.data)) return status.data;
    const temporalStatus = description.status.name;
    return temporalStatus === 'COMPLETED' ? 'completed' : temporalStatus === 'FAILED' ? 'failed' : 'aborted';
  }

  private async describeRun(runId: string): Promise<WorkflowExecutionDescription | undefined> {
    try {
      return await this.handle(runId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * A query with a deadline per attempt, retried when the deadline passes: a query that reaches a worker
   * just as it evicts the run it answers for (right after the run completed) is dropped, and the server
   * would hold it for 30 s; the next attempt is answered at once.
   */
  private async query<T>(runId: string, definition: QueryDefinition<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      const deadline = Date.now() + QUERY_ATTEMPT_TIMEOUT_MS * attempt;
      try {
        return await this.withNotFound(runId, () =>
          this.client.withDeadline(deadline, () => this.handle(runId).query(definition)),
        );
      } catch (error) {
        if (attempt >= QUERY_ATTEMPTS || !isRetryableQueryError(error)) throw error;
      }
    }
  }

  private async withNotFound<T>(runId: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new RunNotFoundError(runId);
      throw error;
    }
  }
}
