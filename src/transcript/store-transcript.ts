// The activities' side of "state outside history": they write message contents, tool results and large tool
// arguments to the content store and give the workflow references and previews; a model call reads the whole
// transcript from the store. Every write is idempotent (content-addressed puts, appends at a position), so a
// retried activity writes nothing twice.
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import {
  ASK_USER_QUESTION,
  ChatMessageSchema,
  describeIssues,
  INLINE_ARGUMENTS_CHARS,
  MAX_TOOL_RESULT_CHARS,
  previewText,
  MimeTypeSchema,
  StoredBinaryContentSchema,
  StoredMessageSchema,
  truncateToolResult,
  type AppendEntry,
  type ChatMessage,
  type MessagesPage,
  type ModelTurn,
  type BinaryContentType,
  type StoredBinaryContent,
  type StoredMessage,
  type StoredModelTurn,
  type StoredToolCall,
  type StoredToolResult,
  type ToolResult,
  type TranscriptCursor,
} from '../contracts';
import {
  ContentNotFound,
  ContentStoreError,
  TranscriptConflict,
  readTranscriptContents,
  type ClosingRuns,
  type ContentStore,
} from '../content-store';

/** `ApplicationFailure` type of a transcript the store cannot serve as the workflow expects (not retried). */
export const TRANSCRIPT_ERROR_TYPE = 'TranscriptUnavailable';

const ConversationSchema = z.array(ChatMessageSchema);

/** Content-store errors are deterministic: fail the activity without retries, naming the cause. */
function storeFailure(error: unknown): never {
  if (error instanceof ContentStoreError) {
    throw ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: true });
  }
  throw error;
}

/** Stores one message as a transcript entry; returns its reference. */
function putMessage(store: ContentStore, key: string, message: StoredMessage): Promise<string> {
  return store.put(key, JSON.stringify(message));
}

/** The references the entries stand for, in order (a staged conversation expands to its messages). */
async function entryRefs(store: ContentStore, cursor: TranscriptCursor): Promise<string[]> {
  const refs: string[] = [];
  for (const entry of cursor.append) refs.push(...(await refsOf(store, cursor, entry)));
  return refs;
}

async function refsOf(store: ContentStore, cursor: TranscriptCursor, entry: AppendEntry): Promise<string[]> {
  if ('ref' in entry) return [entry.ref];
  if ('message' in entry) return [await putMessage(store, cursor.key, entry.message)];
  // A conversation the client staged under the workflow id before the run started.
  const raw = await store.get(cursor.stagingKey, entry.conversationRef);
  let parsed: z.ZodSafeParseResult<ChatMessage[]>;
  try {
    parsed = ConversationSchema.safeParse(JSON.parse(raw));
  } catch (error) {
    throw ApplicationFailure.create({
      type: 'InvalidInput',
      message: `The staged conversation ${entry.conversationRef} is not JSON: ${String(error)}`,
      nonRetryable: true,
    });
  }
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: 'InvalidInput',
      message: `The staged conversation ${entry.conversationRef} is not a list of messages: ${describeIssues(parsed.error)}`,
      nonRetryable: true,
    });
  }
  return store.putMany(
    cursor.key,
    parsed.data.map((message) => JSON.stringify(message)),
  );
}

/**
 * Runs `attempt` on the cursor's transcript; when that transcript holds other entries than the run's past its
 * cursor (`TranscriptConflict`), forks it at the cursor into `forkKey` and runs `attempt` there. Those entries
 * are another branch of the run's history: a Temporal reset went back before them, and the run now goes on
 * differently. `forkKey` is a key of the run's own (`<workflowId>/<runId>`), so a stale attempt of another
 * run never writes into it. Returns the key the run goes on with when it changed.
 */
