// Who owns a run and who may approve it: the owner from the run's own input (first history event); the
// approvers from that input (inline v1 runs) or from the memo an agent run writes once its agent is resolved.
import { isGrpcServiceError } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { RunNotFoundError, type HitlClient } from '../client';
import {
  GENERATION_RUN_WORKFLOW,
  inlineRunConfig,
  InlineRunInputSchema,
  isInlineRunInput,
  parseRunInput,
  RUN_ACCESS_MEMO_KEY,
  RunAccessMemoSchema,
  type ApproverRules,
} from '../contracts';
import { approverClaimsFor, isApprover } from '../policy';
import type { Identity } from './auth';

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_NOT_FOUND = 5;

/** The parts of a run's input (and configuration) that decide access. */
export interface RunAccess {
  runId: string;
  /** Owner of the run (`RunInput.userId`); undefined only for a run started with unreadable input. */
  userId: string | undefined;
  conversationId: string | undefined;
  agentId: string | undefined;
  /** The agent's configuration version (agent runs, once resolved). */
  configVersion: string | undefined;
  /** Who may resolve (exactly what the workflow checks); nobody for an agent run not resolved yet. */
  approvers: ApproverRules;
}

export function isOwner(access: RunAccess, sub: string): boolean {
  return access.userId !== undefined && access.userId === sub;
}

/**
 * A named approver, or a caller whose token matches one of the run's claim rules — judged on exactly the
 * claims the API passes to the workflow (`approverClaimsFor`), so reading and resolving never disagree.
 */
export function mayApprove(access: RunAccess, caller: Identity): boolean {
  return isApprover(access.approvers, caller.sub, approverClaimsFor(access.approvers.claims, caller.claims));
}

export function mayRead(access: RunAccess, caller: Identity): boolean {
  return isOwner(access, caller.sub) || mayApprove(access, caller);
}

function stringField(raw: unknown, key: string): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const value = (raw as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

const NOBODY: ApproverRules = { users: [], claims: [] };

/**
 * Reads owner and approvers from the `WorkflowExecutionStarted` event of the run's current execution:
 * one history page of one event, answered by the Temporal server alone (no worker, no replay), and
 * correct after continue-as-new (the workflow passes its input on). An agent run's approvers come from
 * its memo (one describe, also server-only). Throws `RunNotFoundError` for an unknown id and for a
 * workflow that is not a `generationRun`.
 */
export async function readRunAccess(hitl: HitlClient, runId: string): Promise<RunAccess> {
  const client = hitl.client;
  let response;
  try {
    response = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: runId },
      maximumPageSize: 1,
    });
  } catch (error) {
    const code: number | undefined = isGrpcServiceError(error) ? error.code : undefined;
    if (code === GRPC_NOT_FOUND || code === GRPC_INVALID_ARGUMENT) throw new RunNotFoundError(runId);
    throw error;
  }
  const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started || started.workflowType?.name !== GENERATION_RUN_WORKFLOW) throw new RunNotFoundError(runId);
  const raw: unknown = await decodeFromPayloadsAtIndex(client.options.loadedDataConverter, 0, started.input?.payloads);
  const parsed = parseRunInput(raw);
  const base = {
    runId,
    userId: stringField(raw, 'userId'),
    conversationId: stringField(raw, 'conversationId'),
    agentId: stringField(raw, 'agentId'),
    configVersion: undefined,
  };
  // The workflow fails a run with unreadable input and accepts no approver; only its owner may read it.
  if (!parsed.success) return { ...base, approvers: NOBODY };
  if (isInlineRunInput(raw)) {
    return { ...base, approvers: inlineRunConfig(InlineRunInputSchema.parse(raw)).approvers };
  }
  const memo = await agentRunMemo(hitl, runId);
  return memo
    ? { ...base, configVersion: memo.configVersion, approvers: memo.approvers }
    : { ...base, approvers: NOBODY };
}

/** The access memo of an agent run, or undefined while its agent is not resolved yet. */
async function agentRunMemo(hitl: HitlClient, runId: string) {
  let memo: Record<string, unknown> | undefined;
  try {
    memo = (await hitl.client.workflow.getHandle(runId).describe()).memo;
  } catch (error) {
    const code: number | undefined = isGrpcServiceError(error) ? error.code : undefined;
    if (code === GRPC_NOT_FOUND) throw new RunNotFoundError(runId);
    throw error;
  }
  const parsed = RunAccessMemoSchema.safeParse(memo?.[RUN_ACCESS_MEMO_KEY]);
  return parsed.success ? parsed.data : undefined;
}
