// The userGrants entity: one long-lived workflow per user (id `hitl-grants/<userId>`) holding the
// user's remembered approvals. Deterministic, no activities and no timers: updates add and revoke, a
// query lists, and continue-as-new keeps its history short. What it carries is bounded: session grants
// of idle conversations, revocations (tombstones) and remembered update answers are pruned with
// workflow time whenever the state changes (start, add, revoke, before continue-as-new). Pruning issues
// no commands, so histories written before it existed replay unchanged.
import * as wf from '@temporalio/workflow';
import type { z } from 'zod';
import type {
  AddGrantRequest,
  Grant,
  GrantRetention,
  GrantRevocation,
  GrantScope,
  GrantWrite,
  RevokeGrantResult,
  UserGrantsState,
} from '../contracts/grants';
import { addGrantUpdate, listGrantsQuery, revokeGrantUpdate } from '../contracts/temporal';
import {
  GRANT_LIMIT_ERROR_TYPE,
  GRANT_RETENTION_DEFAULTS,
  GRANT_REVOKED_ERROR_TYPE,
  GRANT_WRITE_MEMORY_MS,
  INVALID_GRANT_ERROR_TYPE,
  INVALID_INPUT_ERROR_TYPE,
  MAX_GRANTS_PER_SCOPE,
  MAX_REMEMBERED_GRANT_WRITES,
} from '../contracts/values';
import { zodContracts } from './zod-contracts';

interface GrantIdentity {
  tool: string;
  scope: GrantScope;
  conversationId?: string | undefined;
}

type RetentionLimits = { -readonly [K in keyof typeof GRANT_RETENTION_DEFAULTS]: number };

/** Grants in the same bucket count against the same limit: `always`, or `session` of one conversation. */
function sameBucket(a: GrantIdentity, b: GrantIdentity): boolean {
  return a.scope === b.scope && (a.scope === 'always' || a.conversationId === b.conversationId);
}

function sameGrant(a: GrantIdentity, b: GrantIdentity): boolean {
  return a.tool === b.tool && sameBucket(a, b);
}

/**
 * Grants are kept per grantor (a run counts only the grants of its own approvers, so one approver's grant of a
 * tool must not stand in for another's). Entities recorded before kept the first grant of a tool and answered
 * later ones with it; they still do, so their histories replay.
 */
export const GRANTS_PER_GRANTOR_PATCH = 'grants-per-grantor';

function bucketName(grant: GrantIdentity): string {
  return grant.scope === 'always' ? '"always"' : `"session" of conversation "${grant.conversationId}"`;
}

function invalidGrant(what: string, error: z.ZodError): wf.ApplicationFailure {
  return wf.ApplicationFailure.create({
    type: INVALID_GRANT_ERROR_TYPE,
    message: `Invalid ${what}: ${zodContracts().describeIssues(error)}`,
    nonRetryable: true,
  });
}

