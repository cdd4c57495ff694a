// Who owns a run and who may approve it, read from the run's own input (first history event).
import { isGrpcServiceError } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { RunNotFoundError, type HitlClient } from '../client';
import { GENERATION_RUN_WORKFLOW, RunInputSchema } from '../contracts';

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_NOT_FOUND = 5;

/** The parts of a run's input that decide access. */
export interface RunAccess {
  runId: string;
  /** Owner of the run (`RunInput.userId`); undefined only for a run started with unreadable input. */
  userId: string | undefined;
  conversationId: string | undefined;
  agentId: string | undefined;
  /** Who may resolve: `RunInput.approvers`, default `[userId]` (exactly what the workflow checks). */
  approvers: string[];
}

export function isOwner(access: RunAccess, sub: string): boolean {
  return access.userId !== undefined && access.userId === sub;
}

export function mayRead(access: RunAccess, sub: string): boolean {
  return isOwner(access, sub) || access.approvers.includes(sub);
}

function stringField(raw: unknown, key: string): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const value = (raw as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Reads owner and approvers from the `WorkflowExecutionStarted` event of the run's current execution:
 * one history page of one event, answered by the Temporal server alone (no worker, no replay), and
 * correct after continue-as-new (the workflow passes its input on). Throws `RunNotFoundError` for an
 * unknown id and for a workflow that is not a `generationRun`.
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
  const parsed = RunInputSchema.safeParse(raw);
  if (!parsed.success) {
    // The workflow fails such a run with InvalidInput and accepts no approver; only its owner may read it.
    return {
      runId,
      userId: stringField(raw, 'userId'),
      conversationId: stringField(raw, 'conversationId'),
      agentId: undefined,
      approvers: [],
    };
  }
  const input = parsed.data;
  return {
    runId,
    userId: input.userId,
    conversationId: input.conversationId,
    agentId: input.agentId,
    approvers: input.approvers ?? [input.userId],
  };
}
