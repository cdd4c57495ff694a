import { z } from 'zod';
import {
  AssistantMessageSchema,
  ChatMessageSchema,
  MAX_TOOL_CALLS_PER_TURN,
  SystemMessageSchema,
  ToolCallSchema,
  ToolMessageSchema,
  ToolResultStatusSchema,
  UserMessageSchema,
} from './messages';

// The transcript kept outside workflow history (DESIGN.md "State outside history"): the content store holds
// every message in full; the workflow, its queries, its result and its continue-as-new state hold
// references, positions and short previews only, so nothing that crosses a Temporal boundary grows with
// the conversation.

/** A content reference (`sha256:` + hex), as the content store returns it. */
export const ContentRefStringSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex digits>');

/** Largest conversation a run input may carry inline (JSON characters); a larger one is staged in the store. */
export const MAX_INLINE_CONVERSATION_CHARS = 256 * 1024;

/** A tool call as the workflow keeps it: large arguments stay in the store (`argumentsRef`), `arguments` is `{}`. */
export const StoredToolCallSchema = ToolCallSchema.extend({
  argumentsRef: ContentRefStringSchema.optional(),
  argumentsChars: z.number().int().nonnegative().optional(),
});
export type StoredToolCall = z.infer<typeof StoredToolCallSchema>;

/** Set when `content` is only the first MESSAGE_PREVIEW_CHARS: the full content's length. */
const PreviewFields = { contentChars: z.number().int().nonnegative().optional() };

/**
 * One message as the workflow shows it (`getRunState().messages`, the run result): a chat message whose
 * content may be a preview (`contentChars` then gives the full length) and whose large tool arguments may
 * be a reference. The full message is read from the content store by its position
 * (`HitlClient.readMessages`, `GET /runs/{id}/messages`); `messagesFrom` in the state is the first one's.
 */
export const TranscriptMessageSchema = z.discriminatedUnion('role', [
  SystemMessageSchema.extend(PreviewFields),
  UserMessageSchema.extend(PreviewFields),
  AssistantMessageSchema.extend({
    ...PreviewFields,
    tool_calls: z.array(StoredToolCallSchema).max(MAX_TOOL_CALLS_PER_TURN).optional(),
  }),
  ToolMessageSchema.extend(PreviewFields),
]);
export type TranscriptMessage = z.infer<typeof TranscriptMessageSchema>;

/**
 * A message as the content store keeps it (one transcript entry). A tool result longer than what goes to
 * the model is stored once in full (`contentRef`) and in the entry only as far as the model reads it.
 */
export const StoredMessageSchema = z.discriminatedUnion('role', [
  SystemMessageSchema,
  UserMessageSchema,
  AssistantMessageSchema,
  ToolMessageSchema.extend({
    /** The full result when `content` was cut for the model. */
    contentRef: ContentRefStringSchema.optional(),
    contentChars: z.number().int().nonnegative().optional(),
  }),
]);
export type StoredMessage = z.infer<typeof StoredMessageSchema>;

/**
 * What the workflow asks an activity to add to the transcript: a message it made itself (a blocked call,
 * an answer, a response — small, or bounded by the update that carried it), a message an activity already
 * stored (by reference), or a conversation the client staged in the store before the run started.
 */
export const AppendEntrySchema = z.union([
  z.object({ message: ChatMessageSchema }),
  z.object({ ref: ContentRefStringSchema }),
  z.object({ conversationRef: ContentRefStringSchema }),
]);
export type AppendEntry = z.infer<typeof AppendEntrySchema>;

/** The run's transcript as the workflow knows it: its store key, its length, and what is still to append. */
export const TranscriptCursorSchema = z.object({
  /**
   * Content-store key: `<workflowId>/<firstExecutionRunId>` (the same across continue-as-new), or the run's
   * own `<workflowId>/<runId>` once a reset made it fork (`StoredModelTurn.transcriptKey`).
   */
  key: z.string().min(1).max(1000),
  /** The workflow id, under which a client stages a conversation before the run starts. */
  stagingKey: z.string().min(1).max(1000),
  /** Entries already in the store. */
  length: z.number().int().nonnegative(),
  /** Appended at `length`, in order, before anything else. */
  append: z.array(AppendEntrySchema),
});
export type TranscriptCursor = z.infer<typeof TranscriptCursorSchema>;

