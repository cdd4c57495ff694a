// Derives the plain description ./interpret.ts runs from a zod schema, so the schema stays the single source
// of truth. Reads zod 4's schema definitions (`_zod.def`); anything it does not know is an error here, at
// generation time, never a silent difference at run time. Not part of the workflow bundle.
import type { z } from 'zod';
import { REFINEMENTS, type RefinementName } from '../contracts/refinements';
import type { ObjectField, Optionality, PlainValue, SchemaDescription } from './interpret';

/** The parts of zod 4's internal definitions this reads (zod/v4/core `$ZodTypeDef` and its checks). */
interface Internals {
  _zod: {
    def: Definition;
    optin?: Optionality;
    optout?: Optionality;
    values?: Set<unknown>;
  };
}
interface Definition {
  type: string;
  checks?: { _zod: { def: CheckDefinition } }[];
  shape?: Record<string, Internals>;
  catchall?: Internals;
  element?: Internals;
  keyType?: Internals;
  valueType?: Internals;
  options?: Internals[];
  innerType?: Internals;
  defaultValue?: unknown;
}
interface CheckDefinition {
  check: string;
  minimum?: number;
  maximum?: number;
  value?: number;
  inclusive?: boolean;
  format?: string;
  pattern?: RegExp;
  fn?: unknown;
}

const refinementNames = new Map<unknown, RefinementName>(
  Object.entries(REFINEMENTS).map(([name, fn]) => [fn, name as RefinementName]),
);

/** The description of `schema`; throws, naming the path, on anything the interpreter cannot run. */
export function describeSchema(schema: z.ZodType): SchemaDescription {
  return describe(schema, '(root)');
}

function describe(schema: Internals, path: string): SchemaDescription {
  const def = schema._zod.def;
  const fail = (what: string): never => {
    throw new Error(`${path}: ${what} (src/fast-parse/describe.ts does not describe it)`);
  };
  const refine: RefinementName[] = [];
  const limits: { minLength?: number; maxLength?: number } = {};
  const patterns: { source: string; flags: string }[] = [];
  let safeInteger = false;
  let above: { value: number; inclusive: boolean } | undefined;
  let below: { value: number; inclusive: boolean } | undefined;
  for (const check of def.checks ?? []) {
    const c = check._zod.def;
    if (c.check === 'custom') {
      const name = refinementNames.get(c.fn);
      if (name === undefined) fail('a refinement that is not in src/contracts/refinements.ts');
      refine.push(name!);
    } else if (c.check === 'min_length' && (def.type === 'string' || def.type === 'array')) {
      limits.minLength = Math.max(limits.minLength ?? 0, c.minimum!);
    } else if (c.check === 'max_length' && (def.type === 'string' || def.type === 'array')) {
      limits.maxLength = Math.min(limits.maxLength ?? Infinity, c.maximum!);
    } else if (c.check === 'string_format' && c.format === 'regex' && c.pattern) {
      patterns.push({ source: c.pattern.source, flags: c.pattern.flags });
    } else if (c.check === 'number_format' && c.format === 'safeint') {
      safeInteger = true;
    } else if (c.check === 'greater_than' && above === undefined) {
      above = { value: c.value!, inclusive: c.inclusive === true };
    } else if (c.check === 'less_than' && below === undefined) {
      below = { value: c.value!, inclusive: c.inclusive === true };
    } else {
      fail(`check ${c.check}${c.format ? ` (${c.format})` : ''} on ${def.type}`);
    }
  }
  const refined = refine.length > 0 ? { refine } : {};
  const onlyRefinements = (): void => {
    if (Object.keys(limits).length || patterns.length || safeInteger || above || below) fail(`checks on ${def.type}`);
  };
  switch (def.type) {
    case 'string':
      return { kind: 'string', ...limits, ...(patterns.length ? { patterns } : {}), ...refined };
    case 'number':
      if (Object.keys(limits).length || patterns.length) fail('length checks on a number');
      return {
        kind: 'number',
        ...(safeInteger ? { safeInteger } : {}),
        ...(above ? { above } : {}),
        ...(below ? { below } : {}),
        ...refined,
      };
    case 'array':
      if (patterns.length || safeInteger || above || below) fail('checks on an array');
      return { kind: 'array', element: describe(def.element!, `${path}[]`), ...limits, ...refined };
    case 'boolean':
    case 'unknown':
    case 'never':
      onlyRefinements();
      return { kind: def.type, ...refined };
    case 'literal':
    case 'enum': {
      onlyRefinements();
      const values = [...(schema._zod.values ?? [])];
      for (const value of values) {
        if (!['string', 'number', 'boolean'].includes(typeof value) && value !== null) fail(`a ${def.type} value`);
      }
      return { kind: def.type, values: values as (string | number)[], ...refined };
    }
    case 'object': {
      onlyRefinements();
      const fields: ObjectField[] = Object.entries(def.shape!).map(([key, field]) => {
        // The interpreter looks keys up as own properties; zod uses `in`, which differs for these names only.
        if (key in Object.prototype || key === '__proto__') fail(`field "${key}" (a name Object.prototype has)`);
        const { optin, optout } = field._zod;
        return {
          key,
          schema: describe(field, `${path}.${key}`),
          ...(optin !== undefined ? { optin } : {}),
          ...(optout !== undefined ? { optout } : {}),
        };
      });
      const catchall = def.catchall?._zod.def.type;
      const unknownKeys = catchall === undefined ? 'strip' : catchall === 'never' ? 'refuse' : 'keep';
      if (catchall !== undefined && catchall !== 'never' && catchall !== 'unknown') fail(`a ${catchall} catchall`);
      return { kind: 'object', fields, unknownKeys, ...refined };
    }
    case 'record':
      onlyRefinements();
      return {
        kind: 'record',
        key: describe(def.keyType!, `${path}{key}`),
        value: describe(def.valueType!, `${path}{}`),
        ...refined,
      };
    case 'union':
      onlyRefinements();
      return { kind: 'union', options: def.options!.map((option, i) => describe(option, `${path}|${i}`)), ...refined };
    case 'optional':
      onlyRefinements();
      return { kind: 'optional', inner: describe(def.innerType!, path), ...refined };
    case 'default':
    case 'prefault':
      onlyRefinements();
      return {
        kind: def.type,
        inner: describe(def.innerType!, path),
        value: plainValue(def.defaultValue, path, fail),
        ...refined,
      };
    default:
      return fail(`a ${def.type} schema`);
  }
}

/** A default as JSON data (zod hands out functions' results and clones; the interpreter copies JSON). */
function plainValue(value: unknown, path: string, fail: (what: string) => never): PlainValue {
  const text = JSON.stringify(value);
  if (text === undefined) return fail('a default that is not JSON');
  const copy = JSON.parse(text) as PlainValue;
  if (JSON.stringify(copy) !== text) fail(`a default that does not survive JSON at ${path}`);
  return copy;
}
