import { ApplicationFailure } from '@temporalio/common';
import type { CallModelRequest, ModelTurn } from '../../contracts';
import type { ActivitiesConfig } from '../config';
import type { ToolRegistry } from '../tools/registry';
import { OpenAICompatibleModel, type ModelCallOptions } from './openai-compatible';
import { callScriptedModel } from './scripted';
import { ModelErrorType } from './errors';

export { ModelErrorType, toModelFailure } from './errors';
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

/** One entry point for every provider, chosen by `request.model.provider`. */
export function createModelDispatcher(config: ActivitiesConfig, registry: ToolRegistry): CallModelFn {
  const openAICompatible = new OpenAICompatibleModel(config.model, registry);
  return async (request, options) => {
    const model = request.model;
    switch (model.provider) {
      case 'scripted':
        return callScriptedModel(model, request.callIndex);
      case 'openai-compatible':
        return openAICompatible.call(request, model, options);
      default:
        throw ApplicationFailure.nonRetryable(
          `Unknown model provider ${JSON.stringify((model as { provider?: unknown }).provider)}`,
          ModelErrorType.InvalidRequest,
        );
    }
  };
}
