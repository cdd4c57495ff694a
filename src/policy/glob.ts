/**
 * Tool-name glob matching for the tool policy (sandbox-safe: no RegExp, no Node built-ins).
 *
 * `*` is the only wildcard and matches any run of characters, including none. Every other character
 * (`.`, `?`, `[`, `{`, `+`, `(`, `\` …) is literal. The whole name must match (anchored) and matching is
 * case-sensitive.
 *
 * Algorithm: split the pattern at `*` into literal segments. The first segment must be a prefix of the
 * name, the last a suffix, and the middle segments must occur in order, non-overlapping, in between.
 * Because `*` matches anything, taking the leftmost occurrence of each middle segment is always optimal,
 * so there is no backtracking: time is O(name × pattern) in the worst case (via `indexOf`), never
 * exponential, whatever the pattern.
 */
export function matchesToolPattern(pattern: string, toolName: string): boolean {
  const segments = pattern.split('*');
  if (segments.length === 1) return pattern === toolName;

  const first = segments[0] ?? '';
  const last = segments[segments.length - 1] ?? '';
  if (toolName.length < first.length + last.length) return false;
  if (!toolName.startsWith(first) || !toolName.endsWith(last)) return false;

  // Middle segments must fit, in order, between the prefix and the suffix.
  const end = toolName.length - last.length;
  let position = first.length;
  for (let i = 1; i < segments.length - 1; i++) {
    const segment = segments[i] ?? '';
    if (segment === '') continue;
    const found = toolName.indexOf(segment, position);
    if (found === -1 || found + segment.length > end) return false;
    position = found + segment.length;
  }
  return true;
}
