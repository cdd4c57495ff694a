// TEST-ONLY STAND-IN, to be retired at the integration step (see test/support/elicitation.ts).
//
// A run that pauses at once with a given `mcp_elicitation` action, the way `generationRun` will when an MCP
// server sends `elicitation/create` during a tool call, and speaks the run's wire for it: queries
// `getPendingAction` / `getRunState`, updates `resolveAction` (judged by the real `checkResolution`, refusals
// as typed failures and in the audit log) and `awaitPendingAction`. It then ends with the answer it got,
// instead of handing it to an MCP server. Expiry answers cancel, as DESIGN.md says. Its input at position 0 is
// a real inline RunInput, so the HTTP API reads owner and approvers from it as from any run.
import * as wf from '@temporalio/workflow';
import {
  awaitPendingActionUpdate,
  checkResolutionShape,
  DEFAULT_AWAIT_PENDING_MS,
  FINAL_RUN_STATUSES,
  getPendingActionQuery,
  getRunStateQuery,
  HitlExpiresAt,
  HitlPendingTools,
  HitlStatus,
  inlineRunConfig,
  InlineRunInputSchema,
  resolveActionUpdate,
  type AuditEntry,
  type AwaitPendingActionResult,
  type ElicitationAnswer,
  type InlineRunInput,
  type McpElicitationPayload,
  type PendingAction,
  type Refusal,
  type RunResult,
  type RunState,
  type RunStatus,
} from '../../src/contracts';
import { checkResolution } from '../../src/workflows/validate-resolution';

export interface ElicitationStandInOptions {
  payload: McpElicitationPayload;
  /** Time to expiry (default 1 h). */
  ttlMs?: number;
}

/** A run result, plus what the MCP server would have been told and by whom (null: it expired). */
export interface ElicitationStandInResult extends RunResult {
  elicitation: ElicitationAnswer;
  decidedBy: string | null;
}

function refusalFailure(refusal: Refusal): wf.ApplicationFailure {
  return wf.ApplicationFailure.create({
    type: refusal.type,
    message: refusal.message,
    nonRetryable: true,
    details: refusal.details ? [refusal.details] : [],
  });
}

export async function elicitationStandIn(
  input: InlineRunInput,
  options: ElicitationStandInOptions,
): Promise<ElicitationStandInResult> {
  const run = InlineRunInputSchema.parse(input);
  const approvers = inlineRunConfig(run).approvers;
  const ttlMs = options.ttlMs ?? 3_600_000;
  const createdAt = new Date();
  let pending: PendingAction | null = {
    actionId: wf.uuid4(),
    runId: wf.workflowInfo().workflowId,
    userId: run.userId,
    conversationId: run.conversationId,
    createdAt: createdAt.toISOString(),
    expiresAt: new Date(createdAt.getTime() + ttlMs).toISOString(),
    payload: options.payload,
  };
  const actionId = pending.actionId;
  let status: RunStatus = 'requires_action';
  const decisions: AuditEntry[] = [];
  const resolvedActionIds = new Set<string>();
  const expiredActionIds = new Set<string>();
  let answer: { elicitation: ElicitationAnswer; decidedBy: string | null } | undefined;

  wf.upsertSearchAttributes([
    { key: HitlStatus, value: 'requires_action' },
    { key: HitlPendingTools, value: [options.payload.name] },
    { key: HitlExpiresAt, value: new Date(pending.expiresAt) },
  ]);

  wf.setHandler(getPendingActionQuery, () => pending);
  wf.setHandler(getRunStateQuery, (): RunState => ({
    status,
    turn: 1,
    pendingAction: pending,
    messages: run.messages,
    decisions,
  }));
  wf.setHandler(
    resolveActionUpdate,
    (raw) => {
      const at = new Date().toISOString();
      const check = checkResolution(raw, { pending, approvers, resolvedActionIds, expiredActionIds });
      if (!check.ok) {
        decisions.push({
          at,
          via: 'update',
          actionId: check.actionId,
          approver: check.approver,
          outcome: 'refused',
          refusal: check.refusal,
        });
        throw refusalFailure(check.refusal);
      }
      const { approver } = check.resolution;
      resolvedActionIds.add(check.resolution.actionId);
      pending = null;
      status = 'running';
      const elicitation = check.elicitation ?? { action: 'cancel' };
      answer = { elicitation, decidedBy: approver };
      decisions.push({
        at,
        via: 'update',
        actionId: check.resolution.actionId,
        approver,
        outcome: 'accepted',
        message: `elicitation: ${elicitation.action}`,
      });
      return { actionId: check.resolution.actionId, status: 'running', decidedBy: approver };
    },
    {
      validator: (resolution) => {
        const refusal = checkResolutionShape(resolution);
        if (refusal) throw refusalFailure(refusal);
      },
    },
  );
  wf.setHandler(awaitPendingActionUpdate, async (request): Promise<AwaitPendingActionResult> => {
    const skip = request?.afterActionId;
    const paused = () => pending !== null && pending.actionId !== skip;
    await wf.condition(
      () => paused() || FINAL_RUN_STATUSES.has(status),
      request?.timeoutMs ?? DEFAULT_AWAIT_PENDING_MS,
    );
    return paused() ? { status: 'requires_action', pendingAction: pending } : { status, pendingAction: null };
  });

  if (!(await wf.condition(() => answer !== undefined, ttlMs))) {
    // Expiry answers cancel.
    expiredActionIds.add(actionId);
    pending = null;
    decisions.push({
      at: new Date().toISOString(),
      via: 'expiry',
      actionId,
      approver: null,
      outcome: 'expired',
      message: 'elicitation: cancel',
    });
    answer = { elicitation: { action: 'cancel' }, decidedBy: null };
  }
  status = 'completed';
  wf.upsertSearchAttributes([
    { key: HitlStatus, value: 'completed' },
    { key: HitlPendingTools, value: [] },
    { key: HitlExpiresAt, value: null },
  ]);
  await wf.condition(wf.allHandlersFinished);
  const finalMessage = `The MCP server "${options.payload.server}" was answered: ${answer!.elicitation.action}`;
  return {
    status: 'completed',
    finishReason: 'final_answer',
    finalMessage,
    turn: 1,
    messages: [...run.messages, { role: 'assistant', content: finalMessage }],
    ...answer!,
  };
}
