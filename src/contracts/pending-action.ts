import { z } from 'zod';
import { REFINEMENTS } from './refinements';
import { ToolAnnotationsSchema } from './agents';
import { JsonObjectSchema } from './messages';
import { ElicitationRequestedSchemaSchema } from './elicitation';
import { MAX_ELICITATION_MESSAGE_CHARS, MAX_ELICITATION_URL_CHARS } from './elicitation-content';

export const DecisionKindSchema = z.enum(['approve', 'reject', 'edit', 'respond']);
export type DecisionKind = z.infer<typeof DecisionKindSchema>;

export const ActionRequestSchema = z.object({
  tool_call_id: z.string(),
  name: z.string(),
  /** `{}` when the arguments were too large to keep in the run: read them by `arguments_ref` (the API does). */
  arguments: JsonObjectSchema,
  arguments_ref: z.string().optional(),
  arguments_chars: z.number().int().nonnegative().optional(),
  description: z.string().optional(),
  /** An MCP tool's server, its name there, and its annotations (hints from the server, not guarantees). */
  mcp: z
    .object({
      server: z.string(),
      tool: z.string(),
      annotations: ToolAnnotationsSchema.optional(),
    })
    .optional(),
});
export type ActionRequest = z.infer<typeof ActionRequestSchema>;

export const ReviewConfigSchema = z.object({
  tool_call_id: z.string(),
  action_name: z.string(),
  allowed_decisions: z.array(DecisionKindSchema),
});
export type ReviewConfig = z.infer<typeof ReviewConfigSchema>;

export const ToolApprovalPayloadSchema = z.object({
  type: z.literal('tool_approval'),
  action_requests: z.array(ActionRequestSchema),
  review_configs: z.array(ReviewConfigSchema),
});
export type ToolApprovalPayload = z.infer<typeof ToolApprovalPayloadSchema>;

export const QuestionOptionSchema = z.object({
  label: z.string().min(1).max(280),
  value: z.string().max(500),
  description: z.string().max(4000).optional(),
});

export const QuestionSchema = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/)
    .optional(),
  question: z.string().min(1).max(2000),
  header: z.string().max(80).optional(),
  description: z.string().max(4000).optional(),
  options: z.array(QuestionOptionSchema).max(12).optional(),
  multiSelect: z.boolean().optional(),
});
export type Question = z.infer<typeof QuestionSchema>;

export const AskUserQuestionPayloadSchema = z.object({
  type: z.literal('ask_user_question'),
  tool_call_id: z.string(),
  question: QuestionSchema,
  questions: z.array(QuestionSchema).min(1).max(4).optional(),
});
export type AskUserQuestionPayload = z.infer<typeof AskUserQuestionPayloadSchema>;

/**
 * An MCP server asks the user for input during a tool call (v1.1). Form mode (`mode` absent or "form"):
 * answered with `elicitation: { action: "accept", content }` matching `requestedSchema`, or decline/cancel.
 * URL mode: the person opens `url`, then answers accept ("done"), decline or cancel; `requestedSchema` is empty.
 */
export const McpElicitationPayloadSchema = z.object({
  type: z.literal('mcp_elicitation'),
  tool_call_id: z.string(),
  /** The tool call that asked (`<tool>_mcp_<server>`). */
  name: z.string(),
  server: z.string(),
  message: z.string().max(MAX_ELICITATION_MESSAGE_CHARS),
  requestedSchema: ElicitationRequestedSchemaSchema,
  mode: z.enum(['form', 'url']).optional(),
  url: z.string().max(MAX_ELICITATION_URL_CHARS).optional(),
});
export type McpElicitationPayload = z.infer<typeof McpElicitationPayloadSchema>;

export const HumanInterruptPayloadSchema = z.discriminatedUnion('type', [
  ToolApprovalPayloadSchema,
  AskUserQuestionPayloadSchema,
  McpElicitationPayloadSchema,
]);
export type HumanInterruptPayload = z.infer<typeof HumanInterruptPayloadSchema>;

export const PendingActionSchema = z.object({
  actionId: z.string(),
  runId: z.string(),
  userId: z.string(),
  conversationId: z.string(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  payload: HumanInterruptPayloadSchema,
});
export type PendingAction = z.infer<typeof PendingActionSchema>;

export const MAX_QUESTIONS_PER_CALL = 4;

export const BatchQuestionSchema = QuestionSchema.extend({
  id: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/),
});

/** Arguments the model gives `ask_user_question`: one question, or a batch of 1–4 with unique ids. */
export const AskUserQuestionArgsSchema = z.union([
  z.object({
    questions: z
      .array(BatchQuestionSchema)
      .min(1)
      .max(MAX_QUESTIONS_PER_CALL)
      .refine(REFINEMENTS.uniqueQuestionIds, { message: 'question ids must be unique' }),
  }),
  QuestionSchema.omit({ id: true }),
]);
export type AskUserQuestionArgs = z.infer<typeof AskUserQuestionArgsSchema>;
