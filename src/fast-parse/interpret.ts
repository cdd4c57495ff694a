// The workflow's fast path for parsing what arrives from outside (run input, resolutions, waiter requests):
// a plain-data description of a zod schema (derived from it by ./describe.ts, checked in as
// ./descriptions.ts) and this interpreter, which gives zod's exact output for an input zod accepts, or
// "don't know". It never refuses: on "don't know" the caller asks zod itself (loaded lazily), whose answer
// is the only one that counts. Without zod: see src/contracts/values.ts for why.
import { REFINEMENTS, type RefinementName } from '../contracts/refinements';

/** A JSON value, as defaults and literals are recorded. */
export type PlainValue = string | number | boolean | null | PlainValue[] | { [key: string]: PlainValue };

/** How an object field is optional, as zod marks it (`optin` / `optout` of the field's schema). */
export type Optionality = 'optional' | 'defaulted';

export interface ObjectField {
  key: string;
  schema: SchemaDescription;
  optin?: Optionality;
  optout?: Optionality;
}

interface Refined {
  /** Named predicates (src/contracts/refinements.ts) run on the parsed value, in order. */
  refine?: RefinementName[];
}

export type SchemaDescription = Refined &
  (
    | { kind: 'string'; minLength?: number; maxLength?: number; patterns?: { source: string; flags: string }[] }
    | {
        kind: 'number';
        safeInteger?: boolean;
        /** Lower and upper bounds; `inclusive` as zod's `gte`/`lte` (`min`/`max`), else `gt`/`lt`. */
        above?: { value: number; inclusive: boolean };
        below?: { value: number; inclusive: boolean };
      }
    | { kind: 'boolean' }
    | { kind: 'unknown' }
    | { kind: 'never' }
    | { kind: 'literal'; values: (string | number | boolean | null)[] }
    | { kind: 'enum'; values: (string | number)[] }
    | { kind: 'array'; element: SchemaDescription; minLength?: number; maxLength?: number }
    /** `unknownKeys`: strip (z.object), refuse (z.strictObject) or keep (z.looseObject). */
    | { kind: 'object'; fields: ObjectField[]; unknownKeys: 'strip' | 'refuse' | 'keep' }
    | { kind: 'record'; key: SchemaDescription; value: SchemaDescription }
    /** The first option that accepts wins (a discriminated union's options have distinct literal tags). */
    | { kind: 'union'; options: SchemaDescription[] }
    | { kind: 'optional'; inner: SchemaDescription }
    /** `default`: an undefined input becomes the value (not parsed); `prefault`: the value is parsed. */
    | { kind: 'default' | 'prefault'; inner: SchemaDescription; value: PlainValue }
  );

/** "Don't know": the input is refused by the description, or is something the interpreter leaves to zod. */
const UNDECIDED: unique symbol = Symbol('undecided');
/** A parsed value, or UNDECIDED. */
type Outcome = unknown;

/**
 * zod's output for `value` under the schema `description` describes, or undefined when zod must decide (the
 * input looks invalid, or is not plain JSON data: undefined-valued keys, a `__proto__` key, class instances).
 */
export function fastParse(description: SchemaDescription, value: unknown): { value: unknown } | undefined {
  const parsed = parse(description, value);
  return parsed === UNDECIDED ? undefined : { value: parsed };
}

function parse(description: SchemaDescription, input: unknown): Outcome {
  const parsed = parseKind(description, input);
  if (parsed === UNDECIDED || description.refine === undefined) return parsed;
  for (const name of description.refine) if (!REFINEMENTS[name](parsed as never)) return UNDECIDED;
  return parsed;
}

