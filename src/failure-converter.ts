// The worker's failure converter (workflow bundle and activities): Temporal's default one, plus
// well-formed strings. A failure's message echoes what users sent ("\"…\" is not an approver"), and a JS
// string may hold unpaired UTF-16 surrogates ("\ud800" is valid JSON) that are not valid UTF-8. The
// SDK core cannot decode such a completion and shuts the whole worker down; one hostile resolution
// would stall every run on the task queue. Sandbox-safe: the workflow bundle includes it.
import {
  DefaultFailureConverter,
  type PayloadConverter,
  type ProtoFailure,
  type SerializationContext,
} from '@temporalio/common';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text with every unpaired surrogate replaced by U+FFFD, so it encodes as valid UTF-8. */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/** Every string in a failure tree made well-formed (messages, stack traces, types, causes). */
function wellFormedDeep<T>(value: T): T {
  if (typeof value === 'string') return wellFormed(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => wellFormedDeep(item)) as T;
  // Only plain objects: payload bytes (Uint8Array) and other instances are left as they are.
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = wellFormedDeep(item);
  return out as T;
}

export class WellFormedFailureConverter extends DefaultFailureConverter {
  override errorToFailure(
    err: unknown,
    payloadConverter: PayloadConverter,
    context?: SerializationContext,
  ): ProtoFailure {
    return wellFormedDeep(super.errorToFailure(err, payloadConverter, context));
  }
}

/** Loaded by name through `dataConverter.failureConverterPath` (see src/worker.ts). */
export const failureConverter = new WellFormedFailureConverter();
