// The predicates the contracts' schemas refine with, by name and without zod: the workflow's fast parser
// (src/fast-parse) finds them here by the name its schema descriptions record, so it checks exactly what the
// schema checks. A schema reachable from a described root may refine only with a function listed here.
import { jsonLimitProblem, MAX_JSON_OBJECT_CHARS } from './json-limits';
import { MAX_ELICITATION_FIELDS } from './elicitation-content';

/** A run needs at least one message, in `messages` or staged in the content store. */
function hasMessages(input: { messages: unknown[]; stagedConversation?: unknown }): boolean {
  return input.messages.length > 0 || input.stagedConversation !== undefined;
}

/** Tool arguments and other free-form objects: within MAX_JSON_DEPTH and MAX_JSON_OBJECT_CHARS. */
function withinJsonObjectLimits(value: unknown): boolean {
  return jsonObjectProblem(value) === undefined;
}

/** Why a free-form object is refused (the message of `withinJsonObjectLimits`), or undefined. */
export function jsonObjectProblem(value: unknown): string | undefined {
  return jsonLimitProblem(value, MAX_JSON_OBJECT_CHARS, 'the object');
}

function namesOneToSixteenClaims(rule: object): boolean {
  const count = Object.keys(rule).length;
  return count >= 1 && count <= 16;
}

function atMost32Claims(claims: object): boolean {
  return Object.keys(claims).length <= 32;
}

function atMostElicitationFields(fields: object): boolean {
  return Object.keys(fields).length <= MAX_ELICITATION_FIELDS;
}

function uniqueQuestionIds(questions: readonly { id?: string }[]): boolean {
  return new Set(questions.map((question) => question.id)).size === questions.length;
}

/** Every named refinement (name → predicate on the value the schema has parsed so far). */
export const REFINEMENTS = {
  hasMessages,
  withinJsonObjectLimits,
  namesOneToSixteenClaims,
  atMost32Claims,
  atMostElicitationFields,
  uniqueQuestionIds,
} as const;
export type RefinementName = keyof typeof REFINEMENTS;