function parseKind(description: SchemaDescription, input: unknown): Outcome {
  switch (description.kind) {
    case 'string': {
      if (typeof input !== 'string') return UNDECIDED;
      if (description.minLength !== undefined && input.length < description.minLength) return UNDECIDED;
      if (description.maxLength !== undefined && input.length > description.maxLength) return UNDECIDED;
      for (const pattern of description.patterns ?? []) if (!compiled(pattern).test(input)) return UNDECIDED;
      return input;
    }
    case 'number': {
      if (typeof input !== 'number' || !Number.isFinite(input)) return UNDECIDED;
      if (description.safeInteger && !Number.isSafeInteger(input)) return UNDECIDED;
      const { above, below } = description;
      if (above && !(above.inclusive ? input >= above.value : input > above.value)) return UNDECIDED;
      if (below && !(below.inclusive ? input <= below.value : input < below.value)) return UNDECIDED;
      return input;
    }
    case 'boolean':
      return typeof input === 'boolean' ? input : UNDECIDED;
    case 'unknown':
      return input;
    case 'never':
      return UNDECIDED;
    case 'literal':
    case 'enum':
      return (description.values as unknown[]).includes(input) ? input : UNDECIDED;
    case 'array': {
      if (!Array.isArray(input)) return UNDECIDED;
      if (description.minLength !== undefined && input.length < description.minLength) return UNDECIDED;
      if (description.maxLength !== undefined && input.length > description.maxLength) return UNDECIDED;
      const output: unknown[] = [];
      for (const element of input as unknown[]) {
        const parsed = parse(description.element, element);
        if (parsed === UNDECIDED) return UNDECIDED;
        output.push(parsed);
      }
      return output;
    }
    case 'object':
      return parseObject(description.fields, description.unknownKeys, input);
    case 'record': {
      if (!isPlainData(input)) return UNDECIDED;
      const output: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(input)) {
        if (parse(description.key, key) !== key) return UNDECIDED;
        const parsed = parse(description.value, item);
        if (parsed === UNDECIDED || parsed === undefined) return UNDECIDED;
        output[key] = parsed;
      }
      return output;
    }
    case 'union':
      for (const option of description.options) {
        const parsed = parse(option, input);
        if (parsed !== UNDECIDED) return parsed;
      }
      return UNDECIDED;
    case 'optional':
      return input === undefined ? undefined : parse(description.inner, input);
    case 'default':
      return input === undefined ? copy(description.value) : parse(description.inner, input);
    case 'prefault':
      return parse(description.inner, input === undefined ? copy(description.value) : input);
  }
}

/** zod's object parse, for plain data only: fields in the schema's order, then (loose) the other keys. */
function parseObject(fields: ObjectField[], unknownKeys: 'strip' | 'refuse' | 'keep', input: unknown): Outcome {
  if (!isPlainData(input)) return UNDECIDED;
  const output: Record<string, unknown> = {};
  for (const { key, schema, optin, optout } of fields) {
    // zod's rules for a field, in its order (an absent key is parsed as undefined).
    const present = Object.hasOwn(input, key);
    if (!present && optin === 'optional' && optout === 'optional') continue;
    const parsed = parse(schema, present ? input[key] : undefined);
    if (parsed === UNDECIDED) {
      if (!present && optin !== undefined && optout === 'optional') continue;
      return UNDECIDED;
    }
    if (!present && optin === undefined) return UNDECIDED;
    if (parsed !== undefined) output[key] = parsed;
    else if (present || (optin === 'defaulted' && optout !== 'optional')) output[key] = undefined;
  }
  if (unknownKeys === 'strip') return output;
  for (const key of Object.keys(input)) {
    if (fields.some((field) => field.key === key)) continue;
    if (unknownKeys === 'refuse') return UNDECIDED;
    output[key] = input[key];
  }
  return output;
}

/**
 * A plain object as JSON decoding makes it: no prototype but Object's (or none), no `__proto__` or symbol
 * key, no undefined value. Anything else goes to zod, whose handling of those cases is subtle.
 */
function isPlainData(input: unknown): input is Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return false;
  const prototype: unknown = Object.getPrototypeOf(input);
  if (prototype !== Object.prototype && prototype !== null) return false;
  if (Object.getOwnPropertySymbols(input).length > 0 || Object.hasOwn(input, '__proto__')) return false;
  for (const key of Object.keys(input)) if ((input as Record<string, unknown>)[key] === undefined) return false;
  return true;
}

const patterns = new Map<string, RegExp>();
/** Each pattern compiled once (per run: the workflow bundle's modules are per run). */
function compiled(pattern: { source: string; flags: string }): RegExp {
  const key = `${pattern.flags}/${pattern.source}`;
  let regex = patterns.get(key);
  if (regex === undefined) {
    regex = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    patterns.set(key, regex);
  }
  return regex;
}

/** A fresh copy of a recorded default, as zod hands out a default that nobody else holds. */
function copy(value: PlainValue): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (typeof value === 'object' && value !== null) {
    const output: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) output[key] = copy(item);
    return output;
  }
  return value;
}
