import type { ChatMessage, JsonObject, ModelTurn, ToolResult } from './messages';
import type { ModelConfig } from './run-input';

/** Argument of activity `callModel`. */
export interface CallModelRequest {
  runId: string;
  /** 0-based index of this model call in the run; the scripted provider returns `script[callIndex]`. */
  callIndex: number;
  model: ModelConfig;
  messages: ChatMessage[];
  /** Names of the tools offered to the model. */
  tools: string[];
}

/** Argument of activity `executeTool`. */
export interface ExecuteToolRequest {
  runId: string;
  toolCallId: string;
  name: string;
  arguments: JsonObject;
  /** Stable per run and tool call: a retried activity must not repeat the side effect. */
  idempotencyKey: string;
}

/** The activity interface the workflow proxies (implemented in src/activities). */
export interface HitlActivities {
  callModel(request: CallModelRequest): Promise<ModelTurn>;
  executeTool(request: ExecuteToolRequest): Promise<ToolResult>;
}
