// Activity `resolveAgentConfig`: an agent of the configuration file → the run's effective configuration.
import { ApplicationFailure } from '@temporalio/common';
import { AgentResolutionError, resolveAgentRunConfig, type AgentConfigSource } from '../agent-config';
import { INVALID_INPUT_ERROR_TYPE, ResolveAgentRequestSchema, describeIssues, type RunConfig } from '../contracts';
import type { ToolRegistry } from './tools/registry';
import { toolSpecsOf } from './tools/specs';

/**
 * Resolves the agent from the worker's current configuration. Its result is recorded in the run's
 * history, so this runs once per run: a replay, a retry of a later step or a configuration edit never
 * changes what the run was started with. Refusals (unknown agent, scripted provider not enabled, bad
 * request) are non-retryable `InvalidInput`; the workflow fails the run with them.
 */
export function resolveAgentActivity(
  source: AgentConfigSource,
  registry: ToolRegistry,
  scriptedEnabled: boolean,
  raw: unknown,
): RunConfig {
  const request = ResolveAgentRequestSchema.safeParse(raw);
  if (!request.success) {
    throw ApplicationFailure.nonRetryable(
      `Invalid agent request: ${describeIssues(request.error)}`,
      INVALID_INPUT_ERROR_TYPE,
    );
  }
  try {
    return resolveAgentRunConfig(source.current(), {
      agentId: request.data.agentId,
      userId: request.data.userId,
      tighten: request.data.tighten,
      describeTools: (names) => toolSpecsOf(registry, names),
      scriptedEnabled,
    });
  } catch (error) {
    if (error instanceof AgentResolutionError) {
      throw ApplicationFailure.nonRetryable(error.message, INVALID_INPUT_ERROR_TYPE, { kind: error.kind });
    }
    throw error;
  }
}
