import { createOpenAICompatible, type OpenAICompatibleProvider } from '@ai-sdk/openai-compatible';
import { ApplicationFailure } from '@temporalio/common';
import {
  generateText,
  jsonSchema,
  stepCountIs,
  tool,
  type AssistantModelMessage,
  type JSONSchema7,
  type ModelMessage,
  type ToolModelMessage,
  type ToolSet,
} from 'ai';
import {
  describeIssues,
  ModelTurnSchema,
  type CallModelRequest,
  type ChatMessage,
  type JsonObject,
  type ModelConfig,
  type ModelTurn,
  type ToolCall,
  type ToolSpec,
} from '../../contracts';
import type { ActivitiesConfig } from '../config';
import { INVALID_ARGUMENTS_KEY, type ToolRegistry } from '../tools/registry';
import { toolSpecsOf } from '../tools/specs';
import { ModelErrorType, toModelFailure } from './errors';

export type OpenAICompatibleModelConfig = Extract<ModelConfig, { provider: 'openai-compatible' }>;

/** Where an endpoint is: the environment's (`HITL_MODEL_*`) or one of the configuration file's `providers`. */
export type EndpointSettings = ActivitiesConfig['model'] & {
  /** Extra request headers (values already taken from the environment). */
  headers?: Record<string, string>;
  /** How the endpoint is named in messages: `HITL_MODEL_BASE_URL`, or `providers.openai (hitl.config.yaml)`. */
  label?: string;
};

export interface ModelCallOptions {
  /** Aborts the HTTP request (activity cancellation). */
  signal?: AbortSignal;
}

const DEFAULT_PROVIDER_NAME = 'openai-compatible';

/**
 * A model behind any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, LiteLLM…),
 * called through the AI SDK for exactly one step: the tools are offered without `execute`, so the
 * SDK only returns the calls and the workflow decides (policy, approval) whether they run.
 *
 * The AI SDK does not retry (`maxRetries: 0`); failures become `ApplicationFailure`s that tell
 * Temporal whether a retry can help and when (`Retry-After` → `nextRetryDelay`; see `toModelFailure`).
 * The key never leaves this object.
 */
export class OpenAICompatibleModel {
  readonly #settings: EndpointSettings;
  readonly #registry: ToolRegistry;
  #provider: OpenAICompatibleProvider | undefined;

  constructor(settings: EndpointSettings, registry: ToolRegistry) {
    this.#settings = settings;
    this.#registry = registry;
  }

  async call(
    request: CallModelRequest,
    model: OpenAICompatibleModelConfig,
    options: ModelCallOptions = {},
  ): Promise<ModelTurn> {
    const provider = this.#getProvider();
    const modelName = model.model ?? this.#settings.defaultModel;
    if (modelName === undefined) {
      throw ApplicationFailure.nonRetryable(
        this.#settings.label
          ? `No model name for ${this.#settings.label}: set the agent's model.model or the provider's defaultModel`
          : 'No model name for provider "openai-compatible": set HITL_MODEL_NAME on the worker or model.model in the run input',
        ModelErrorType.NotConfigured,
      );
    }
    const tools = this.#toolSet(request.toolSpecs ?? toolSpecsOf(this.#registry, request.tools));
    let result: Awaited<ReturnType<typeof generateText<ToolSet>>>;
    try {
      result = await generateText({
        model: provider.chatModel(modelName),
        messages: toModelMessages(request.messages ?? []),
        allowSystemInMessages: true,
        tools,
        toolChoice: tools === undefined ? undefined : 'auto',
        stopWhen: stepCountIs(1),
        maxRetries: 0,
        temperature: model.temperature,
        maxOutputTokens: model.maxOutputTokens,
        abortSignal: options.signal,
      });
    } catch (error) {
      // Cancelled activity: let the abort reason through so the worker reports a cancellation.
      if (options.signal?.aborted === true) throw error;
      throw toModelFailure(error, this.#settings.apiKey, { label: this.#settings.label });
    }
    return toModelTurn(
      result.text,
      result.toolCalls.map((call) => ({
        toolCallId: call.toolCallId,
        toolName: call.toolName,
        input: call.input as unknown,
      })),
    );
  }

  #getProvider(): OpenAICompatibleProvider {
    if (this.#provider) return this.#provider;
    const { baseUrl, apiKey, providerName, headers } = this.#settings;
    if (baseUrl === undefined) {
      throw ApplicationFailure.nonRetryable(
        'Provider "openai-compatible" is not configured on this worker: set HITL_MODEL_BASE_URL (and HITL_MODEL_API_KEY if the endpoint needs one)',
        ModelErrorType.NotConfigured,
      );
    }
    this.#provider = createOpenAICompatible({
      baseURL: baseUrl,
      name: providerName ?? DEFAULT_PROVIDER_NAME,
      apiKey: apiKey?.reveal(),
      ...(headers !== undefined ? { headers } : {}),
    });
    return this.#provider;
  }

  /** The tools as the model sees them (pinned specs, or the registry's), without `execute`. */
  #toolSet(descriptions: readonly Pick<ToolSpec, 'name' | 'description' | 'inputSchema'>[]): ToolSet | undefined {
    if (descriptions.length === 0) return undefined;
    const tools: ToolSet = {};
    for (const description of descriptions) {
      // A plain JSON schema (no validator): the SDK hands back the model's arguments as they are,
      // and the registry is the one place that validates them (after approval, with edits applied).
      tools[description.name] = tool({
        description: description.description,
        inputSchema: jsonSchema<unknown>(description.inputSchema as JSONSchema7),
      });
    }
    return tools;
  }
}

