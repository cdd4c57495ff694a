// Activity `resolveAgentConfig`: an agent of the configuration file → the run's effective configuration.
import { ApplicationFailure } from '@temporalio/common';
import {
  AgentResolutionError,
  findAgent,
  mcpServersOf,
  resolveAgentRunConfig,
  type AgentConfigSource,
} from '../agent-config';
import {
  INVALID_INPUT_ERROR_TYPE,
  ResolveAgentRequestSchema,
  describeIssues,
  type RunConfig,
  type ToolSpec,
} from '../contracts';
import { listMcpToolSpecs, type McpManager } from './mcp';
import type { ToolRegistry } from './tools/registry';
import { toolSpecsOf } from './tools/specs';

/**
 * Resolves the agent from the worker's current configuration. Its result is recorded in the run's
 * history, so this runs once per run: a replay, a retry of a later step or a configuration edit never
 * changes what the run was started with. Refusals (unknown agent, scripted provider not enabled, bad
 * request, an MCP tool its server does not offer) are non-retryable `InvalidInput`; the workflow fails the run
 * with them. The agent's MCP servers are asked for their tools here, so the tools a run offers (names,
 * descriptions, input schemas, annotations) are pinned with the rest; a server that cannot be reached fails
 * the attempt (retried by Temporal).
 */
export async function resolveAgentActivity(
  source: AgentConfigSource,
  registry: ToolRegistry,
  scriptedEnabled: boolean,
  raw: unknown,
  mcp?: McpManager,
): Promise<RunConfig> {
  const request = ResolveAgentRequestSchema.safeParse(raw);
  if (!request.success) {
    throw ApplicationFailure.nonRetryable(
      `Invalid agent request: ${describeIssues(request.error)}`,
      INVALID_INPUT_ERROR_TYPE,
    );
  }
  const loaded = source.current();
  const agent = findAgent(loaded, request.data.agentId);
  const mcpTools: ToolSpec[] = [];
  if (agent !== undefined && mcp !== undefined) {
    for (const server of mcpServersOf(agent)) mcpTools.push(...(await listMcpToolSpecs(mcp, server)));
  }
  try {
    return resolveAgentRunConfig(loaded, {
      mcpTools,
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
