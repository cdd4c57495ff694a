import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { ElicitationRequest, ElicitationResponseState } from './elicitation';
import type { AddGrantRequest, Grant, RevokeGrantRequest, RevokeGrantResult } from './grants';
import type { PendingAction } from './pending-action';
import type { Resolution, ResolveResult } from './resolution';
import type { AwaitPendingActionRequest, AwaitPendingActionResult, RunState } from './run-state';

/** Workflow type of one generation run (wire). */
export const GENERATION_RUN_WORKFLOW = 'generationRun';
/** Default task queue (wire); `HITL_TASK_QUEUE` overrides it. */
export const DEFAULT_TASK_QUEUE = 'generation-runs';

export const getPendingActionQuery = defineQuery<PendingAction | null>('getPendingAction');
export const getRunStateQuery = defineQuery<RunState>('getRunState');
export const resolveActionUpdate = defineUpdate<ResolveResult, [Resolution]>('resolveAction');
export const resolveActionSignal = defineSignal<[Resolution]>('resolveAction');
/** Answered when the run pauses or ends: a wait for the pending action without polling (see the README). */
export const awaitPendingActionUpdate = defineUpdate<AwaitPendingActionResult, [AwaitPendingActionRequest | undefined]>(
  'awaitPendingAction',
);

/**
 * From the activity of an MCP tool call to its run: the server asks the user something (wire addition). The
 * run pauses with an `mcp_elicitation` action; the activity polls `getElicitationResponse` for the answer.
 */
export const requestElicitationSignal = defineSignal<[ElicitationRequest]>('requestElicitation');
export const getElicitationResponseQuery = defineQuery<ElicitationResponseState, [string]>('getElicitationResponse');

/** Search attributes registered on the namespace (wire). */
export const HitlStatus = defineSearchAttributeKey('HitlStatus', SearchAttributeType.KEYWORD);
export const HitlUserId = defineSearchAttributeKey('HitlUserId', SearchAttributeType.KEYWORD);
export const HitlConversationId = defineSearchAttributeKey('HitlConversationId', SearchAttributeType.KEYWORD);
export const HitlPendingTools = defineSearchAttributeKey('HitlPendingTools', SearchAttributeType.KEYWORD_LIST);
export const HitlExpiresAt = defineSearchAttributeKey('HitlExpiresAt', SearchAttributeType.DATETIME);

export const HITL_SEARCH_ATTRIBUTES = [
  HitlStatus,
  HitlUserId,
  HitlConversationId,
  HitlPendingTools,
  HitlExpiresAt,
] as const;

/** The per-user grants entity's messages (wire, workflow `userGrants`). */
export const addGrantUpdate = defineUpdate<Grant, [AddGrantRequest]>('addGrant');
export const revokeGrantUpdate = defineUpdate<RevokeGrantResult, [RevokeGrantRequest]>('revokeGrant');
export const listGrantsQuery = defineQuery<Grant[]>('listGrants');
