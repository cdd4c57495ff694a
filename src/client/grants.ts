// Listing and revoking a user's remembered approvals (the `userGrants` entity) from a chat backend,
// an approver console or the CLI.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import {
  INVALID_GRANT_ERROR_TYPE,
  listGrantsQuery,
  revokeGrantUpdate,
  RevokeGrantRequestSchema,
  userGrantsWorkflowId,
  type Grant,
  type RevokeGrantRequest,
  type RevokeGrantResult,
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
 * there was no such grant or the user has no grants at all.
 */
export async function revokeGrant(
  client: Client,
  userId: string,
  request: RevokeGrantRequest,
): Promise<RevokeGrantResult> {
  const id = checkUserId(userId);
  const parsed = RevokeGrantRequestSchema.safeParse(request);
  if (!parsed.success) throw new InvalidGrantRequestError(`Invalid revocation: ${describeIssues(parsed.error)}`);
  try {
    return await client.workflow.getHandle(userGrantsWorkflowId(id)).executeUpdate(revokeGrantUpdate, {
      args: [parsed.data],
    });
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { revoked: 0 };
    throw error;
  }
}
