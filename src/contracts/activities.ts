import type { ResolveAgentRequest, ToolSpec } from './agents';
import type { ChatMessage, JsonObject, ModelTurn, ToolResult } from './messages';
import type { ModelConfig, RunConfig } from './run-input';

/** Argument of activity `callModel`. */
export interface CallModelRequest {
  runId: string;
  /** 0-based index of this model call in the run; the scripted provider returns `script[callIndex]`. */
  callIndex: number;
  model: ModelConfig;
  messages: ChatMessage[];
  /** Names of the tools offered to the model. */
  tools: string[];
  /** The tools as pinned when an agent run started; without them the worker describes `tools` itself. */
  toolSpecs?: ToolSpec[];
}

/** Argument of activity `executeTool`. */
export interface ExecuteToolRequest {
  runId: string;
  /** Whom the tool acts for: the sandbox file tools work in this user's folder only. */
  userId: string;
  conversationId: string;
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
  /**
   * The effective configuration of an agent run, from the worker's configuration file (fails
   * non-retryable `InvalidInput` for an unknown agent or a provider this worker does not accept).
   */
  resolveAgentConfig(request: ResolveAgentRequest): Promise<RunConfig>;
}
