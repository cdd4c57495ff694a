import type { ResolveAgentRequest, ToolSpec } from './agents';
import type { LoadGrantsRequest } from './grants';
import type { ChatMessage, JsonObject, ModelTurn, ToolResult } from './messages';
import type { ModelConfig, RunConfig } from './run-input';
import type { StoredModelTurn, StoredToolResult, TranscriptCursor } from './transcript';

/** Argument of activity `callModel`. */
export interface CallModelRequest {
  runId: string;
  /** 0-based index of this model call in the run; the scripted provider returns `script[callIndex]`. */
  callIndex: number;
  model: ModelConfig;
  /**
   * The conversation so far (runs recorded before the content store). Runs that keep their transcript in the
   * store send `transcript` instead: the activity appends what it lists, reads the whole transcript from the
   * store, and appends the model's answer.
   */
  messages?: ChatMessage[];
  transcript?: TranscriptCursor;
  /** Names of the tools offered to the model. */
  tools: string[];
  /** The tools as pinned when an agent run started; without them the worker describes `tools` itself. */
  toolSpecs?: ToolSpec[];
  /**
   * Runs started with `run-features-v4` whose policy lets grants matter: when the turn calls tools, the worker
   * also reads this user's grants and returns those among the called tools (`CallModelResult.grants`), so the
   * run needs no `loadGrants` activity before its decision.
   */
  grantsFor?: LoadGrantsRequest;
  /**
   * Stored runs started with `run-features-v4`: a final answer (a turn without tool calls) also marks the
   * run's content closed (`CallModelResult.closed`), so the run needs no `closeTranscript` activity.
   */
  closeIfFinal?: boolean;
}

/**
 * What `callModel` returns: the turn (a `StoredModelTurn` with `transcript`), and what the request asked the
 * worker to do with it. Either extra is absent when the worker could not do it; the run then does it itself.
 */
export type CallModelResult = (ModelTurn | StoredModelTurn) & {
  /** With `grantsFor`: the called tools the user has granted for this conversation (or always). */
  grants?: string[];
  /** With `closeIfFinal`: the turn is a final answer and the run's content is marked closed. */
  closed?: true;
};

/** Argument of activity `executeTool`. */
export interface ExecuteToolRequest {
  runId: string;
  /** Whom the tool acts for: the sandbox file tools work in this user's folder only. */
  userId: string;
  conversationId: string;
  toolCallId: string;
  name: string;
  /** The arguments; `{}` when they are in the store (`argumentsRef`). */
  arguments: JsonObject;
  /** The arguments' content reference when the model's call was too large to keep in history. */
  argumentsRef?: string;
  /** Stable per run and tool call: a retried activity must not repeat the side effect. */
  idempotencyKey: string;
  /**
   * The run's content-store key: the activity stores the whole tool message there and returns a preview
   * and its reference (runs recorded before the content store omit it and get the result itself).
   */
  transcriptKey?: string;
  /**
   * The run pauses for an MCP server's `elicitation/create` during this call (signal `requestElicitation`);
   * without it (runs recorded before elicitation) such a request is answered `cancel` at once.
   */
  elicitation?: boolean;
}

/** Argument of activity `appendTranscript`: what the workflow still has to add to its transcript. */
export interface AppendTranscriptRequest {
  transcript: TranscriptCursor;
}

/**
 * Argument of activity `closeTranscript` (a local one in runs recorded before `run-features-v3`): the run ended;
 * retention may delete its content later.
 */
export interface CloseTranscriptRequest {
  /** The run's transcript key and its staging key. */
  keys: string[];
}

/** Argument of activity `checkToolArguments`: MCP calls of one model turn, checked before any pause. */
export interface CheckToolArgumentsRequest {
  /** The run's content-store key, to read arguments kept there (`argumentsRef`). */
  transcriptKey?: string;
  calls: {
    toolCallId: string;
    name: string;
    /** The tool's pinned JSON Schema. */
    inputSchema: JsonObject;
    arguments: JsonObject;
    argumentsRef?: string;
  }[];
}

/** The calls whose arguments do not fit their schema, by tool call id, with what is wrong. */
export interface CheckToolArgumentsResult {
  invalid: Record<string, string>;
}

/** The activity interface the workflow proxies (implemented in src/activities). */
export interface HitlActivities {
  /** A `ModelTurn`; with `transcript`, a `StoredModelTurn` (previews, references, the new length). */
  callModel(request: CallModelRequest): Promise<CallModelResult>;
  /** A `ToolResult`; with `transcriptKey`, a `StoredToolResult` (a preview and the stored message). */
  executeTool(request: ExecuteToolRequest): Promise<ToolResult | StoredToolResult>;
  /**
   * Appends `transcript.append` at `transcript.length` (idempotent); returns the new length, and the
   * transcript's new key when it had to fork (as `StoredModelTurn.transcriptKey`).
   */
  appendTranscript(request: AppendTranscriptRequest): Promise<{ length: number; transcriptKey?: string }>;
  closeTranscript(request: CloseTranscriptRequest): Promise<void>;
  /**
   * The effective configuration of an agent run, from the worker's configuration file (fails
   * non-retryable `InvalidInput` for an unknown agent or a provider this worker does not accept).
   */
  resolveAgentConfig(request: ResolveAgentRequest): Promise<RunConfig>;
  /** Checks MCP tool arguments against their input schemas (JSON Schema, with Ajv). */
  checkToolArguments(request: CheckToolArgumentsRequest): Promise<CheckToolArgumentsResult>;
}
