// Limits on untrusted JSON, checked without recursion: a value nested 20 000 levels deep must be
// refused, not overflow the stack of the workflow (where it would fail every workflow task).

/** Deepest nesting of objects and arrays accepted anywhere a caller or a model supplies JSON. */
export const MAX_JSON_DEPTH = 64;
/** Tool arguments and other free-form objects: at most this many JSON characters. */
export const MAX_JSON_OBJECT_CHARS = 256 * 1024;
/** Largest resolution (approximate JSON characters): the HTTP API's body limit, 1 MiB. */
export const MAX_RESOLUTION_CHARS = 1024 * 1024;

export interface JsonMeasure {
  depth: number;
  /** Approximate size in JSON characters (strings, keys, numbers and punctuation). */
  chars: number;
}

/**
 * Walks `value` iteratively and stops as soon as a limit is passed. Returns what it measured, or the
 * limit that was exceeded.
 */
export function measureJson(
  value: unknown,
  limits: { maxDepth: number; maxChars: number },
): JsonMeasure | { exceeded: 'depth' | 'size' } {
  let chars = 0;
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (depth > limits.maxDepth) return { exceeded: 'depth' };
    if (depth > deepest) deepest = depth;
    if (typeof current === 'string') chars += current.length + 2;
    else if (current === null || typeof current !== 'object') chars += String(current).length;
    else if (Array.isArray(current)) {
      chars += 2 + current.length;
      for (const item of current) stack.push({ value: item, depth: depth + 1 });
    } else {
      const entries = Object.entries(current);
      chars += 2 + entries.length;
      for (const [key, item] of entries) {
        chars += key.length + 3;
        stack.push({ value: item, depth: depth + 1 });
      }
    }
    if (chars > limits.maxChars) return { exceeded: 'size' };
  }
  return { depth: deepest, chars };
}

/** A one-line reason when `value` is too deep or too large, else undefined. */
export function jsonLimitProblem(value: unknown, maxChars: number, what: string): string | undefined {
  const measured = measureJson(value, { maxDepth: MAX_JSON_DEPTH, maxChars });
  if (!('exceeded' in measured)) return undefined;
  return measured.exceeded === 'depth'
    ? `${what} is nested deeper than ${MAX_JSON_DEPTH} levels`
    : `${what} is larger than ${maxChars} characters`;
}
