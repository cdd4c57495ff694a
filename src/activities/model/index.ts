import { ApplicationFailure } from '@temporalio/common';
import type { CallModelRequest, ModelTurn } from '../../contracts';
import { scriptedDisabledMessage, type AgentConfigSource } from '../../agent-config';
import type { ActivitiesConfig } from '../config';
import type { ToolRegistry } from '../tools/registry';
import { ModelEndpoints } from './endpoints';
import type { ModelCallOptions } from './openai-compatible';
import { callScriptedModel } from './scripted';
import { ModelErrorType } from './errors';

export {
  ModelErrorType,
  retryAfterMsFromHeaders,
  RETRY_AFTER_MAX_MS,
  RETRY_AFTER_MIN_MS,
  toModelFailure,
  type ModelFailureContext,
  type ModelFailureDetails,
} from './errors';
export { expandEnv, ModelEndpoints, providerSettings } from './endpoints';
export { callScriptedModel, SCRIPT_EXHAUSTED_TURN, type ScriptedModelConfig } from './scripted';
export {
  OpenAICompatibleModel,
  toModelMessages,
  toModelTurn,
  type ModelCallOptions,
  type OpenAICompatibleModelConfig,
  type RawToolCall,
} from './openai-compatible';

export type CallModelFn = (request: CallModelRequest, options?: ModelCallOptions) => Promise<ModelTurn>;

/** `ApplicationFailure.type` that fails the whole run as invalid input (the workflow passes it on). */
const INVALID_INPUT = 'InvalidInput';

/**
 * One entry point for every provider, chosen by `request.model.provider` (and `endpoint`). The scripted
 * provider answers only on a worker started with HITL_ENABLE_SCRIPTED=1: otherwise the run fails
 * `InvalidInput`, whatever its input says.
 */
export function createModelDispatcher(
  config: ActivitiesConfig,
  registry: ToolRegistry,
  agents: () => AgentConfigSource,
): CallModelFn {
  const endpoints = new ModelEndpoints(config.model, registry, agents);
  return async (request, options) => {
    const model = request.model;
    switch (model.provider) {
      case 'scripted':
        if (!config.enableScripted) {
          throw ApplicationFailure.nonRetryable(scriptedDisabledMessage('This run'), INVALID_INPUT);
        }
        return callScriptedModel(model, request.callIndex);
      case 'openai-compatible':
        return endpoints.get(model.endpoint).call(request, model, options);
      default:
        throw ApplicationFailure.nonRetryable(
          `Unknown model provider ${JSON.stringify((model as { provider?: unknown }).provider)}`,
          ModelErrorType.InvalidRequest,
        );
    }
  };
}
