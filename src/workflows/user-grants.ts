// The userGrants entity: one long-lived workflow per user (id `hitl-grants/<userId>`) holding the
// user's remembered approvals. Deterministic, no activities: updates add and revoke, a query lists,
// and continue-as-new keeps its history short.
import * as wf from '@temporalio/workflow';
import { describeIssues, INVALID_INPUT_ERROR_TYPE } from '../contracts';
import {
  addGrantUpdate,
  AddGrantRequestSchema,
  GRANT_LIMIT_ERROR_TYPE,
  INVALID_GRANT_ERROR_TYPE,
  listGrantsQuery,
  MAX_GRANTS_PER_SCOPE,
  revokeGrantUpdate,
  RevokeGrantRequestSchema,
  UserGrantsStateSchema,
  type Grant,
  type GrantScope,
  type RevokeGrantResult,
  type UserGrantsState,
} from '../contracts/grants';

interface GrantIdentity {
  tool: string;
  scope: GrantScope;
  conversationId?: string | undefined;
}

/** Grants in the same bucket count against the same limit: `always`, or `session` of one conversation. */
function sameBucket(a: GrantIdentity, b: GrantIdentity): boolean {
  return a.scope === b.scope && (a.scope === 'always' || a.conversationId === b.conversationId);
}

function sameGrant(a: GrantIdentity, b: GrantIdentity): boolean {
  return a.tool === b.tool && sameBucket(a, b);
}

function bucketName(grant: GrantIdentity): string {
  return grant.scope === 'always' ? '"always"' : `"session" of conversation "${grant.conversationId}"`;
}

function invalidGrant(what: string, error: Parameters<typeof describeIssues>[0]): wf.ApplicationFailure {
  return wf.ApplicationFailure.create({
    type: INVALID_GRANT_ERROR_TYPE,
    message: `Invalid ${what}: ${describeIssues(error)}`,
    nonRetryable: true,
  });
}

export async function userGrants(state?: UserGrantsState): Promise<never> {
  const info = wf.workflowInfo();
  // Started without state (e.g. by hand from the CLI): the user is the one the workflow id names.
  const initial = state ?? { userId: info.workflowId.replace(/^hitl-grants\//, ''), grants: [] };
  const parsed = UserGrantsStateSchema.safeParse(initial);
  if (!parsed.success) {
    throw wf.ApplicationFailure.create({
      type: INVALID_INPUT_ERROR_TYPE,
      message: `Invalid userGrants state: ${describeIssues(parsed.error)}`,
      nonRetryable: true,
    });
  }
  const { userId } = parsed.data;
  const grants: Grant[] = [...parsed.data.grants];

  // ---- handlers: registered before the first await ----
  wf.setHandler(listGrantsQuery, () => grants.map((grant) => ({ ...grant })));

  wf.setHandler(
    addGrantUpdate,
    (raw): Grant => {
      // The validator passed, so this parses; parsing again drops unknown fields.
      const request = AddGrantRequestSchema.parse(raw);
      const existing = grants.find((grant) => sameGrant(grant, request));
      if (existing) return { ...existing };
      const inBucket = grants.filter((grant) => sameBucket(grant, request)).length;
      if (inBucket >= MAX_GRANTS_PER_SCOPE) {
        throw wf.ApplicationFailure.create({
          type: GRANT_LIMIT_ERROR_TYPE,
          message:
            `Grant limit reached: user "${userId}" already has ${MAX_GRANTS_PER_SCOPE} ${bucketName(request)} grants; ` +
            `"${request.tool}" was not remembered (revoke a grant first)`,
          nonRetryable: true,
          details: [
            { limit: MAX_GRANTS_PER_SCOPE, scope: request.scope, conversationId: request.conversationId ?? null },
          ],
        });
      }
      const grant: Grant = {
        tool: request.tool,
        scope: request.scope,
        ...(request.scope === 'session' ? { conversationId: request.conversationId } : {}),
        grantedBy: request.grantedBy,
        grantedAt: new Date().toISOString(),
        runId: request.runId,
      };
      grants.push(grant);
      return { ...grant };
    },
    {
      validator: (raw) => {
        const checked = AddGrantRequestSchema.safeParse(raw);
        if (!checked.success) throw invalidGrant('grant', checked.error);
      },
    },
  );

  wf.setHandler(
    revokeGrantUpdate,
    (raw): RevokeGrantResult => {
      const request = RevokeGrantRequestSchema.parse(raw);
      const before = grants.length;
      for (let i = grants.length - 1; i >= 0; i -= 1) {
        if (sameGrant(grants[i]!, request)) grants.splice(i, 1);
      }
      return { revoked: before - grants.length };
    },
    {
      validator: (raw) => {
        const checked = RevokeGrantRequestSchema.safeParse(raw);
        if (!checked.success) throw invalidGrant('revocation', checked.error);
      },
    },
  );

  // Lives forever; hands its grants to a fresh run when Temporal says history has grown long.
  await wf.condition(() => wf.workflowInfo().continueAsNewSuggested);
  await wf.condition(wf.allHandlersFinished);
  return wf.continueAsNew<typeof userGrants>({ userId, grants });
}
