import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { LIVENESS_BATCH, type RunLiveness } from '../content-store';
import { GENERATION_RUN_WORKFLOW } from '../contracts/temporal';
import { FilterValueSchema } from './hitl-client';

/**
 * A workflow id as a string literal of a visibility query, or undefined when the project's rule for values in
 * a list query refuses it (`FilterValueSchema`: quotes, backslashes, line breaks): such a workflow is described.
 */
function queryLiteral(workflowId: string): string | undefined {
  return FilterValueSchema.safeParse(workflowId).success ? `'${workflowId}'` : undefined;
}

/**
 * The visibility query of the running generation runs among `workflowIds`, or undefined when none of them
 * can be named in one.
 */
export function runningGenerationRunsQuery(workflowIds: readonly string[]): string | undefined {
  const literals = workflowIds.flatMap((id) => queryLiteral(id) ?? []);
  if (literals.length === 0) return undefined;
  return `WorkflowType = '${GENERATION_RUN_WORKFLOW}' AND ExecutionStatus = 'Running' AND WorkflowId IN (${literals.join(', ')})`;
}

/**
 * What the content store's sweep for ended runs asks, answered by Temporal: a visibility listing per batch of
 * workflow ids, then a describe of each workflow not listed (its current run, whatever its type).
 */
export function temporalRunLiveness(client: Client): RunLiveness {
  return {
    async runningAmong(workflowIds) {
      if (workflowIds.length > LIVENESS_BATCH) throw new RangeError(`at most ${LIVENESS_BATCH} workflow ids at once`);
      const running = new Set<string>();
      const query = runningGenerationRunsQuery(workflowIds);
      if (query === undefined) return running;
      for await (const execution of client.workflow.list({ query, pageSize: LIVENESS_BATCH })) {
        running.add(execution.workflowId);
      }
      return running;
    },
    async isRunning(workflowId) {
      try {
        const description = await client.workflow.getHandle(workflowId).describe();
        return description.status.name === 'RUNNING';
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
    },
  };
}
