// Listing and revoking a user's remembered approvals (the `userGrants` entity) from a chat backend,
// an approver console or the CLI.
import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import {
  INVALID_GRANT_ERROR_TYPE,
  listGrantsQuery,
  revokeGrantUpdate,
  RevokeGrantRequestSchema,
  USER_GRANTS_WORKFLOW,
  userGrantsWorkflowId,
  type Grant,
  type RevokeGrantRequest,
  type RevokeGrantResult,
  type UserGrantsState,
} from '../contracts/grants';
import { describeIssues } from '../contracts/run-input';

/** A `listGrants` / `revokeGrant` argument does not match its schema; nothing was sent. */
export class InvalidGrantRequestError extends Error {
  override readonly name = 'InvalidGrantRequestError';
  readonly type = INVALID_GRANT_ERROR_TYPE;
}

const UserIdSchema = z.string().min(1).max(256);

function checkUserId(userId: string): string {
  const parsed = UserIdSchema.safeParse(userId);
  if (!parsed.success) throw new InvalidGrantRequestError(`Invalid userId: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * The start half of an update-with-start to the user's `userGrants` entity: starts it (empty) on
 * `taskQueue` when it does not run yet, else the update goes to the running one.
 */
export function userGrantsStartOperation(userId: string, taskQueue: string) {
  const initialState: UserGrantsState = { userId, grants: [] };
  return new WithStartWorkflowOperation(USER_GRANTS_WORKFLOW, {
    workflowId: userGrantsWorkflowId(userId),
    taskQueue,
    args: [initialState],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `remembered tool approvals of user ${userId}`,
  });
}

export interface RevokeGrantOptions {
  /**
   * Task queue of the `userGrants` entities. Given, a user without an entity gets one (update-with-start),
   * so the revocation is remembered even when the grant it revokes has not been written yet (the approved
   * call still runs). Without it, a user without an entity is answered `{ revoked: 0 }` and nothing is kept.
   */
  taskQueue?: string;
}

/** Every grant the user holds, oldest first; `[]` when the user never had one. */
export async function listGrants(client: Client, userId: string): Promise<Grant[]> {
  const handle = client.workflow.getHandle(userGrantsWorkflowId(checkUserId(userId)));
  try {
    return await handle.query(listGrantsQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return [];
    throw error;
  }
}

/**
 * Removes the grant of `request.tool` in that scope (a `session` revocation names its conversation).
 * Runs that load grants later, or make their next policy decision, ask again. `{ revoked: 0 }` when
 * there was no such grant or the user has no grants at all. The entity also remembers the revocation
 * for a while (even with nothing removed), so a grant approved before it — whose approved call is still
 * running — is refused (`GrantRevoked`) when the run writes it afterwards; for a user who has no entity
 * yet, that needs `options.taskQueue` (see RevokeGrantOptions).
 */
export async function revokeGrant(
  client: Client,
  userId: string,
  request: RevokeGrantRequest,
  options: RevokeGrantOptions = {},
): Promise<RevokeGrantResult> {
  const id = checkUserId(userId);
  const parsed = RevokeGrantRequestSchema.safeParse(request);
  if (!parsed.success) throw new InvalidGrantRequestError(`Invalid revocation: ${describeIssues(parsed.error)}`);
  if (options.taskQueue !== undefined) {
    return await client.workflow.executeUpdateWithStart(revokeGrantUpdate, {
      args: [parsed.data],
      startWorkflowOperation: userGrantsStartOperation(id, options.taskQueue),
    });
  }
  try {
    return await client.workflow.getHandle(userGrantsWorkflowId(id)).executeUpdate(revokeGrantUpdate, {
      args: [parsed.data],
    });
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { revoked: 0 };
    throw error;
  }
}
