import { z } from 'zod';
import { REFINEMENTS } from './refinements';
import { isInlineRunInput, MAX_ID_CHARS } from './values';
import {
  AgentIdSchema,
  ApproverRulesSchema,
  TightenRulesSchema,
  TightenSchema,
  ToolPatternSchema,
  ToolSpecSchema,
} from './agents';
import { ChatMessageSchema, MAX_TOOL_CALLS_PER_TURN, ToolCallSchema } from './messages';
import { ContentRefStringSchema } from './transcript';

export const DEFAULT_APPROVAL_TTL_MS = 24 * 60 * 60 * 1000;
export const MAX_APPROVAL_TTL_MS = 365 * 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_TURNS = 20;

export const PolicyModeSchema = z.enum(['default', 'dontAsk', 'bypass']);
export type PolicyMode = z.infer<typeof PolicyModeSchema>;

/**
 * LibreChat's `toolApproval` block. HITL is on only when `enabled === true`; a run that gives no
 * policy at all gets `{ enabled: true, mode: "default" }`, so every tool call asks (fail closed).
 */
export const ToolPolicySchema = z.object({
  enabled: z.boolean().optional(),
  mode: PolicyModeSchema.default('default'),
  allow: z.array(ToolPatternSchema).max(500).default([]),
  deny: z.array(ToolPatternSchema).max(500).default([]),
  ask: z.array(ToolPatternSchema).max(500).default([]),
  reason: z.string().max(2000).optional(),
});
export type ToolPolicyInput = z.input<typeof ToolPolicySchema>;
export type ToolPolicy = z.output<typeof ToolPolicySchema>;

export const DEFAULT_POLICY: ToolPolicy = { enabled: true, mode: 'default', allow: [], deny: [], ask: [] };

/** One assistant turn of the scripted (deterministic) model. */
export const ScriptedTurnSchema = z.object({
  content: z.string().optional(),
  tool_calls: z.array(ToolCallSchema).max(MAX_TOOL_CALLS_PER_TURN).optional(),
});
export type ScriptedTurn = z.infer<typeof ScriptedTurnSchema>;

export const ScriptedModelSchema = z.object({
  provider: z.literal('scripted'),
  script: z.array(ScriptedTurnSchema).max(1000),
  /**
   * Position of `script[0]` in the whole script. A run sends each model call only the turn it needs
   * (`scriptOffset: callIndex`), so what a call records in history does not grow with the script.
   */
  scriptOffset: z.number().int().nonnegative().optional(),
});

/** Name of a model endpoint in the configuration file (`providers.<name>`). */
export const EndpointNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-" (at most 64, starting alphanumeric)');

/**
 * A model served by an OpenAI-compatible endpoint configured on the worker: `endpoint` names one of
 * the configuration file's `providers`; without it, the endpoint of the `HITL_MODEL_*` environment.
 * Keys and base URLs are worker configuration and never part of the run input (so never in history).
 */
export const OpenAICompatibleModelSchema = z.object({
  provider: z.literal('openai-compatible'),
  endpoint: EndpointNameSchema.optional(),
  model: z.string().min(1).max(256).optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxOutputTokens: z.number().int().positive().max(1_000_000).optional(),
});

export const ModelConfigSchema = z.discriminatedUnion('provider', [ScriptedModelSchema, OpenAICompatibleModelSchema]);
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

const IdentitySchema = z.string().min(1).max(MAX_ID_CHARS);
const ConversationIdSchema = z.string().min(1).max(MAX_ID_CHARS);
export const OnExpirySchema = z.enum(['abort', 'reject']);

/**
 * A conversation too large for the run input (wire addition): the client stored it in the content store,
 * as one JSON array of messages under the run's workflow id, before starting the run; the run's first model
 * call appends it to the transcript. `messages` may then be empty (or hold what follows it).
 */
export const StagedConversationSchema = z.object({
  ref: ContentRefStringSchema,
  /** How many messages it holds. */
  count: z.number().int().positive().max(10_000_000),
});
export type StagedConversation = z.infer<typeof StagedConversationSchema>;

const NO_MESSAGES = 'a run needs at least one message (in `messages` or `stagedConversation`)';

/**
 * v1 input (wire): the run carries its own model, tools and policy. For Temporal-level callers
 * (namespace access is operator access); the HTTP API never starts one. `tighten` applies here too.
 */
export const InlineRunInputSchema = z
  .object({
    userId: IdentitySchema,
    conversationId: ConversationIdSchema,
    agentId: z.string().min(1).max(MAX_ID_CHARS).optional(),
    messages: z.array(ChatMessageSchema),
    stagedConversation: StagedConversationSchema.optional(),
    model: ModelConfigSchema,
    tools: z.array(z.string().min(1).max(MAX_ID_CHARS)).max(256).default([]),
    policy: ToolPolicySchema.default(DEFAULT_POLICY),
    approvalTtlMs: z.number().int().positive().max(MAX_APPROVAL_TTL_MS).default(DEFAULT_APPROVAL_TTL_MS),
    onExpiry: OnExpirySchema.default('abort'),
    approvers: z.array(IdentitySchema).min(1).max(100).optional(),
    maxTurns: z.number().int().positive().max(1000).default(DEFAULT_MAX_TURNS),
    tighten: TightenSchema.optional(),
  })
  .refine(REFINEMENTS.hasMessages, { message: NO_MESSAGES, path: ['messages'] });
