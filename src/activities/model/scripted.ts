import { ApplicationFailure } from '@temporalio/common';
import { describeIssues, ModelTurnSchema, type ModelConfig, type ModelTurn } from '../../contracts';
import { ModelErrorType } from './errors';

export type ScriptedModelConfig = Extract<ModelConfig, { provider: 'scripted' }>;

/** What the scripted model says once its script has run out. */
export const SCRIPT_EXHAUSTED_TURN: Readonly<ModelTurn> = Object.freeze({ content: 'Done.' });

/**
 * The deterministic model: call `callIndex` returns `script[callIndex]`; past the end it returns a
 * final text turn without tool calls. A turn that does not match `ModelTurnSchema` (e.g. two tool
 * calls with one id) is a non-retryable `InvalidScriptedTurn` failure: retrying cannot fix a script.
 */
export function callScriptedModel(model: ScriptedModelConfig, callIndex: number): ModelTurn {
  if (!Number.isInteger(callIndex) || callIndex < 0) {
    throw ApplicationFailure.nonRetryable(
      `callIndex must be a non-negative integer, got ${String(callIndex)}`,
      ModelErrorType.InvalidRequest,
    );
  }
  const turn = model.script[callIndex - (model.scriptOffset ?? 0)];
  if (turn === undefined) return { ...SCRIPT_EXHAUSTED_TURN };
  const parsed = ModelTurnSchema.safeParse(turn);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `Scripted turn ${callIndex} is invalid: ${describeIssues(parsed.error)}`,
      ModelErrorType.InvalidScriptedTurn,
    );
  }
  return parsed.data;
}
