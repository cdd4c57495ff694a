import { z } from 'zod';
import { MAX_REASON_CHARS } from './values';
import { ApproverClaimsSchema } from './agents';
import { ElicitationAnswerSchema } from './elicitation';
import type { Refusal } from './errors';
import { describeIssues } from './run-input';
import { jsonLimitProblem, MAX_RESOLUTION_CHARS } from './json-limits';

export const ScopeSchema = z.enum(['once', 'session', 'always']);
export type Scope = z.infer<typeof ScopeSchema>;

/**
 * One decision on one paused tool call. `editedArguments` and `responseText` are checked by the
 * workflow (not here) so that a missing or malformed value is refused as `IncompleteDecision`,
 * the type DESIGN.md gives it, rather than as a schema error.
 */
/** A tool call id from outside: bounded, because refusals echo it into the audit log. */
const ToolCallIdSchema = z.string().min(1).max(256);

export const DecisionSchema = z.discriminatedUnion('decision', [
  z.object({ tool_call_id: ToolCallIdSchema, decision: z.literal('approve'), scope: ScopeSchema.default('once') }),
  z.object({
    tool_call_id: ToolCallIdSchema,
    decision: z.literal('reject'),
    reason: z.string().max(MAX_REASON_CHARS).optional(),
  }),
  z.object({ tool_call_id: ToolCallIdSchema, decision: z.literal('edit'), editedArguments: z.unknown().optional() }),
  z.object({ tool_call_id: ToolCallIdSchema, decision: z.literal('respond'), responseText: z.unknown().optional() }),
]);
export type DecisionInput = z.input<typeof DecisionSchema>;
export type Decision = z.output<typeof DecisionSchema>;

/** The one argument of update and signal `resolveAction` (wire). */
export const ResolutionSchema = z.object({
  actionId: z.string().min(1).max(256),
  approver: z.string().min(1).max(256),
  decisions: z.array(DecisionSchema).max(256).optional(),
  answer: z.unknown().optional(),
  answers: z.unknown().optional(),
  /** The answer to an `mcp_elicitation` action (v1.1): accept with content, decline or cancel. */
  elicitation: ElicitationAnswerSchema.optional(),
  /**
   * Claims of the approver's verified token that the run's claim rules look at (wire addition). The HTTP
   * API sets it from the token and never from the body; Temporal-level callers are operators.
   */
  approverClaims: ApproverClaimsSchema.optional(),
});
export type Resolution = z.input<typeof ResolutionSchema>;
export type ParsedResolution = z.output<typeof ResolutionSchema>;

/** What update `resolveAction` returns to the one caller that won. */
export const ResolveResultSchema = z.object({
  actionId: z.string(),
  status: z.literal('running'),
  decidedBy: z.string(),
});
export type ResolveResult = z.infer<typeof ResolveResultSchema>;

/**
 * Parses an untrusted resolution: size and depth first (without recursion: nothing below may walk a
 * hostile value), then the schema. Refusals are typed `InvalidResolution` and name the field.
 */
export function parseResolution(
  raw: unknown,
): { ok: true; resolution: ParsedResolution } | { ok: false; refusal: Refusal } {
  const problem = jsonLimitProblem(raw, MAX_RESOLUTION_CHARS, 'The resolution');
  if (problem) return { ok: false, refusal: { type: 'InvalidResolution', message: `Invalid resolution: ${problem}` } };
  const parsed = ResolutionSchema.safeParse(raw);
  if (parsed.success) return { ok: true, resolution: parsed.data };
  return {
    ok: false,
    refusal: { type: 'InvalidResolution', message: `Invalid resolution: ${describeIssues(parsed.error)}` },
  };
}

/** Shape check alone: what the update validator runs, so malformed payloads never reach history. */
export function checkResolutionShape(raw: unknown): Refusal | null {
  const parsed = parseResolution(raw);
  return parsed.ok ? null : parsed.refusal;
}
