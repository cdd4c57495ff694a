import { z } from 'zod';
import { ChatMessageSchema, ToolCallSchema } from './messages';

export const DEFAULT_APPROVAL_TTL_MS = 24 * 60 * 60 * 1000;
export const MAX_APPROVAL_TTL_MS = 365 * 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_TURNS = 20;

export const PolicyModeSchema = z.enum(['default', 'dontAsk', 'bypass']);
export type PolicyMode = z.infer<typeof PolicyModeSchema>;

const ToolPatternSchema = z.string().min(1).max(256);

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
  tool_calls: z.array(ToolCallSchema).optional(),
});
export type ScriptedTurn = z.infer<typeof ScriptedTurnSchema>;

export const ScriptedModelSchema = z.object({
  provider: z.literal('scripted'),
  script: z.array(ScriptedTurnSchema).max(1000),
});

/**
 * A model served by the OpenAI-compatible endpoint configured on the worker. Keys and base URLs are
 * worker configuration and never part of the run input (so never in workflow history).
 */
export const OpenAICompatibleModelSchema = z.object({
  provider: z.literal('openai-compatible'),
  model: z.string().min(1).max(256).optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxOutputTokens: z.number().int().positive().max(1_000_000).optional(),
});

export const ModelConfigSchema = z.discriminatedUnion('provider', [ScriptedModelSchema, OpenAICompatibleModelSchema]);
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

const IdentitySchema = z.string().min(1).max(256);

export const RunInputSchema = z.object({
  userId: IdentitySchema,
  conversationId: z.string().min(1).max(256),
  agentId: z.string().min(1).max(256).optional(),
  messages: z.array(ChatMessageSchema).min(1),
  model: ModelConfigSchema,
  tools: z.array(z.string().min(1).max(256)).max(256).default([]),
  policy: ToolPolicySchema.default(DEFAULT_POLICY),
  approvalTtlMs: z.number().int().positive().max(MAX_APPROVAL_TTL_MS).default(DEFAULT_APPROVAL_TTL_MS),
  onExpiry: z.enum(['abort', 'reject']).default('abort'),
  approvers: z.array(IdentitySchema).min(1).max(100).optional(),
  maxTurns: z.number().int().positive().max(1000).default(DEFAULT_MAX_TURNS),
});
/** What callers send: defaults may be left out. */
export type RunInput = z.input<typeof RunInputSchema>;
/** What the workflow works with: every default applied. */
export type NormalizedRunInput = z.output<typeof RunInputSchema>;

/** Zod issues as one readable line: `messages: Too small…; model.provider: Invalid input`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
