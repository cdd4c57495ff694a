// From an agent of the configuration file to the effective configuration a run is pinned to.
import { createHash } from 'node:crypto';
import {
  DEFAULT_APPROVAL_TTL_MS,
  DEFAULT_MAX_TURNS,
  type ApproverRules,
  type ClaimRule,
  type ModelConfig,
  type RunConfig,
  type Tighten,
  type ToolPolicy,
  type ToolSpec,
} from '../contracts';
import { parseMcpToolName } from '../contracts';
import { annotationPolicyEntries, claimRuleMatches, matchesToolPattern, withAnnotationEntries } from '../policy';
import type { LoadedConfig } from './load';
import type { AgentConfig, Principal } from './schema';

/** The `approvers` entry that stands for the user who started the run. */
export const OWNER = 'owner';
/** The `users` entry that stands for every signed-in user. */
export const EVERYONE = '*';

/** Why an agent run cannot be resolved: an unknown agent, or one this process does not accept. */
export class AgentResolutionError extends Error {
  constructor(
    readonly kind: 'UnknownAgent' | 'ProviderDisabled' | 'UnknownTool',
    message: string,
  ) {
    super(message);
    this.name = 'AgentResolutionError';
  }
}

/** Who a caller is, as the HTTP API authenticated them. */
export interface Principalish {
  sub: string;
  claims: Readonly<Record<string, unknown>>;
}

export function findAgent(loaded: LoadedConfig, agentId: string): AgentConfig | undefined {
  return loaded.config.agents.find((agent) => agent.id === agentId);
}

/** May this caller start runs of `agent`? (`users`: `"*"`, their id, or a claim rule their token matches.) */
export function mayStartRuns(agent: AgentConfig, caller: Principalish): boolean {
  return agent.users.some((principal) =>
    typeof principal === 'string'
      ? principal === EVERYONE || principal === caller.sub
      : claimRuleMatches(principal, caller.claims),
  );
}

/** The agent's policy: its `toolApproval` over the defaults (values replace, lists add), then `toolOptions`. */
export function agentPolicy(loaded: LoadedConfig, agent: AgentConfig): ToolPolicy {
  const base = loaded.toolApproval;
  const own = agent.toolApproval ?? {};
  const byMode = (mode: 'ask' | 'allow' | 'deny') =>
    Object.entries(agent.toolOptions ?? {})
      .filter(([, option]) => option.approvalMode === mode)
      .map(([tool]) => tool);
  const reason = own.reason ?? base.reason;
  const enabled = own.enabled ?? base.enabled;
  return {
    ...(enabled !== undefined ? { enabled } : {}),
    mode: own.mode ?? base.mode ?? 'default',
    allow: unique([...(base.allow ?? []), ...(own.allow ?? []), ...byMode('allow')]),
    deny: unique([...(base.deny ?? []), ...(own.deny ?? []), ...byMode('deny')]),
    ask: unique([...(base.ask ?? []), ...(own.ask ?? []), ...byMode('ask')]),
    ...(reason !== undefined ? { reason } : {}),
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function agentModel(agent: AgentConfig): ModelConfig {
  const model = agent.model;
  if (model.provider === 'scripted') return { provider: 'scripted', script: model.script ?? [] };
  return {
    provider: 'openai-compatible',
    endpoint: model.provider,
    ...(model.model !== undefined ? { model: model.model } : {}),
    ...(model.temperature !== undefined ? { temperature: model.temperature } : {}),
    ...(model.maxOutputTokens !== undefined ? { maxOutputTokens: model.maxOutputTokens } : {}),
  };
}

/** `approvers` with `owner` standing for `userId`; default: the owner alone. */
export function approverRules(agent: AgentConfig, userId: string): ApproverRules {
  const principals: Principal[] = agent.approvers ?? [OWNER];
  const users = new Set<string>();
  const claims: ClaimRule[] = [];
  for (const principal of principals) {
    if (typeof principal === 'string') users.add(principal === OWNER ? userId : principal);
    else claims.push(principal);
  }
  return { users: [...users], claims };
}

/** JSON with sorted keys: the same configuration always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The agent's settings that need neither the tool listing nor a request: policy, approvers, model, limits. */
function agentSettings(loaded: LoadedConfig, agent: AgentConfig) {
  const defaults = loaded.config.defaults ?? {};
  return {
    agentId: agent.id,
    ...(agent.name !== undefined ? { agentName: agent.name } : {}),
    model: agentModel(agent),
    ...(agent.instructions !== undefined ? { instructions: agent.instructions } : {}),
    policy: agentPolicy(loaded, agent),
    approvers: agent.approvers ?? [OWNER],
    approvalTtlMs: agent.approvalTtl ?? defaults.approvalTtl ?? DEFAULT_APPROVAL_TTL_MS,
    onExpiry: agent.onExpiry ?? defaults.onExpiry ?? 'abort',
    maxTurns: agent.maxTurns ?? defaults.maxTurns ?? DEFAULT_MAX_TURNS,
  };
}

/**
 * The agent as the configuration file gives it, before any MCP server is asked for its tools: its settings
 * (with the defaults it inherits), its `tools` entries as written (globs unexpanded), the built-in tools'
 * descriptions and input schemas, `mcpAnnotations`, and the definitions of the MCP servers it names (as
 * written: `${ENV}` references unresolved). An agent without MCP tools hashes exactly as before MCP support.
 */
function agentFileView(loaded: LoadedConfig, agent: AgentConfig, builtInSpecs: readonly ToolSpec[]) {
  const servers = mcpServersOf(agent);
  return {
    ...agentSettings(loaded, agent),
    tools: [...agent.tools],
    toolSpecs: builtInSpecs.filter((spec) => spec.mcp === undefined),
    ...(agent.mcpAnnotations === 'follow' ? { mcpAnnotations: 'follow' } : {}),
    ...(servers.length > 0
      ? {
          mcpServers: Object.fromEntries(servers.map((server) => [server, loaded.config.mcpServers?.[server] ?? null])),
        }
      : {}),
  };
}

function shortHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 12);
}

