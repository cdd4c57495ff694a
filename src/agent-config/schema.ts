// The configuration file (hitl.config.yaml): agents, their tools and policies, model endpoints, MCP
// servers. Operator configuration: a run request can only tighten what an agent allows.
import { z } from 'zod';
import {
  AgentIdSchema,
  ClaimRuleSchema,
  EndpointNameSchema,
  MAX_APPROVAL_TTL_MS,
  MAX_ID_CHARS,
  PolicyModeSchema,
  ScriptedTurnSchema,
  ToolPatternSchema,
} from '../contracts';

/** `${NAME}`: a value taken from the environment of the process that uses it, never written in the file. */
export const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE_ENV_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** A string that may hold `${ENV}` references (URLs, headers, MCP arguments). */
const TemplateString = z.string().max(4096);

/** A secret: only ever a `${ENV}` reference, so the file can be committed and logged. */
const SecretReference = z
  .string()
  .regex(WHOLE_ENV_REFERENCE, 'write it as an environment reference such as ${OPENAI_API_KEY}, never the value itself');

/**
 * LibreChat's `endpoints.agents.toolApproval` block, same keys and meaning: HITL is on only when
 * `enabled: true`; order deny → ask → allow → mode (`bypass` allows, `dontAsk` denies, `default` asks).
 */
export const ToolApprovalConfigSchema = z.strictObject({
  enabled: z.boolean().optional(),
  mode: PolicyModeSchema.optional(),
  allow: z.array(ToolPatternSchema).max(500).optional(),
  deny: z.array(ToolPatternSchema).max(500).optional(),
  ask: z.array(ToolPatternSchema).max(500).optional(),
  reason: z.string().max(2000).optional(),
});
export type ToolApprovalConfig = z.infer<typeof ToolApprovalConfigSchema>;

/** An OpenAI-compatible model endpoint (OpenAI, vLLM, Ollama, LiteLLM…). */
export const ProviderConfigSchema = z.strictObject({
  type: z.literal('openai-compatible').default('openai-compatible'),
  /** e.g. `https://api.openai.com/v1`, or `${OPENAI_BASE_URL}`. */
  baseURL: TemplateString.min(1),
  apiKey: SecretReference.optional(),
  /** Extra request headers; values may hold `${ENV}` references. */
  headers: z.record(z.string().min(1).max(256), TemplateString).optional(),
  /** Model used when an agent names none. */
  defaultModel: z.string().min(1).max(256).optional(),
});
export type ProviderConfig = z.output<typeof ProviderConfigSchema>;

/** An MCP server, in LibreChat's `mcpServers` shape (connected by the MCP issue; validated here). */
export const McpServerConfigSchema = z
  .strictObject({
    type: z.enum(['stdio', 'streamable-http', 'sse']).optional(),
    command: z.string().min(1).max(4096).optional(),
    args: z.array(TemplateString).max(256).optional(),
    env: z.record(z.string().min(1).max(256), TemplateString).optional(),
    url: TemplateString.min(1).optional(),
    headers: z.record(z.string().min(1).max(256), TemplateString).optional(),
    /** Call timeout, ms. */
    timeout: z.number().int().positive().max(3_600_000).optional(),
    /** Start / connect timeout, ms. */
    initTimeout: z.number().int().positive().max(600_000).optional(),
    title: z.string().max(256).optional(),
    description: z.string().max(4000).optional(),
    serverInstructions: z.union([z.boolean(), z.string().max(100_000)]).optional(),
  })
  .superRefine((server, ctx) => {
    const type = server.type ?? (server.command !== undefined ? 'stdio' : undefined);
    if (type === undefined) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: 'expected stdio|streamable-http|sse (or a command)' });
    } else if (type === 'stdio' && server.command === undefined) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: 'required for a stdio server' });
    } else if (type !== 'stdio' && server.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: `required for a ${type} server` });
    }
  });
export type McpServerConfig = z.output<typeof McpServerConfigSchema>;

/** `24h`, `30m`, `90s`, `7d`, `500ms`, or a number of milliseconds. */
export const DurationSchema = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\d+\s*(ms|s|m|h|d)$/, 'expected a duration such as 30m, 24h or 7d (or milliseconds)')
    .transform((text) => {
      const [, amount, unit] = /^(\d+)\s*(ms|s|m|h|d)$/.exec(text)!;
      const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as 'ms' | 's' | 'm' | 'h' | 'd'];
      return Number(amount) * unitMs;
    }),
]);
const ApprovalTtlSchema = DurationSchema.pipe(
  z.number().max(MAX_APPROVAL_TTL_MS, 'at most 365 days').positive('must be longer than 0'),
);

