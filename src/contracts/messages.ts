import { z } from 'zod';
import { jsonObjectProblem, REFINEMENTS } from './refinements';

/** Tool arguments and other free-form objects: at most MAX_JSON_DEPTH deep and MAX_JSON_OBJECT_CHARS large. */
export const JsonObjectSchema = z
  .record(z.string(), z.unknown())
  .refine(REFINEMENTS.withinJsonObjectLimits, { error: (issue) => jsonObjectProblem(issue.input) });
export type JsonObject = z.infer<typeof JsonObjectSchema>;

/** Most tool calls one model turn may make (more is refused as an invalid turn). */
export const MAX_TOOL_CALLS_PER_TURN = 128;

export const ToolCallSchema = z.object({
  id: z.string().min(1).max(256),
  name: z.string().min(1).max(256),
  arguments: JsonObjectSchema,
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

export const ToolResultStatusSchema = z.enum(['success', 'error']);
export type ToolResultStatus = z.infer<typeof ToolResultStatusSchema>;

export const SystemMessageSchema = z.object({ role: z.literal('system'), content: z.string() });
export const UserMessageSchema = z.object({ role: z.literal('user'), content: z.string() });
export const AssistantMessageSchema = z.object({
  role: z.literal('assistant'),
  content: z.string().optional(),
  tool_calls: z.array(ToolCallSchema).max(MAX_TOOL_CALLS_PER_TURN).optional(),
});
export const ToolMessageSchema = z.object({
  role: z.literal('tool'),
  tool_call_id: z.string().min(1).max(256),
  name: z.string().min(1).max(256),
  status: ToolResultStatusSchema,
  content: z.string(),
});

export const ChatMessageSchema = z.discriminatedUnion('role', [
  SystemMessageSchema,
  UserMessageSchema,
  AssistantMessageSchema,
  ToolMessageSchema,
]);
export type ChatMessage = z.infer<typeof ChatMessageSchema>;
export type AssistantMessage = z.infer<typeof AssistantMessageSchema>;
export type ToolMessage = z.infer<typeof ToolMessageSchema>;

/** What one model call returns: text, tool calls, or both. Tool call ids must be unique in a turn. */
export const ModelTurnSchema = z
  .object({
    content: z.string().optional(),
    tool_calls: z.array(ToolCallSchema).max(MAX_TOOL_CALLS_PER_TURN).optional(),
  })
  .refine((turn) => new Set((turn.tool_calls ?? []).map((c) => c.id)).size === (turn.tool_calls ?? []).length, {
    message: 'tool call ids must be unique within one model turn',
    path: ['tool_calls'],
  });
export type ModelTurn = z.infer<typeof ModelTurnSchema>;

/** The outcome of one tool call, as it goes back to the model. */
export const ToolResultSchema = z.object({
  status: ToolResultStatusSchema,
  content: z.string(),
});
export type ToolResult = z.infer<typeof ToolResultSchema>;
