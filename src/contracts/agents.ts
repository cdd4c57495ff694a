// Agents are operator configuration (hitl.config.yaml): what a run of an agent may do is resolved once
// when the run starts and pinned in its history. A request can only tighten it. Sandbox-safe.
import { z } from 'zod';
import { REFINEMENTS } from './refinements';
import { MAX_ID_CHARS } from './values';
import { McpToolRefSchema } from './mcp';
import { JsonObjectSchema } from './messages';

/** A tool-name pattern: `*` is the only wildcard (see src/policy/glob.ts). */
export const ToolPatternSchema = z.string().min(1).max(MAX_ID_CHARS);

/** Agent ids: what a chat backend names in `agentId`. */
export const AgentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-" (at most 64, starting alphanumeric)');

/** A token claim name, e.g. `role`, `groups` or `https://example.com/roles`. */
export const ClaimNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.:/-]{0,127}$/, 'a claim name: letters, digits and _ . : / - (at most 128)');
const ClaimValueSchema = z.string().min(1).max(MAX_ID_CHARS);

/**
 * A rule on token claims: every claim named must hold one of the listed values (a token claim that
 * is a list matches when any of its items does). `{ role: approver }`, `{ groups: [ops, sre] }`.
 */
export const ClaimRuleSchema = z
  .record(ClaimNameSchema, z.union([ClaimValueSchema, z.array(ClaimValueSchema).min(1).max(64)]))
  .refine(REFINEMENTS.namesOneToSixteenClaims, { message: 'a claim rule names 1 to 16 claims' });
export type ClaimRule = z.infer<typeof ClaimRuleSchema>;

/**
 * The claims of an authenticated approver that a run's claim rules look at, as the HTTP API read them
 * from the verified token (wire addition on `resolveAction`: `approverClaims`). Only strings and lists
 * of strings; anything else in a token is left out.
 */
export const ApproverClaimsSchema = z
  .record(ClaimNameSchema, z.union([z.string().max(MAX_ID_CHARS), z.array(z.string().max(MAX_ID_CHARS)).max(64)]))
  .refine(REFINEMENTS.atMost32Claims, { message: 'at most 32 claims' });
export type ApproverClaims = z.infer<typeof ApproverClaimsSchema>;

/** Who may resolve a run's pending actions: named identities, or anyone whose token matches a claim rule. */
export const ApproverRulesSchema = z.object({
  users: z.array(z.string().min(1).max(MAX_ID_CHARS)).max(100),
  claims: z.array(ClaimRuleSchema).max(16).default([]),
});
export type ApproverRules = z.output<typeof ApproverRulesSchema>;

/**
 * What a run request may add on top of its agent (wire, DESIGN.md v1.1): more `deny` and `ask` patterns,
 * a shorter TTL, abort on expiry. Nothing here can allow a tool or widen anything.
 */
export const TightenSchema = z.strictObject(
  {
    deny: z.array(ToolPatternSchema).max(100).optional(),
    ask: z.array(ToolPatternSchema).max(100).optional(),
    approvalTtlMs: z.number().int().positive().optional(),
    onExpiry: z
      .literal('abort', { error: 'only "abort": a request may make expiry stricter, never softer' })
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? 'not allowed: tighten holds only deny, ask, approvalTtlMs (shorter) and onExpiry "abort"'
        : undefined,
  },
);
export type Tighten = z.infer<typeof TightenSchema>;

/** The pattern part of a request's tightening, as the policy applies it after the agent's own policy. */
export const TightenRulesSchema = z.object({
  deny: z.array(ToolPatternSchema).max(100).default([]),
  ask: z.array(ToolPatternSchema).max(100).default([]),
});
export type TightenRules = z.output<typeof TightenRulesSchema>;

/** MCP annotations an approver is shown (MCP tools; see the MCP issue). */
export const ToolAnnotationsSchema = z.object({
  title: z.string().max(MAX_ID_CHARS).optional(),
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});

/** A tool as a pinned run offers it to the model: name, description and the JSON Schema of its input. */
export const ToolSpecSchema = z.object({
  name: z.string().min(1).max(MAX_ID_CHARS),
  description: z.string().max(8000),
  inputSchema: JsonObjectSchema,
  annotations: ToolAnnotationsSchema.optional(),
  /** Set for an MCP tool: its server and its name there (the spec's `name` is `<tool>_mcp_<server>`). */
  mcp: McpToolRefSchema.optional(),
});
export type ToolSpec = z.infer<typeof ToolSpecSchema>;

/** Argument of activity `resolveAgentConfig`: the agent a run names and the request's tightening. */
export const ResolveAgentRequestSchema = z.object({
  agentId: AgentIdSchema,
  userId: z.string().min(1).max(MAX_ID_CHARS),
  conversationId: z.string().min(1).max(MAX_ID_CHARS),
  tighten: TightenSchema.optional(),
});
export type ResolveAgentRequest = z.infer<typeof ResolveAgentRequestSchema>;

/** The memo an agent run writes once its configuration is resolved. */
export const RunAccessMemoSchema = z.object({
  agentId: AgentIdSchema,
  configVersion: z.string().max(64),
  approvers: ApproverRulesSchema,
});
export type RunAccessMemo = z.infer<typeof RunAccessMemoSchema>;
