import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunLiveness } from '../content-store';
import { GENERATION_RUN_WORKFLOW } from '../contracts/temporal';

/** The visibility query of the generation runs that are running (paused ones included). */
export const RUNNING_GENERATION_RUNS_QUERY = `WorkflowType = '${GENERATION_RUN_WORKFLOW}' AND ExecutionStatus = 'Running'`;

/**
 * What the content store's orphan sweep asks, answered by Temporal: the listing from visibility (one page per
 * 1 000 runs), the confirmation by describing the workflow (its current run, whatever its type).
 */
export function temporalRunLiveness(client: Client): RunLiveness {
  return {
    async runningWorkflowIds() {
      const ids = new Set<string>();
      for await (const execution of client.workflow.list({ query: RUNNING_GENERATION_RUNS_QUERY })) {
        ids.add(execution.workflowId);
      }
      return ids;
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