async function onOwnBranchIfConflict<T>(
  store: ContentStore,
  cursor: TranscriptCursor,
  forkKey: string | undefined,
  attempt: (cursor: TranscriptCursor) => Promise<T>,
): Promise<{ result: T; forkedTo?: string }> {
  try {
    return { result: await attempt(cursor) };
  } catch (error) {
    if (!(error instanceof TranscriptConflict) || forkKey === undefined || forkKey === cursor.key) throw error;
    await store.forkTranscript(cursor.key, forkKey, cursor.length);
    return { result: await attempt({ ...cursor, key: forkKey }), forkedTo: forkKey };
  }
}

/** What an append or a model call may say besides its result: the run's transcript moved to another key. */
export interface BranchOptions {
  /** Where to fork on a conflict (see {@link onOwnBranchIfConflict}); without it a conflict fails the call. */
  forkKey?: string;
}

/**
 * Appends what the cursor lists at its length; returns the position after those entries, and the run's new
 * transcript key if it had to fork. Not the store's length: when a retried model call finds more (its first
 * attempt's answer), that answer is at this position.
 */
export async function appendEntries(
  store: ContentStore,
  cursor: TranscriptCursor,
  options: BranchOptions = {},
): Promise<{ length: number; transcriptKey?: string }> {
  try {
    const { result, forkedTo } = await onOwnBranchIfConflict(store, cursor, options.forkKey, (on) =>
      appendAt(store, on),
    );
    return { length: result, ...(forkedTo !== undefined ? { transcriptKey: forkedTo } : {}) };
  } catch (error) {
    return storeFailure(error);
  }
}

async function appendAt(store: ContentStore, cursor: TranscriptCursor): Promise<number> {
  // New messages only (the common case: the user's turn): stored and appended in one commit.
  const messages = cursor.append.flatMap((entry) => ('message' in entry ? [entry.message] : []));
  if (messages.length > 0 && messages.length === cursor.append.length) {
    const stored = messages.map((message) => JSON.stringify(message));
    await store.putAndAppend(cursor.key, cursor.length, stored);
    return cursor.length + stored.length;
  }
  const refs = await entryRefs(store, cursor);
  if (refs.length > 0) await store.appendTranscript(cursor.key, cursor.length, refs);
  return cursor.length + refs.length;
}

/** Parses one stored transcript entry. */
function parseStoredMessage(raw: string, seq: number): StoredMessage {
  const parsed = StoredMessageSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: TRANSCRIPT_ERROR_TYPE,
      message: `Transcript entry ${seq} is not a message: ${describeIssues(parsed.error)}`,
      nonRetryable: true,
    });
  }
  return parsed.data;
}

/** A stored message as the model reads it (tool results cut to MAX_TOOL_RESULT_CHARS, as before the store). */
function forModel(message: StoredMessage): ChatMessage {
  if (message.role !== 'tool') return message;
  const { contentRef: _full, contentChars: _chars, ...toolMessage } = message;
  return { ...toolMessage, content: truncateToolResult(toolMessage.content) };
}

/** The whole transcript, as the model reads it. */
export async function readTranscriptForModel(store: ContentStore, key: string): Promise<ChatMessage[]> {
  const entries = await readTranscriptContents(store, key);
  return entries.map((entry) => forModel(parseStoredMessage(entry.content, entry.seq)));
}

/** What the workflow keeps of the model's answer: previews, and references for large arguments. */
async function storedTurn(
  store: ContentStore,
  key: string,
  turn: ModelTurn,
  transcriptLength: number,
): Promise<StoredModelTurn> {
  const calls: StoredToolCall[] = [];
  for (const call of turn.tool_calls ?? []) {
    const json = JSON.stringify(call.arguments);
    // The workflow reads a question's arguments itself (it pauses on them): they stay inline, bounded by the
    // model turn's own limits.
    if (json.length <= INLINE_ARGUMENTS_CHARS || call.name === ASK_USER_QUESTION) {
      calls.push(call);
    } else {
      const argumentsRef = await store.put(key, json);
      calls.push({ id: call.id, name: call.name, arguments: {}, argumentsRef, argumentsChars: json.length });
    }
  }
  const content = turn.content;
  return {
    ...(content !== undefined ? { content: previewText(content) } : {}),
    ...(content !== undefined && content.length > previewText(content).length ? { contentChars: content.length } : {}),
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
    transcriptLength,
  };
}