/**
 * The agent's configuration version: a content hash of the agent as the file gives it (not of the whole
 * file, so editing one agent leaves the others' versions alone), computed without the MCP tool listing, so
 * `GET /agents` and `hitl agents` (which connect to no MCP server) show the version a run records. 12 hex.
 * `builtInSpecs`: the specs of the agent's built-in tools (`describeTools(agent.tools)`).
 */
export function configVersion(loaded: LoadedConfig, agent: AgentConfig, builtInSpecs: readonly ToolSpec[]): string {
  return shortHash(agentFileView(loaded, agent, builtInSpecs));
}

/**
 * The version of a run's MCP tools: a content hash of the MCP tool specs it was pinned to (names,
 * descriptions, input schemas, annotations, server and tool), in the run's order. 12 hex.
 */
export function toolsVersion(mcpSpecs: readonly ToolSpec[]): string {
  return shortHash(mcpSpecs);
}

export interface ResolveAgentOptions {
  agentId: string;
  userId: string;
  tighten?: Tighten | undefined;
  /** Descriptions and input schemas of the named tools (the worker's registry). */
  describeTools: (names: readonly string[]) => ToolSpec[];
  /** Whether the scripted provider is accepted (HITL_ENABLE_SCRIPTED=1). */
  scriptedEnabled: boolean;
  /** The tools of the MCP servers the agent names, as listed when the run starts (`mcpServersOf`). */
  mcpTools?: readonly ToolSpec[];
}

/** The MCP servers an agent's tools name (`<tool>_mcp_<server>`, globs too), in their order. */
export function mcpServersOf(agent: AgentConfig): string[] {
  return [...new Set(agent.tools.flatMap((tool) => parseMcpToolName(tool)?.server ?? []))];
}

/**
 * The agent's tools with MCP entries replaced by the listed tools they name: an exact name must be listed
 * (else `UnknownTool`), a glob (`*_mcp_fs`, `read_*_mcp_fs`) stands for every listed tool it matches.
 */
