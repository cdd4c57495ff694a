import { z } from 'zod';

/** `ApplicationFailure.type` of every refused resolution (wire). */
export const RefusalTypeSchema = z.enum([
  'InvalidResolution',
  'NoPendingAction',
  'StaleAction',
  'AlreadyResolved',
  'ActionExpired',
  'NotAuthorized',
  'UndecidedToolCalls',
  'DecisionNotPermitted',
  'IncompleteDecision',
  'AnswerRequired',
  'AnswerTooLong',
  'UnknownQuestionId',
  'InvalidElicitationContent',
]);
export type RefusalType = z.infer<typeof RefusalTypeSchema>;
export const REFUSAL_TYPES: readonly RefusalType[] = RefusalTypeSchema.options;

/** A refusal as data: what the workflow records and what the client hands back. */
export const RefusalSchema = z.object({
  type: RefusalTypeSchema,
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type Refusal = z.infer<typeof RefusalSchema>;