/** The stored form of message and reference entries, in order (a reference's content read from the store). */
async function rawEntries(store: ContentStore, cursor: TranscriptCursor): Promise<string[]> {
  const refs = cursor.append.flatMap((entry) => ('ref' in entry ? [entry.ref] : []));
  const contents = refs.length > 0 ? await store.getMany(cursor.key, refs) : [];
  let next = 0;
  return cursor.append.map((entry) => ('message' in entry ? JSON.stringify(entry.message) : contents[next++]!));
}

/** The assistant message of a model turn, as the transcript stores it. */
function assistantMessage(turn: ModelTurn): ChatMessage {
  return {
    role: 'assistant',
    ...(turn.content !== undefined ? { content: turn.content } : {}),
    ...(turn.tool_calls !== undefined && turn.tool_calls.length > 0 ? { tool_calls: turn.tool_calls } : {}),
  };
}

/**
 * The model call in one commit: when the cursor lists messages and references only (not a staged
 * conversation) and nothing past it is stored yet, the entries are appended together with the answer. The
 * model reads them as the store gives them back (a reference's content is stored already; storing it again is
 * a no-op that yields the same reference). Undefined when this does not apply: anything stored past the cursor
 * is an earlier attempt's, which the two-commit path reuses.
 */
async function askAndAppendAtOnce(
  store: ContentStore,
  cursor: TranscriptCursor,
  ask: (messages: ChatMessage[]) => Promise<ModelTurn>,
  closeIfFinal: ClosingRuns | undefined,
): Promise<ModelCallFromStore | undefined> {
  if (cursor.append.length === 0 || cursor.append.some((entry) => 'conversationRef' in entry)) return undefined;
  const stored = await readTranscriptForModel(store, cursor.key);
  if (stored.length !== cursor.length) return undefined;
  const raw = await rawEntries(store, cursor);
  // Parsed as the store would give them back, so the model sees what the two-commit path shows it.
  const turn = await ask([...stored, ...raw.map((entry, i) => forModel(parseStoredMessage(entry, stored.length + i)))]);
  const close = closingWith(turn, closeIfFinal);
  const after = await store.putAndAppend(
    cursor.key,
    cursor.length,
    [...raw, JSON.stringify(assistantMessage(turn))],
    close,
  );
  return { turn: await storedTurn(store, cursor.key, turn, after.length), closed: close !== undefined };
}

/** `closeIfFinal` when the turn is a final answer (no tool calls): the run ends with it. */
function closingWith(turn: ModelTurn, closeIfFinal: ClosingRuns | undefined): ClosingRuns | undefined {
  return (turn.tool_calls?.length ?? 0) === 0 ? closeIfFinal : undefined;
}

/** A model call's stored answer, and whether the run's content was closed with it. */
export interface ModelCallFromStore {
  turn: StoredModelTurn;
  closed: boolean;
}

/**
 * One model call of a run whose transcript is in the store: appends what the workflow lists, reads the
 * transcript, asks the model, appends its answer — in one commit when it can (`askAndAppendAtOnce`). A
 * retried attempt whose predecessor already appended an answer returns that answer instead of asking the
 * model again (the transcript has exactly one answer per position).
 */
export async function callModelFromStore(
  store: ContentStore,
  cursor: TranscriptCursor,
  ask: (messages: ChatMessage[]) => Promise<ModelTurn>,
  options: { closeIfFinal?: ClosingRuns } & BranchOptions = {},
): Promise<ModelCallFromStore> {
  try {
    const { result, forkedTo } = await onOwnBranchIfConflict(store, cursor, options.forkKey, (on) =>
      modelCall(store, on, ask, closingAlso(options.closeIfFinal, on.key)),
    );
    return forkedTo === undefined ? result : { ...result, turn: { ...result.turn, transcriptKey: forkedTo } };
  } catch (error) {
    return storeFailure(error);
  }
}