/** What `callModelFromStore` returns: the assistant message, already appended to the transcript. */
export const StoredModelTurnSchema = z.object({
  /** The content, or its first MESSAGE_PREVIEW_CHARS when `contentChars` is set. */
  content: z.string().optional(),
  contentChars: z.number().int().nonnegative().optional(),
  tool_calls: z.array(StoredToolCallSchema).max(MAX_TOOL_CALLS_PER_TURN).optional(),
  /** The transcript's length afterwards (the assistant message is its last entry). */
  transcriptLength: z.number().int().nonnegative(),
  /**
   * Set when the transcript held another branch of the run past its cursor (the run was reset): the call
   * forked it to this key, and the run keeps its transcript there from now on.
   */
  transcriptKey: z.string().min(1).max(1000).optional(),
});
export type StoredModelTurn = z.infer<typeof StoredModelTurnSchema>;

/**
 * What `executeTool` returns to a run that keeps its transcript in the store: a result longer than
 * MESSAGE_PREVIEW_CHARS is stored as the tool message and the workflow keeps a preview (`contentChars`,
 * `messageRef`); a shorter one comes whole, without either, and the workflow appends the message itself.
 */
export const StoredToolResultSchema = z.object({
  status: ToolResultStatusSchema,
  /** The result, or its first MESSAGE_PREVIEW_CHARS when `contentChars` is set. */
  content: z.string(),
  contentChars: z.number().int().nonnegative().optional(),
  /** The stored tool message, to append to the transcript (absent: the result is whole in `content`). */
  messageRef: ContentRefStringSchema.optional(),
});
export type StoredToolResult = z.infer<typeof StoredToolResultSchema>;

/** A MIME type as `Content-Type` carries it: `type/subtype`, parameters allowed, at most 255 characters. */
export const MimeTypeSchema = z
  .string()
  .max(255)
  .regex(
    /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(?:[ \t]*;[ \t]*[A-Za-z0-9!#$&^_.+-]+=(?:[A-Za-z0-9!#$&^_.+-]+|"[^"\\\r\n]*"))*$/,
    'expected a MIME type such as image/png',
  );

/** What a binary block of a tool result is: an MCP image, audio, or an embedded resource with a blob. */
export const BinaryContentTypeSchema = z.enum(['image', 'audio', 'resource']);
export type BinaryContentType = z.infer<typeof BinaryContentTypeSchema>;

/**
 * A binary block of a tool result as a run keeps it in the content store, under a reference of its own (the
 * tool message names it: `[image image/png, 1234 bytes, content ref sha256:…]`). Read back with
 * `HitlClient.readContent` and `GET /runs/{id}/content/{ref}`.
 */
export const StoredBinaryContentSchema = z.object({
  kind: z.literal('binary'),
  type: BinaryContentTypeSchema,
  /** As the tool gave it; `application/octet-stream` when it gave none or one that is not a MIME type. */
  mimeType: MimeTypeSchema,
  /** The resource's URI (embedded resources). */
  uri: z.string().max(4096).optional(),
  /** The bytes, base64. */
  data: z.base64(),
});
export type StoredBinaryContent = z.infer<typeof StoredBinaryContentSchema>;

/** A page of full messages read from the store (`HitlClient.readMessages`, `GET /runs/{id}/messages`). */
export const MessagesPageSchema = z.object({
  /** Full messages from `fromSeq` on (the first has position `fromSeq`). */
  messages: z.array(ChatMessageSchema),
  fromSeq: z.number().int().nonnegative(),
  /** The transcript's length when read; `nextSeq` < `total` means there is more. */
  total: z.number().int().nonnegative(),
  nextSeq: z.number().int().nonnegative(),
});
export type MessagesPage = z.infer<typeof MessagesPageSchema>;
