// The product's search attributes, by name, for the shaped floor (the floor does not import the product).
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const status = defineSearchAttributeKey('HitlStatus', SearchAttributeType.KEYWORD);
export const pendingTools = defineSearchAttributeKey('HitlPendingTools', SearchAttributeType.KEYWORD_LIST);
export const expiresAt = defineSearchAttributeKey('HitlExpiresAt', SearchAttributeType.DATETIME);
const userId = defineSearchAttributeKey('HitlUserId', SearchAttributeType.KEYWORD);
const conversationId = defineSearchAttributeKey('HitlConversationId', SearchAttributeType.KEYWORD);

/** What the shaped floor is started with, as `HitlClient` starts a run. */
export function shapedStartAttributes(workflowId: string): SearchAttributePair[] {
  return [
    { key: userId, value: 'bench-user' },
    { key: conversationId, value: workflowId },
    { key: status, value: 'running' },
  ];
}