/** The defaults, with the state's overrides (only those it sets). */
function retentionLimits(overrides: GrantRetention | undefined): RetentionLimits {
  const limits: RetentionLimits = { ...GRANT_RETENTION_DEFAULTS };
  for (const key of Object.keys(limits) as (keyof RetentionLimits)[]) {
    const value = overrides?.[key];
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}

export async function userGrants(state?: UserGrantsState): Promise<never> {
  const info = wf.workflowInfo();
  // Started without state (e.g. by hand from the CLI): the user is the one the workflow id names.
  const initial = state ?? { userId: info.workflowId.replace(/^hitl-grants\//, ''), grants: [] };
  const parsed = zodContracts().UserGrantsStateSchema.safeParse(initial);
  if (!parsed.success) {
    throw wf.ApplicationFailure.create({
      type: INVALID_INPUT_ERROR_TYPE,
      message: `Invalid userGrants state: ${zodContracts().describeIssues(parsed.error)}`,
      nonRetryable: true,
    });
  }
  const { userId, retention } = parsed.data;
  const limits = retentionLimits(retention);
  const grants: Grant[] = [...parsed.data.grants];
  const revocations: GrantRevocation[] = [...(parsed.data.revocations ?? [])];
  let revocationsForgottenUntil = parsed.data.revocationsForgottenUntil;
  const recentWrites: GrantWrite[] = [...(parsed.data.recentWrites ?? [])];

  function forgetRevocation(index: number): void {
    const [forgotten] = revocations.splice(index, 1);
    if (!forgotten) return;
    if (
      revocationsForgottenUntil === undefined ||
      Date.parse(forgotten.revokedAt) > Date.parse(revocationsForgottenUntil)
    )
      revocationsForgottenUntil = forgotten.revokedAt;
  }

  /**
   * Drops what the entity no longer needs at workflow time `now`: session grants of conversations idle
   * for longer than `sessionIdleMs`, then the longest idle conversations beyond `maxSessionConversations`
   * or `maxSessionGrants` (never `keepConversation`, the one just written), revocations older than
   * `revocationRetentionMs` or beyond `maxRevocations`, and remembered update answers. Deterministic and
   * command-free.
   */
  function prune(now: number, keepConversation?: string): void {
    // A conversation's last write is its newest session grant; the map keeps first-appearance order.
    const lastWrite = new Map<string, number>();
    const sessionCount = new Map<string, number>();
    for (const grant of grants) {
      if (grant.scope !== 'session' || grant.conversationId === undefined) continue;
      const at = Date.parse(grant.grantedAt);
      lastWrite.set(grant.conversationId, Math.max(lastWrite.get(grant.conversationId) ?? at, at));
      sessionCount.set(grant.conversationId, (sessionCount.get(grant.conversationId) ?? 0) + 1);
    }
    const dropped = new Set<string>();
    for (const [conversationId, at] of lastWrite) {
      if (conversationId !== keepConversation && now - at > limits.sessionIdleMs) dropped.add(conversationId);
    }
    // Longest idle first (a stable sort: equal times keep first-appearance order).
    const live = [...lastWrite].filter(([id]) => !dropped.has(id)).sort((a, b) => a[1] - b[1]);
    let conversations = live.length;
    let sessionGrants = live.reduce((sum, [id]) => sum + (sessionCount.get(id) ?? 0), 0);
    for (const [conversationId] of live) {
      if (conversations <= limits.maxSessionConversations && sessionGrants <= limits.maxSessionGrants) break;
      if (conversationId === keepConversation) continue;
      dropped.add(conversationId);
      conversations -= 1;
      sessionGrants -= sessionCount.get(conversationId) ?? 0;
    }
    if (dropped.size > 0) {
      for (let i = grants.length - 1; i >= 0; i -= 1) {
        const grant = grants[i]!;
        if (grant.scope === 'session' && grant.conversationId !== undefined && dropped.has(grant.conversationId))
          grants.splice(i, 1);
      }
    }

    for (let i = revocations.length - 1; i >= 0; i -= 1) {
      if (now - Date.parse(revocations[i]!.revokedAt) > limits.revocationRetentionMs) forgetRevocation(i);
    }
    while (revocations.length > limits.maxRevocations) forgetRevocation(0);

    for (let i = recentWrites.length - 1; i >= 0; i -= 1) {
      if (now - Date.parse(recentWrites[i]!.at) > GRANT_WRITE_MEMORY_MS) recentWrites.splice(i, 1);
    }
    if (recentWrites.length > MAX_REMEMBERED_GRANT_WRITES)
      recentWrites.splice(0, recentWrites.length - MAX_REMEMBERED_GRANT_WRITES);
  }

  /** Why an approval made at `request.approvedAt` may no longer be written; undefined when it may. */
  function revokedSinceApproval(request: AddGrantRequest): wf.ApplicationFailure | undefined {
    if (request.approvedAt === undefined) return undefined;
    const approvedAt = Date.parse(request.approvedAt);
    const revocation = revocations.find(
      (candidate) => sameGrant(candidate, request) && Date.parse(candidate.revokedAt) >= approvedAt,
    );
    const forgotten =
      revocationsForgottenUntil !== undefined && approvedAt <= Date.parse(revocationsForgottenUntil)
        ? revocationsForgottenUntil
        : undefined;
    if (!revocation && forgotten === undefined) return undefined;
    const revokedAt = revocation?.revokedAt ?? forgotten!;
    return wf.ApplicationFailure.create({
      type: GRANT_REVOKED_ERROR_TYPE,
      message: revocation
        ? `Grant revoked: the ${bucketName(request)} grant of "${request.tool}" was revoked at ${revokedAt}, at or ` +
          `after the approval at ${request.approvedAt}; it was not remembered`
        : `Grant revoked: the approval at ${request.approvedAt} predates revocations of user "${userId}" that are ` +
          `no longer remembered (up to ${revokedAt}); "${request.tool}" was not remembered`,
      nonRetryable: true,
      details: [
        {
          tool: request.tool,
          scope: request.scope,
          conversationId: request.conversationId ?? null,
          approvedAt: request.approvedAt,
          revokedAt,
        },
      ],
    });
  }

  function rememberWrite(grant: Grant, now: number): void {
    const updateId = wf.currentUpdateInfo()?.id;
    if (updateId === undefined) return;
    recentWrites.push({ updateId, at: new Date(now).toISOString(), grant: { ...grant } });
    if (recentWrites.length > MAX_REMEMBERED_GRANT_WRITES) recentWrites.shift();
  }

  prune(Date.now());

  // ---- handlers: registered before the first await ----
  wf.setHandler(listGrantsQuery, () => grants.map((grant) => ({ ...grant })));

  wf.setHandler(
    addGrantUpdate,
    (raw): Grant => {
      // The validator passed, so this parses; parsing again drops unknown fields.
      const request = zodContracts().AddGrantRequestSchema.parse(raw);
      // The same update id again (a retried recordGrant after continue-as-new): the first answer, no write.
      const updateId = wf.currentUpdateInfo()?.id;
      const answered = updateId !== undefined ? recentWrites.find((write) => write.updateId === updateId) : undefined;
      if (answered) return { ...answered.grant };

      const now = Date.now();
      prune(now);
      const revoked = revokedSinceApproval(request);
      if (revoked) throw revoked;
      const sameTool = grants.filter((grant) => sameGrant(grant, request));
      const existing =
        sameTool.find((grant) => grant.grantedBy === request.grantedBy) ??
        (sameTool.length > 0 && !wf.patched(GRANTS_PER_GRANTOR_PATCH) ? sameTool[0] : undefined);
      if (existing) {
        rememberWrite(existing, now);
        return { ...existing };
      }
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
        grantedAt: new Date(now).toISOString(),
        runId: request.runId,
      };
      grants.push(grant);
      rememberWrite(grant, now);
      // The caps, now that this conversation has one more; it is the newest, so it stays.
      prune(now, grant.scope === 'session' ? grant.conversationId : undefined);
      return { ...grant };
    },
    {
      validator: (raw) => {
        const checked = zodContracts().AddGrantRequestSchema.safeParse(raw);
        if (!checked.success) throw invalidGrant('grant', checked.error);
      },
    },
  );

  wf.setHandler(
    revokeGrantUpdate,
    (raw): RevokeGrantResult => {
      const request = zodContracts().RevokeGrantRequestSchema.parse(raw);
      const now = Date.now();
      const before = grants.length;
      for (let i = grants.length - 1; i >= 0; i -= 1) {
        if (sameGrant(grants[i]!, request)) grants.splice(i, 1);
      }
      const revoked = before - grants.length;
      // A tombstone even when nothing was removed: the approved call may still be running, its grant unwritten.
      for (let i = revocations.length - 1; i >= 0; i -= 1) {
        if (sameGrant(revocations[i]!, request)) revocations.splice(i, 1);
      }
      revocations.push({
        tool: request.tool,
        scope: request.scope,
        ...(request.scope === 'session' ? { conversationId: request.conversationId } : {}),
        revokedAt: new Date(now).toISOString(),
      });
      prune(now);
      return { revoked };
    },
    {
      validator: (raw) => {
        const checked = zodContracts().RevokeGrantRequestSchema.safeParse(raw);
        if (!checked.success) throw invalidGrant('revocation', checked.error);
      },
    },
  );

  // Lives forever; hands its state to a fresh run when Temporal says history has grown long.
  await wf.condition(() => wf.workflowInfo().continueAsNewSuggested);
  await wf.condition(wf.allHandlersFinished);
  prune(Date.now());
  return wf.continueAsNew<typeof userGrants>(carriedState());

  function carriedState(): UserGrantsState {
    return {
      userId,
      grants,
      revocations,
      ...(revocationsForgottenUntil !== undefined ? { revocationsForgottenUntil } : {}),
      recentWrites,
      ...(retention !== undefined ? { retention } : {}),
    };
  }
}