/**
 * A principal: a user id, or a rule on token claims (`{ role: approver }`). In `users`, `"*"` is every
 * signed-in user; in `approvers`, `owner` is the user who started the run.
 */
const PrincipalSchema = z.union([z.string().min(1).max(MAX_ID_CHARS), ClaimRuleSchema]);
export type Principal = z.infer<typeof PrincipalSchema>;

/** The model an agent uses: a configured provider (by name) and model, or the scripted demo model. */
export const AgentModelConfigSchema = z
  .strictObject({
    /** A key of `providers`, or `scripted` (demos and tests; needs HITL_ENABLE_SCRIPTED=1 on the worker). */
    provider: z.string().min(1).max(64),
    model: z.string().min(1).max(256).optional(),
    temperature: z.number().min(0).max(2).optional(),
    maxOutputTokens: z.number().int().positive().max(1_000_000).optional(),
    /** The scripted model's assistant turns. */
    script: z.array(ScriptedTurnSchema).max(1000).optional(),
  })
  .superRefine((model, ctx) => {
    if (model.provider === 'scripted') {
      if (model.script === undefined)
        ctx.addIssue({ code: 'custom', path: ['script'], message: 'required by provider scripted' });
      for (const key of ['model', 'temperature', 'maxOutputTokens'] as const) {
        if (model[key] !== undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: 'not used by provider scripted' });
      }
    } else if (model.script !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['script'], message: 'only for provider scripted' });
    }
  });
export type AgentModelConfig = z.infer<typeof AgentModelConfigSchema>;

export const ToolOptionSchema = z.strictObject({
  /** LibreChat's `tool_options[name].approval_mode`: the exact tool name joins that list of the policy. */
  approvalMode: z.enum(['ask', 'allow', 'deny']),
});

export const AgentConfigSchema = z.strictObject({
  id: AgentIdSchema,
  name: z.string().min(1).max(MAX_ID_CHARS).optional(),
  description: z.string().max(4000).optional(),
  /** System prompt, put before the conversation. */
  instructions: z.string().max(100_000).optional(),
  model: AgentModelConfigSchema,
  /** Tools offered to the model (built-in tool names). */
  tools: z.array(z.string().min(1).max(MAX_ID_CHARS)).max(256).default([]),
  /** Merged over the top-level `toolApproval`: its values replace the defaults', its lists add to them. */
  toolApproval: ToolApprovalConfigSchema.optional(),
  toolOptions: z.record(z.string().min(1).max(MAX_ID_CHARS), ToolOptionSchema).optional(),
  /**
   * `follow`: an MCP tool that no `toolApproval` entry (nor `toolOptions`) names gets its default from its
   * annotations instead of the mode — read-only allowed, destructive asked (src/policy/annotations.ts).
   * `ignore` (the default): annotations are only shown to approvers.
   */
  mcpAnnotations: z.enum(['follow', 'ignore']).optional(),
  /** Who may resolve: `owner`, user ids, claim rules. Default `[owner]`. */
  approvers: z.array(PrincipalSchema).min(1).max(100).optional(),
  /** Who may start runs with this agent through the HTTP API: user ids, claim rules, or `"*"`. Required. */
  users: z.array(PrincipalSchema).min(1).max(1000),
  approvalTtl: ApprovalTtlSchema.optional(),
  onExpiry: z.enum(['abort', 'reject']).optional(),
  maxTurns: z.number().int().positive().max(1000).optional(),
});
export type AgentConfig = z.output<typeof AgentConfigSchema>;

export const DefaultsConfigSchema = z.strictObject({
  approvalTtl: ApprovalTtlSchema.optional(),
  onExpiry: z.enum(['abort', 'reject']).optional(),
  maxTurns: z.number().int().positive().max(1000).optional(),
});

export const HitlConfigFileSchema = z.strictObject({
  version: z.literal(1).optional(),
  toolApproval: ToolApprovalConfigSchema.optional(),
  defaults: DefaultsConfigSchema.optional(),
  providers: z.record(EndpointNameSchema, ProviderConfigSchema).optional(),
  mcpServers: z
    .record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (at most 64)'), McpServerConfigSchema)
    .optional(),
  agents: z.array(AgentConfigSchema).max(1000).default([]),
});
export type HitlConfigFile = z.output<typeof HitlConfigFileSchema>;

/** The parts of `librechat.yaml` we read: `endpoints.agents.toolApproval` (everything else is LibreChat's). */
export const LibreChatConfigSchema = z.looseObject({
  endpoints: z.looseObject({
    agents: z.looseObject({ toolApproval: ToolApprovalConfigSchema }),
  }),
});
