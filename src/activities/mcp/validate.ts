// Arguments against a tool's JSON Schema (`inputSchema`), with Ajv: draft-07 by default, 2020-12 when the
// schema says so. Compiled validators are cached by the schema's text.
import Ajv, { type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

const MAX_CACHED = 500;
const cache = new Map<string, ValidateFunction>();
let draft7: Ajv | undefined;
let draft2020: Ajv2020 | undefined;

function compile(schema: Record<string, unknown>): ValidateFunction {
  const text = JSON.stringify(schema);
  const cached = cache.get(text);
  if (cached) return cached;
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  const { $schema: _ignored, ...rest } = schema;
  const ajv =
    declared.includes('2020-12') || declared.includes('2019-09') ? (draft2020 ??= make2020()) : (draft7 ??= make7());
  const validate = ajv.compile(rest);
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(text, validate);
  return validate;
}

function make7(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  return ajv;
}

function make2020(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  return ajv;
}

/** Undefined when `args` satisfy `schema`; else a short description of what is wrong (for the model). */
export function schemaViolations(schema: Record<string, unknown>, args: unknown): string | undefined {
  let validate: ValidateFunction;
  try {
    validate = compile(schema);
  } catch (error) {
    return `the tool's input schema cannot be used (${error instanceof Error ? error.message : String(error)})`;
  }
  if (validate(args)) return undefined;
  return (validate.errors ?? [])
    .slice(0, 10)
    .map(
      (error) => `${error.instancePath === '' ? '(arguments)' : error.instancePath} ${error.message ?? 'is invalid'}`,
    )
    .join('; ');
}
