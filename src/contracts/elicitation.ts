// MCP elicitation (a server asks the user for input during a tool call): the restricted form schema a
// server may send, the answer an approver gives, the messages between the tool's activity and the run, and
// a check of an answer against the schema. Sandbox-safe: the workflow checks answers in its update handler.
import { z } from 'zod';
import {
  MAX_ELICITATION_MESSAGE_CHARS,
  MAX_ELICITATION_FIELDS,
  MAX_ELICITATION_OPTIONS,
  MAX_ELICITATION_VALUE_CHARS,
  MAX_ELICITATION_URL_CHARS,
} from './elicitation-content';
import { REFINEMENTS } from './refinements';

const Text = z.string().max(1000);
const Long = z.string().max(MAX_ELICITATION_MESSAGE_CHARS);
const Option = z.string().max(1000);
const TitledOption = z.looseObject({ const: Option, title: Text.optional() });

// MCP's PrimitiveSchemaDefinition: unknown keywords are kept (servers add some), known ones are checked.
const StringFieldSchema = z.looseObject({
  type: z.literal('string'),
  title: Text.optional(),
  description: Long.optional(),
  minLength: z.number().int().nonnegative().optional(),
  maxLength: z.number().int().nonnegative().optional(),
  format: z.enum(['email', 'uri', 'date', 'date-time']).optional(),
  enum: z.array(Option).max(MAX_ELICITATION_OPTIONS).optional(),
  enumNames: z.array(Text).max(MAX_ELICITATION_OPTIONS).optional(),
  oneOf: z.array(TitledOption).max(MAX_ELICITATION_OPTIONS).optional(),
  default: Option.optional(),
});
const NumberFieldSchema = z.looseObject({
  type: z.enum(['number', 'integer']),
  title: Text.optional(),
  description: Long.optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  default: z.number().optional(),
});
const BooleanFieldSchema = z.looseObject({
  type: z.literal('boolean'),
  title: Text.optional(),
  description: Long.optional(),
  default: z.boolean().optional(),
});
const MultiSelectFieldSchema = z.looseObject({
  type: z.literal('array'),
  title: Text.optional(),
  description: Long.optional(),
  minItems: z.number().int().nonnegative().optional(),
  maxItems: z.number().int().nonnegative().optional(),
  items: z.union([
    z.looseObject({ type: z.literal('string'), enum: z.array(Option).max(MAX_ELICITATION_OPTIONS) }),
    z.looseObject({ anyOf: z.array(TitledOption).max(MAX_ELICITATION_OPTIONS) }),
  ]),
  default: z.array(Option).max(MAX_ELICITATION_OPTIONS).optional(),
});
export const ElicitationFieldSchema = z.union([
  StringFieldSchema,
  NumberFieldSchema,
  BooleanFieldSchema,
  MultiSelectFieldSchema,
]);
export type ElicitationField = z.infer<typeof ElicitationFieldSchema>;

/** What a form-mode `elicitation/create` asks for: a flat object of primitive fields (MCP's restricted subset). */
export const ElicitationRequestedSchemaSchema = z.looseObject({
  type: z.literal('object'),
  properties: z.record(z.string().min(1).max(256), ElicitationFieldSchema).refine(REFINEMENTS.atMostElicitationFields, {
    message: `at most ${MAX_ELICITATION_FIELDS} fields`,
  }),
  required: z.array(z.string().max(256)).max(MAX_ELICITATION_FIELDS).optional(),
});
export type ElicitationRequestedSchema = z.infer<typeof ElicitationRequestedSchemaSchema>;

/** A URL-mode elicitation has nothing to fill in: its schema is this empty form. */
export const EMPTY_ELICITATION_SCHEMA: ElicitationRequestedSchema = { type: 'object', properties: {} };

export const ElicitationValueSchema = z.union([
  z.string().max(MAX_ELICITATION_VALUE_CHARS),
  z.number(),
  z.boolean(),
  z.array(z.string().max(1000)).max(MAX_ELICITATION_OPTIONS),
]);
export type ElicitationValue = z.infer<typeof ElicitationValueSchema>;

/** An approver's answer to an elicitation: field `elicitation` of `resolveAction` (wire, v1.1). */
export const ElicitationAnswerSchema = z.object({
  action: z.enum(['accept', 'decline', 'cancel']),
  content: z
    .record(z.string().max(256), ElicitationValueSchema)
    .refine(REFINEMENTS.atMostElicitationFields, {
      message: `at most ${MAX_ELICITATION_FIELDS} fields`,
    })
    .optional(),
});
export type ElicitationAnswer = z.infer<typeof ElicitationAnswerSchema>;

/**
 * Signal `requestElicitation` (wire addition): the activity running an MCP tool call tells its run that the
 * server asks the user something. `elicitationId` is the activity's own id for this request (unique per
 * attempt), which it then polls with query `getElicitationResponse`.
 */
export const ElicitationRequestSchema = z.object({
  elicitationId: z.string().min(1).max(512),
  tool_call_id: z.string().min(1).max(256),
  server: z.string().min(1).max(64),
  message: Long,
  mode: z.enum(['form', 'url']),
  requestedSchema: ElicitationRequestedSchemaSchema,
  /** Only web links are ever shown to a person. */
  url: z
    .string()
    .max(MAX_ELICITATION_URL_CHARS)
    .regex(/^https?:\/\//i, 'an http(s) link')
    .optional(),
});
export type ElicitationRequest = z.infer<typeof ElicitationRequestSchema>;

/** Query `getElicitationResponse` (wire addition): what the run knows of one elicitation request. */
export const ElicitationResponseStateSchema = z.discriminatedUnion('status', [
  /** Paused for a person. */
  z.object({ status: z.literal('waiting') }),
  /** The run has not seen this request (yet: the asking activity allows it a few seconds, then cancels). */
  z.object({ status: z.literal('unknown') }),
  z.object({ status: z.literal('answered'), answer: ElicitationAnswerSchema }),
]);
export type ElicitationResponseState = z.infer<typeof ElicitationResponseStateSchema>;