/** Our transcript as AI SDK messages: tool calls and tool results become typed parts. */
export function toModelMessages(messages: readonly ChatMessage[]): ModelMessage[] {
  const out: ModelMessage[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'user':
        out.push({ role: message.role, content: message.content });
        break;
      case 'assistant': {
        const calls = message.tool_calls ?? [];
        if (calls.length === 0) {
          out.push({ role: 'assistant', content: message.content ?? '' });
          break;
        }
        const content: Exclude<AssistantModelMessage['content'], string> = [];
        if (message.content) content.push({ type: 'text', text: message.content });
        for (const call of calls) {
          content.push({ type: 'tool-call', toolCallId: call.id, toolName: call.name, input: call.arguments });
        }
        out.push({ role: 'assistant', content });
        break;
      }
      case 'tool': {
        const part: ToolModelMessage['content'][number] = {
          type: 'tool-result',
          toolCallId: message.tool_call_id,
          toolName: message.name,
          output:
            message.status === 'error'
              ? { type: 'error-text', value: message.content }
              : { type: 'text', value: message.content },
        };
        const previous = out.at(-1);
        // Results of one assistant turn travel together, as one tool message.
        if (previous?.role === 'tool') previous.content.push(part);
        else out.push({ role: 'tool', content: [part] });
        break;
      }
    }
  }
  return out;
}

export interface RawToolCall {
  toolCallId: string;
  toolName: string;
  input: unknown;
}

/**
 * The SDK's answer as a `ModelTurn`. Arguments that are not a JSON object (broken JSON from the
 * model) are kept as `{ [INVALID_ARGUMENTS_KEY]: raw }` so the registry refuses them. A turn that
 * still does not validate (e.g. duplicate ids) is a retryable `InvalidModelResponse`.
 */
export function toModelTurn(text: string, toolCalls: readonly RawToolCall[]): ModelTurn {
  const calls: ToolCall[] = toolCalls.map((call) => ({
    id: call.toolCallId,
    name: call.toolName,
    arguments: toArguments(call.input),
  }));
  const turn: ModelTurn = calls.length > 0 ? { content: text || undefined, tool_calls: calls } : { content: text };
  if (turn.content === undefined) delete turn.content;
  const parsed = ModelTurnSchema.safeParse(turn);
  if (!parsed.success) {
    throw ApplicationFailure.retryable(
      `The model returned an invalid turn: ${describeIssues(parsed.error)}`,
      ModelErrorType.InvalidResponse,
    );
  }
  return parsed.data;
}

function toArguments(input: unknown): JsonObject {
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) return input as JsonObject;
  if (input === undefined) return {};
  return { [INVALID_ARGUMENTS_KEY]: typeof input === 'string' ? input : JSON.stringify(input) };
}
