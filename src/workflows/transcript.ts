// The run's transcript as workflow code holds it. Runs recorded before the content store keep every message
// (`inline`); newer runs keep the store's length, the entries still to append, and a short window of the
// latest messages as previews (`stored`), so nothing the workflow sends, answers or carries grows with the
// conversation. Pure and deterministic: the activities do the reading and writing.
import { INLINE_ARGUMENTS_CHARS, previewText, RECENT_MESSAGES } from '../contracts/values';
import type {
  AppendEntry,
  ChatMessage,
  ContinuedState,
  ModelTurn,
  StagedConversation,
  StoredModelTurn,
  StoredToolCall,
  ToolOutcome,
  TranscriptCursor,
  TranscriptMessage,
  TranscriptState,
} from '../contracts';

/** What the queries and the run result show of the transcript. */
export interface TranscriptView {
  messages: TranscriptMessage[];
  messagesFrom?: number;
  messagesTotal?: number;
}

/** A message as the window shows it: long content previewed, large arguments left out. */
function previewMessage(message: TranscriptMessage): TranscriptMessage {
  const shown: TranscriptMessage = { ...message };
  const content = message.content;
  if (content !== undefined && content.length > previewText(content).length) {
    shown.content = previewText(content);
    shown.contentChars = message.contentChars ?? content.length;
  }
  if (shown.role === 'assistant' && shown.tool_calls !== undefined) {
    shown.tool_calls = shown.tool_calls.map((call): StoredToolCall => {
      if (call.argumentsRef !== undefined || call.argumentsChars !== undefined) return call;
      const chars = JSON.stringify(call.arguments).length;
      return chars <= INLINE_ARGUMENTS_CHARS ? call : { ...call, arguments: {}, argumentsChars: chars };
    });
  }
  return shown;
}

/** A tool outcome as the transcript's message (without the workflow's bookkeeping). */
function toolMessageOf(outcome: ToolOutcome): ChatMessage {
  const { messageRef: _ref, contentChars: _chars, ...message } = outcome;
  return message;
}

export class WorkflowTranscript {
  /** inline: the whole transcript; stored: the latest RECENT_MESSAGES, previewed. */
  #messages: TranscriptMessage[];
  #length = 0;
  #append: AppendEntry[] = [];
  #total = 0;

  private constructor(
    readonly stored: boolean,
    messages: TranscriptMessage[],
  ) {
    this.#messages = messages;
  }

  /** A run recorded before the content store: every message in the workflow. */
  static inline(messages: readonly ChatMessage[]): WorkflowTranscript {
    return new WorkflowTranscript(false, [...messages]);
  }

  /** A new run (or one continued from an inline run) that keeps its transcript in the store. */
  static stored(): WorkflowTranscript {
    return new WorkflowTranscript(true, []);
  }

  /** A run continued from one that kept its transcript in the store. */
  static restored(messages: readonly TranscriptMessage[], state: TranscriptState): WorkflowTranscript {
    const transcript = new WorkflowTranscript(true, messages.slice(-RECENT_MESSAGES));
    transcript.#length = state.length;
    transcript.#append = [...state.append];
    transcript.#total = state.total;
    return transcript;
  }

  /** Adds a message the workflow has (from the input, a decision, a blocked call). */
  add(message: ChatMessage): void {
    if (!this.stored) {
      this.#messages.push(message);
      return;
    }
    this.#append.push({ message });
    this.#show(previewMessage(message));
  }

  /** Adds a conversation the client staged in the store. */
  addStaged(staged: StagedConversation): void {
    this.#append.push({ conversationRef: staged.ref });
    this.#total += staged.count;
  }

  /** Puts the agent's instructions first (before any model call, so before anything is appended). */
  addInstructions(content: string): void {
    const system: ChatMessage = { role: 'system', content };
    if (!this.stored) {
      this.#messages.unshift(system);
      return;
    }
    this.#append.unshift({ message: system });
    this.#messages.unshift(previewMessage(system));
    this.#messages = this.#messages.slice(-RECENT_MESSAGES);
    this.#total += 1;
  }

  /** Adds a tool outcome: by reference when an activity stored it. */
  addToolOutcome(outcome: ToolOutcome): void {
    if (!this.stored) {
      this.#messages.push(toolMessageOf(outcome));
      return;
    }
    this.#append.push(
      outcome.messageRef !== undefined ? { ref: outcome.messageRef } : { message: toolMessageOf(outcome) },
    );
    const { messageRef: _ref, ...shown } = outcome;
    this.#show(previewMessage(shown));
  }

  /** Records the model's answer. A stored run's model call appended it (and everything before it) already. */
  addModelTurn(turn: ModelTurn | StoredModelTurn): void {
    const calls = turn.tool_calls ?? [];
    const message: TranscriptMessage = {
      role: 'assistant',
      ...(turn.content !== undefined ? { content: turn.content } : {}),
      ...('contentChars' in turn && turn.contentChars !== undefined ? { contentChars: turn.contentChars } : {}),
      ...(calls.length > 0 ? { tool_calls: calls } : {}),
    };
    if (!this.stored) {
      this.#messages.push(message);
      return;
    }
    this.#show(previewMessage(message));
    if ('transcriptLength' in turn) {
      this.#length = turn.transcriptLength;
      this.#total = turn.transcriptLength;
      this.#append = [];
    }
  }

  /** What a stored run's next activity appends first. */
  cursor(key: string, stagingKey: string): TranscriptCursor {
    return { key, stagingKey, length: this.#length, append: [...this.#append] };
  }

  /** How many entries the store holds for this run (what its activities appended). */
  get storedLength(): number {
    return this.#length;
  }

  /** Entries not yet in the store. */
  get unappended(): number {
    return this.#append.length;
  }

  /** After an activity appended everything the cursor listed. */
  appended(length: number): void {
    this.#length = length;
    this.#total = Math.max(this.#total, length);
    this.#append = [];
  }

  /** The whole transcript of an inline run (what its model calls send). */
  get messages(): ChatMessage[] {
    return this.#messages;
  }

  view(): TranscriptView {
    if (!this.stored) return { messages: this.#messages };
    return {
      messages: this.#messages,
      messagesFrom: Math.max(0, this.#total - this.#messages.length),
      messagesTotal: this.#total,
    };
  }

  /** What continue-as-new carries; `key` when the transcript is not under the chain's key (it forked). */
  continued(key?: string): Pick<ContinuedState, 'messages' | 'transcript'> {
    if (!this.stored) return { messages: this.#messages };
    return {
      messages: this.#messages,
      transcript: {
        length: this.#length,
        append: [...this.#append],
        total: this.#total,
        ...(key !== undefined ? { key } : {}),
      },
    };
  }

  #show(message: TranscriptMessage): void {
    this.#messages.push(message);
    if (this.#messages.length > RECENT_MESSAGES) this.#messages.shift();
    this.#total += 1;
  }
}
