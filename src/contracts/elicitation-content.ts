// Checking an approver's answer against an MCP elicitation form, and the limits of elicitation: pure and
// without zod (the workflow runs this check in its update handler; see src/contracts/values.ts for why).
import type { ElicitationField, ElicitationRequestedSchema, ElicitationValue } from './elicitation';

/** Longest elicitation message kept (longer ones are cut by the activity before the run sees them). */
export const MAX_ELICITATION_MESSAGE_CHARS = 4000;
/** Most fields a form may ask for, and most options of one enum. */
export const MAX_ELICITATION_FIELDS = 64;
export const MAX_ELICITATION_OPTIONS = 256;
/** Largest requested schema (JSON characters) a run accepts; a larger one is refused to the server. */
export const MAX_ELICITATION_SCHEMA_CHARS = 32 * 1024;
/** Longest string an approver may put in one field. */
export const MAX_ELICITATION_VALUE_CHARS = 16_000;
export const MAX_ELICITATION_URL_CHARS = 4096;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/;

function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

/** The values a single- or multi-select field allows, or undefined for free input. */
function allowedValues(field: ElicitationField): readonly string[] | undefined {
  if (field.type === 'string') return field.enum ?? field.oneOf?.map((option) => option.const);
  if (field.type === 'array') {
    const items = field.items;
    return 'anyOf' in items && Array.isArray(items.anyOf)
      ? (items.anyOf as { const: string }[]).map((option) => option.const)
      : (items as { enum: string[] }).enum;
  }
  return undefined;
}

function fieldProblem(name: string, field: ElicitationField, value: ElicitationValue): string | undefined {
  const label = `"${name}"`;
  switch (field.type) {
    case 'string': {
      if (typeof value !== 'string') return `${label} must be text`;
      const allowed = allowedValues(field);
      if (allowed !== undefined && !allowed.includes(value)) return `${label} must be one of ${allowed.join(', ')}`;
      if (field.minLength !== undefined && value.length < field.minLength)
        return `${label} must have at least ${field.minLength} characters`;
      if (field.maxLength !== undefined && value.length > field.maxLength)
        return `${label} must have at most ${field.maxLength} characters`;
      if (field.format === 'email' && !EMAIL.test(value)) return `${label} must be an email address`;
      if (field.format === 'uri' && !URI.test(value)) return `${label} must be a URI`;
      if (field.format === 'date' && !isCalendarDate(value)) return `${label} must be a date (YYYY-MM-DD)`;
      if (field.format === 'date-time' && !(DATE_TIME.test(value) && isCalendarDate(value.slice(0, 10))))
        return `${label} must be a date and time (RFC 3339)`;
      return undefined;
    }
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return `${label} must be a number`;
      if (field.type === 'integer' && !Number.isInteger(value)) return `${label} must be an integer`;
      if (field.minimum !== undefined && value < field.minimum) return `${label} must be at least ${field.minimum}`;
      if (field.maximum !== undefined && value > field.maximum) return `${label} must be at most ${field.maximum}`;
      return undefined;
    }
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${label} must be true or false`;
    case 'array': {
      if (!Array.isArray(value)) return `${label} must be a list of choices`;
      const allowed = allowedValues(field) ?? [];
      const unknown = value.filter((item) => !allowed.includes(item));
      if (unknown.length > 0) return `${label}: ${unknown.slice(0, 5).join(', ')} is not one of ${allowed.join(', ')}`;
      if (new Set(value).size !== value.length) return `${label} lists a choice twice`;
      if (field.minItems !== undefined && value.length < field.minItems)
        return `${label} needs at least ${field.minItems} choices`;
      if (field.maxItems !== undefined && value.length > field.maxItems)
        return `${label} takes at most ${field.maxItems} choices`;
      return undefined;
    }
  }
}

/** One way in which content does not answer a form: the field it concerns, and why. */
export interface ElicitationContentProblem {
  field: string;
  message: string;
}

/** Most problems reported for one answer. */
export const MAX_ELICITATION_PROBLEMS = 10;

/**
 * Every way `content` does not answer the form `schema` (at most MAX_ELICITATION_PROBLEMS, in field order),
 * empty when it does. Fields the form does not ask for are refused; required fields must be present.
 */
export function elicitationContentProblemList(
  schema: ElicitationRequestedSchema,
  content: Readonly<Record<string, ElicitationValue>>,
): ElicitationContentProblem[] {
  const problems: ElicitationContentProblem[] = [];
  const fields = schema.properties;
  for (const name of Object.keys(content)) {
    const field = name.slice(0, 80);
    if (!Object.hasOwn(fields, name)) problems.push({ field, message: `"${field}" is not a field of this form` });
  }
  for (const name of schema.required ?? []) {
    if (Object.hasOwn(fields, name) && !Object.hasOwn(content, name)) {
      problems.push({ field: name, message: `"${name}" is required` });
    }
  }
  for (const [name, field] of Object.entries(fields)) {
    if (!Object.hasOwn(content, name)) continue;
    const problem = fieldProblem(name, field, content[name]!);
    if (problem !== undefined) problems.push({ field: name, message: problem });
  }
  return problems.slice(0, MAX_ELICITATION_PROBLEMS);
}

/**
 * Why `content` does not answer the form `schema` (every problem, in field order), or undefined when it does.
 * Fields the form does not ask for are refused; required fields must be present.
 */
export function elicitationContentProblems(
  schema: ElicitationRequestedSchema,
  content: Readonly<Record<string, ElicitationValue>>,
): string | undefined {
  const problems = elicitationContentProblemList(schema, content);
  return problems.length === 0 ? undefined : problems.map((problem) => problem.message).join('; ');
}