/** The runs to close with a final answer, and the key the answer goes to (a fork's). */
function closingAlso(close: ClosingRuns | undefined, key: string): ClosingRuns | undefined {
  return close === undefined || close.runIds.includes(key) ? close : { ...close, runIds: [...close.runIds, key] };
}

async function modelCall(
  store: ContentStore,
  cursor: TranscriptCursor,
  ask: (messages: ChatMessage[]) => Promise<ModelTurn>,
  closeIfFinal: ClosingRuns | undefined,
): Promise<ModelCallFromStore> {
  const atOnce = await askAndAppendAtOnce(store, cursor, ask, closeIfFinal);
  if (atOnce !== undefined) return atOnce;
  const length = await appendAt(store, cursor);
  const page = await store.readTranscript(cursor.key, { fromSeq: length, limit: 1 });
  const answered = page.entries[0];
  if (answered !== undefined) {
    const message = parseStoredMessage(await store.get(cursor.key, answered.ref), answered.seq);
    if (message.role === 'assistant') {
      const turn: ModelTurn = {
        ...(message.content !== undefined ? { content: message.content } : {}),
        ...(message.tool_calls !== undefined ? { tool_calls: message.tool_calls } : {}),
      };
      // An earlier attempt's answer, maybe closed with it, maybe not: the caller closes (idempotent).
      return { turn: await storedTurn(store, cursor.key, turn, answered.seq + 1), closed: false };
    }
  }
  const messages = await readTranscriptForModel(store, cursor.key);
  const turn = await ask(messages);
  const close = closingWith(turn, closeIfFinal);
  const after = await store.putAndAppend(cursor.key, length, [JSON.stringify(assistantMessage(turn))], close);
  return { turn: await storedTurn(store, cursor.key, turn, after.length), closed: close !== undefined };
}

/** The arguments of a call whose arguments the workflow holds by reference. */
export async function readArguments(store: ContentStore, key: string, ref: string): Promise<unknown> {
  try {
    return JSON.parse(await store.get(key, ref)) as unknown;
  } catch (error) {
    if (error instanceof ContentNotFound) return storeFailure(error);
    throw error;
  }
}

/**
 * Stores a tool's whole result as the tool message of the transcript (the model reads its first
 * MAX_TOOL_RESULT_CHARS; the whole result is kept once, by reference); returns what the workflow keeps. A
 * result that fits the workflow's preview is not stored here: the workflow holds all of it anyway, and the
 * next model call (or append) stores the message in its own commit, so the tool call costs no commit.
 */
export async function storeToolResult(
  store: ContentStore,
  key: string,
  call: { toolCallId: string; name: string },
  result: ToolResult,
): Promise<StoredToolResult> {
  try {
    const full = result.content;
    const preview = previewText(full);
    if (preview === full) return { status: result.status, content: full };
    const cut = full.length > MAX_TOOL_RESULT_CHARS;
    const message: StoredMessage = {
      role: 'tool',
      tool_call_id: call.toolCallId,
      name: call.name,
      status: result.status,
      content: cut ? truncateToolResult(full) : full,
      ...(cut ? { contentRef: await store.put(key, full), contentChars: full.length } : {}),
    };
    const messageRef = await putMessage(store, key, message);
    return { status: result.status, content: preview, contentChars: full.length, messageRef };
  } catch (error) {
    return storeFailure(error);
  }
}

/** A stored message with its full content (a tool result cut for the model is read back whole). */
export async function fullMessage(store: ContentStore, key: string, message: StoredMessage): Promise<ChatMessage> {
  if (message.role !== 'tool' || message.contentRef === undefined) return message;
  const { contentRef, contentChars: _chars, ...toolMessage } = message;
  return { ...toolMessage, content: await store.get(key, contentRef) };
}

