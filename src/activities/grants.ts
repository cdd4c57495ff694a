// Activities that read and write a user's grants entity (`userGrants`) through the Temporal client.
import {
  ApplicationFailure,
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { z } from 'zod';
import {
  addGrantUpdate,
  AddGrantRequestSchema,
  grantedToolNames,
  GRANT_LIMIT_ERROR_TYPE,
  INVALID_GRANT_ERROR_TYPE,
  listGrantsQuery,
  LoadGrantsRequestSchema,
  USER_GRANTS_WORKFLOW,
  userGrantsWorkflowId,
  type Grant,
  type GrantActivities,
  type LoadGrantsRequest,
  type RecordGrantRequest,
  type UserGrantsState,
} from '../contracts/grants';
import { describeIssues } from '../contracts/run-input';

export type { GrantActivities, LoadGrantsRequest, RecordGrantRequest } from '../contracts/grants';

const UserIdSchema = z.object({ userId: z.string().min(1).max(256) });

/** Refusals of the entity that a retry cannot change: they leave the activity non-retryable. */
const FINAL_REFUSALS: ReadonlySet<string> = new Set([GRANT_LIMIT_ERROR_TYPE, INVALID_GRANT_ERROR_TYPE]);

function invalid(what: string, error: z.ZodError): ApplicationFailure {
  return ApplicationFailure.create({
    type: INVALID_GRANT_ERROR_TYPE,
    message: `Invalid ${what}: ${describeIssues(error)}`,
    nonRetryable: true,
  });
}

/**
 * `loadGrants` and `recordGrant`, bound to a client and the task queue the `userGrants` entity runs on.
 * Refusals (`GrantLimitReached`, `InvalidGrant`) fail non-retryably so the calling workflow can record
 * them and go on; anything else (connection trouble, timeouts) is thrown as is and retried.
 */
export function createGrantActivities(client: Client, taskQueue: string): GrantActivities {
  return {
    async loadGrants(request: LoadGrantsRequest): Promise<string[]> {
      const parsed = LoadGrantsRequestSchema.safeParse(request);
      if (!parsed.success) throw invalid('loadGrants request', parsed.error);
      const { userId, conversationId } = parsed.data;
      try {
        const grants = await client.workflow.getHandle(userGrantsWorkflowId(userId)).query(listGrantsQuery);
        return grantedToolNames(grants, conversationId);
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
      const initialState: UserGrantsState = { userId, grants: [] };
      try {
        return await client.workflow.executeUpdateWithStart(addGrantUpdate, {
          args: [grant.data],
          startWorkflowOperation: new WithStartWorkflowOperation(USER_GRANTS_WORKFLOW, {
            workflowId: userGrantsWorkflowId(userId),
            taskQueue,
            args: [initialState],
            workflowIdConflictPolicy: 'USE_EXISTING',
            staticSummary: `remembered tool approvals of user ${userId}`,
          }),
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
