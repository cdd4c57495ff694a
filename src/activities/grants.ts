// Activities that read and write a user's grants entity (`userGrants`) through the Temporal client.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import {
  addGrantUpdate,
  AddGrantRequestSchema,
  grantedToolNames,
  GRANT_LIMIT_ERROR_TYPE,
  GRANT_REVOKED_ERROR_TYPE,
  INVALID_GRANT_ERROR_TYPE,
  listGrantsQuery,
  LoadGrantsRequestSchema,
  userGrantsWorkflowId,
  type Grant,
  type GrantActivities,
  type LoadGrantsRequest,
  type RecordGrantRequest,
} from '../contracts/grants';
import { describeIssues } from '../contracts/run-input';
import { userGrantsStartOperation } from '../client/grants';

export type { GrantActivities, LoadGrantsRequest, RecordGrantRequest } from '../contracts/grants';

const UserIdSchema = z.object({ userId: z.string().min(1).max(256) });

/** Refusals of the entity that a retry cannot change: they leave the activity non-retryable. */
const FINAL_REFUSALS: ReadonlySet<string> = new Set([
  GRANT_LIMIT_ERROR_TYPE,
  GRANT_REVOKED_ERROR_TYPE,
  INVALID_GRANT_ERROR_TYPE,
]);

/**
 * The update id of a grant write: the identity of the activity that makes it (workflow id, run id,
 * activity id), which every retry of that activity shares. A retried attempt thus reaches the entity
 * with the first attempt's id and gets its answer (from the server, or from the entity's memory of
 * recent writes after a continue-as-new) instead of writing again. Outside an activity (a direct call)
 * there is no such identity: the client picks a random id, as before.
 */
function recordGrantUpdateId(): string | undefined {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return undefined;
  }
  if (info.workflowExecution) {
    const { workflowId, runId } = info.workflowExecution;
    return `recordGrant/${workflowId}/${runId}/${info.activityId}`;
  }
  // A standalone activity: its id and run id identify it across attempts.
  return info.activityRunId !== undefined ? `recordGrant/${info.activityId}/${info.activityRunId}` : undefined;
}

function invalid(what: string, error: z.ZodError): ApplicationFailure {
  return ApplicationFailure.create({
    type: INVALID_GRANT_ERROR_TYPE,
    message: `Invalid ${what}: ${describeIssues(error)}`,
    nonRetryable: true,
  });
}

/**
 * `loadGrants` and `recordGrant`, bound to a client and the task queue the `userGrants` entity runs on.
 * Refusals (`GrantLimitReached`, `GrantRevoked`, `InvalidGrant`) fail non-retryably so the calling
 * workflow can record them and go on; anything else (connection trouble, timeouts) is thrown as is and
 * retried.
 */
export function createGrantActivities(client: Client, taskQueue: string): GrantActivities {
  return {
    async loadGrants(request: LoadGrantsRequest): Promise<string[]> {
      const parsed = LoadGrantsRequestSchema.safeParse(request);
      if (!parsed.success) throw invalid('loadGrants request', parsed.error);
      const { userId, conversationId, grantors } = parsed.data;
      try {
        const grants = await client.workflow.getHandle(userGrantsWorkflowId(userId)).query(listGrantsQuery);
        return grantedToolNames(grants, conversationId, grantors);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return [];
        throw error;
      }
    },

    async recordGrant(request: RecordGrantRequest): Promise<Grant> {
      const owner = UserIdSchema.safeParse(request);
      if (!owner.success) throw invalid('recordGrant request', owner.error);
      const grant = AddGrantRequestSchema.safeParse(request);
      if (!grant.success) throw invalid('grant', grant.error);
      const { userId } = owner.data;
      const updateId = recordGrantUpdateId();
      try {
        return await client.workflow.executeUpdateWithStart(addGrantUpdate, {
          args: [grant.data],
          ...(updateId !== undefined ? { updateId } : {}),
          startWorkflowOperation: userGrantsStartOperation(userId, taskQueue),
        });
      } catch (error) {
        const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
        if (cause instanceof ApplicationFailure && cause.type && FINAL_REFUSALS.has(cause.type)) {
          throw ApplicationFailure.create({
            type: cause.type,
            message: cause.message,
            nonRetryable: true,
            details: cause.details ?? [],
          });
        }
        throw error;
      }
    },
  };
}