/** Most messages one page of `readMessagesPage` returns. */
export const MAX_MESSAGES_PAGE = 500;

/**
 * Full messages of a run from position `fromSeq` on (at most `limit`), read from the store: what
 * `HitlClient.readMessages` and `GET /runs/{id}/messages` return. With `readableLength`, nothing at or past
 * that position is read (a reset run's key holds the branch the reset left after its own entries).
 */
export async function readMessagesPage(
  store: ContentStore,
  key: string,
  fromSeq: number,
  limit: number,
  readableLength?: number,
): Promise<MessagesPage> {
  const pageLimit = Math.min(Math.max(limit, 1), MAX_MESSAGES_PAGE);
  // Entries past the readable length are dropped below: read no more of them than the store needs to send (≥ 1).
  const read = await store.readTranscript(key, {
    fromSeq,
    limit: readableLength === undefined ? pageLimit : Math.min(pageLimit, Math.max(readableLength - fromSeq, 1)),
  });
  const page =
    readableLength === undefined
      ? read
      : {
          length: Math.min(read.length, readableLength),
          entries: read.entries.filter((entry) => entry.seq < readableLength),
        };
  const contents = await store.getMany(
    key,
    page.entries.map((entry) => entry.ref),
  );
  const messages: ChatMessage[] = [];
  for (const [index, entry] of page.entries.entries()) {
    messages.push(await fullMessage(store, key, parseStoredMessage(contents[index]!, entry.seq)));
  }
  return { messages, fromSeq, total: page.length, nextSeq: fromSeq + messages.length };
}

/** A binary block of a tool result, as the tool gave it (base64 `data`). */
export interface BinaryBlock {
  type: BinaryContentType;
  mimeType?: string;
  uri?: string;
  data: string;
}

/** How a stored binary block's JSON starts (`readBinaryContent` parses nothing else). */
const BINARY_PREFIX = '{"kind":"binary",';

/**
 * Keeps one binary block of a tool result in the store under a reference of its own (content-addressed: a
 * retried activity stores it once) and returns the reference. Throws what the store throws (e.g.
 * `ContentTooLarge`) and `InvalidBinaryContent` for data that is not base64.
 */
export async function storeBinaryContent(store: ContentStore, key: string, block: BinaryBlock): Promise<string> {
  const mimeType = MimeTypeSchema.safeParse(block.mimeType);
  const content: StoredBinaryContent = {
    kind: 'binary',
    type: block.type,
    mimeType: mimeType.success ? mimeType.data : 'application/octet-stream',
    ...(block.uri !== undefined ? { uri: block.uri.slice(0, 4096) } : {}),
    data: block.data,
  };
  const parsed = StoredBinaryContentSchema.safeParse(content);
  if (!parsed.success) throw new InvalidBinaryContent(describeIssues(parsed.error));
  const json = JSON.stringify(parsed.data);
  if (!json.startsWith(BINARY_PREFIX)) throw new InvalidBinaryContent('unexpected serialization');
  return store.put(key, json);
}

/** A binary block that cannot be kept (its data is not base64). */
export class InvalidBinaryContent extends Error {
  override readonly name = 'InvalidBinaryContent';
}

/**
 * The binary block `ref` of the transcript `key`; undefined when the run holds no content with that reference,
 * or the content there is not a binary block (a message, tool arguments…).
 */
export async function readBinaryContent(
  store: ContentStore,
  key: string,
  ref: string,
): Promise<StoredBinaryContent | undefined> {
  let raw: string;
  try {
    raw = await store.get(key, ref);
  } catch (error) {
    if (error instanceof ContentNotFound) return undefined;
    throw error;
  }
  if (!raw.startsWith(BINARY_PREFIX)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = StoredBinaryContentSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