export function expandAgentTools(agent: AgentConfig, mcpTools: readonly ToolSpec[]): string[] {
  const names: string[] = [];
  for (const entry of agent.tools) {
    if (parseMcpToolName(entry) === undefined) {
      names.push(entry);
      continue;
    }
    const matched = mcpTools.filter((spec) => matchesToolPattern(entry, spec.name)).map((spec) => spec.name);
    if (matched.length === 0 && !entry.includes('*')) {
      const server = parseMcpToolName(entry)!.server;
      throw new AgentResolutionError(
        'UnknownTool',
        `Agent "${agent.id}" names tool "${entry}", which MCP server "${server}" does not offer`,
      );
    }
    names.push(...matched);
  }
  return unique(names);
}

/** The run configuration of one agent run: the agent's effective configuration with the request's tightening. */
export function resolveAgentRunConfig(loaded: LoadedConfig, options: ResolveAgentOptions): RunConfig {
  const agent = findAgent(loaded, options.agentId);
  if (!agent) {
    const where = loaded.file ? ` in ${loaded.file}` : ' (no configuration file is loaded)';
    throw new AgentResolutionError('UnknownAgent', `Unknown agent "${options.agentId}"${where}`);
  }
  if (agent.model.provider === 'scripted' && !options.scriptedEnabled) {
    throw new AgentResolutionError('ProviderDisabled', scriptedDisabledMessage(`agent "${agent.id}"`));
  }
  const mcpTools = options.mcpTools ?? [];
  const tools = expandAgentTools(agent, mcpTools);
  const mcpByName = new Map(mcpTools.map((spec) => [spec.name, spec]));
  const builtIn = options.describeTools(tools.filter((name) => !mcpByName.has(name)));
  const builtInByName = new Map(builtIn.map((spec) => [spec.name, spec]));
  const toolSpecs = tools.flatMap((name) => mcpByName.get(name) ?? builtInByName.get(name) ?? []);
  const settings = agentSettings(loaded, agent);
  // `mcpAnnotations: follow`: MCP tools no entry names get entries from their annotations, pinned with the
  // policy (the workflow evaluates them like any other entry; a request's tighten still applies after them).
  const fromAnnotations =
    agent.mcpAnnotations === 'follow' ? annotationPolicyEntries(settings.policy, toolSpecs) : undefined;
  const hasMcpTools = mcpServersOf(agent).length > 0;
  const tighten = options.tighten ?? {};
  return {
    ...settings,
    tools,
    toolSpecs,
    ...(fromAnnotations !== undefined
      ? { policy: withAnnotationEntries(settings.policy, fromAnnotations), policyFromAnnotations: fromAnnotations }
      : {}),
    configVersion: configVersion(loaded, agent, options.describeTools(agent.tools)),
    ...(hasMcpTools ? { toolsVersion: toolsVersion(toolSpecs.filter((spec) => spec.mcp !== undefined)) } : {}),
    tighten: { deny: unique(tighten.deny ?? []), ask: unique(tighten.ask ?? []) },
    approvers: approverRules(agent, options.userId),
    approvalTtlMs:
      tighten.approvalTtlMs !== undefined
        ? Math.min(tighten.approvalTtlMs, settings.approvalTtlMs)
        : settings.approvalTtlMs,
    onExpiry: tighten.onExpiry ?? settings.onExpiry,
  };
}

/** The one message for a run or agent that needs the scripted provider on a worker without it. */
export function scriptedDisabledMessage(who: string): string {
  return `${who} uses model provider "scripted", which this worker does not accept: it is for demos and tests (start the worker with HITL_ENABLE_SCRIPTED=1)`;
}

/** What `GET /agents` and `hitl agents` show of an agent. */
export interface AgentSummary {
  id: string;
  name?: string;
  description?: string;
  tools: string[];
  configVersion: string;
}

export function summarizeAgent(
  loaded: LoadedConfig,
  agent: AgentConfig,
  describeTools: (names: readonly string[]) => ToolSpec[],
): AgentSummary {
  return {
    id: agent.id,
    ...(agent.name !== undefined ? { name: agent.name } : {}),
    ...(agent.description !== undefined ? { description: agent.description } : {}),
    tools: agent.tools,
    configVersion: configVersion(loaded, agent, describeTools(agent.tools)),
  };
}