export type InlineRunInput = z.input<typeof InlineRunInputSchema>;
export type NormalizedInlineRunInput = z.output<typeof InlineRunInputSchema>;

/** Fields an agent run may not carry: its agent's configuration decides them. */
const NOT_IN_AGENT_RUN =
  "not part of an agent run: the agent's configuration decides it (a request may only tighten, see `tighten`)";

/**
 * v1.1 input (wire): the run names an agent of the configuration file; the worker resolves the agent
 * (policy, tools, approvers, TTL, model) once, at the start, and pins it in the history.
 */
export const AgentRunInputSchema = z
  .strictObject(
    {
      userId: IdentitySchema,
      conversationId: ConversationIdSchema,
      agentId: AgentIdSchema,
      messages: z.array(ChatMessageSchema),
      stagedConversation: StagedConversationSchema.optional(),
      tighten: TightenSchema.optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? NOT_IN_AGENT_RUN : undefined) },
  )
  .refine(REFINEMENTS.hasMessages, { message: NO_MESSAGES, path: ['messages'] });
export type AgentRunInput = z.input<typeof AgentRunInputSchema>;
export type NormalizedAgentRunInput = z.output<typeof AgentRunInputSchema>;

/** The one argument of `generationRun`: an agent run, or (with `model`) a v1 inline run. */
export const RunInputSchema = z.union([AgentRunInputSchema, InlineRunInputSchema]);
/** What callers send: defaults may be left out. */
export type RunInput = AgentRunInput | InlineRunInput;
/** What the workflow works with: every default applied. */
export type NormalizedRunInput = NormalizedAgentRunInput | NormalizedInlineRunInput;

/**
 * Parses a run input with the schema of its kind (inline when it has `model`, else agent), so a refusal
 * names the fields of that kind instead of zod's "no union member matched".
 */
export function parseRunInput(raw: unknown): z.ZodSafeParseResult<NormalizedRunInput> {
  return isInlineRunInput(raw) ? InlineRunInputSchema.safeParse(raw) : AgentRunInputSchema.safeParse(raw);
}

/**
 * The effective configuration of a run, resolved once when it starts: from the agent (plus the request's
 * tightening) for an agent run, from the input itself for an inline run. Agent runs record it in their
 * history (the result of activity `resolveAgentConfig`) and carry it across continue-as-new, so a
 * configuration edit never changes a run already started.
 */
export const RunConfigSchema = z.object({
  agentId: z.string().min(1).max(MAX_ID_CHARS).optional(),
  agentName: z.string().max(MAX_ID_CHARS).optional(),
  /**
   * Content hash of the agent's configuration in the file (agent runs only): its entry, the defaults it
   * inherits, the MCP servers it names; what `GET /agents` shows. The listed MCP tools: `toolsVersion`.
   */
  configVersion: z.string().max(64).optional(),
  model: ModelConfigSchema,
  /** The agent's system prompt, put before the conversation. */
  instructions: z.string().max(100_000).optional(),
  /** Names of the tools the model is offered. */
  tools: z.array(z.string().min(1).max(MAX_ID_CHARS)).max(256),
  /** Their descriptions and input schemas as pinned at the start (agent runs; inline runs use the worker's). */
  toolSpecs: z.array(ToolSpecSchema).max(256).optional(),
  policy: ToolPolicySchema,
  /**
   * Agent runs with `mcpAnnotations: follow`: the entries of `policy.allow` and `policy.ask` that the MCP
   * tools' annotations put there (already part of `policy`; recorded so the origin of each entry is known).
   */
  policyFromAnnotations: z
    .object({ allow: z.array(ToolPatternSchema).max(256), ask: z.array(ToolPatternSchema).max(256) })
    .optional(),
  /**
   * Agent runs naming MCP servers: content hash of the MCP tools the run was pinned to (names, descriptions,
   * input schemas, annotations), as listed when it started. `configVersion` covers the file's configuration.
   */
  toolsVersion: z.string().max(64).optional(),
  tighten: TightenRulesSchema.prefault({}),
  approvers: ApproverRulesSchema,
  approvalTtlMs: z.number().int().positive().max(MAX_APPROVAL_TTL_MS),
  onExpiry: OnExpirySchema,
  maxTurns: z.number().int().positive().max(1000),
});
export type RunConfig = z.output<typeof RunConfigSchema>;

/**
 * Zod issues as one readable line: `messages: Too small…; model.provider: Invalid input`. Unknown keys
 * of a strict object are named one by one (`policy: not part of an agent run…`).
 */
export function describeIssues(error: z.ZodError): string {
  const parts: string[] = [];
  for (const issue of error.issues) {
    const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
    for (const path of paths) parts.push(`${path.length ? path.join('.') : '(root)'}: ${issue.message}`);
  }
  return parts.slice(0, 10).join('; ');
}
