// MCP annotations as an agent's per-tool defaults (`mcpAnnotations: follow`). Pure and sandbox-safe, but
// used only when an agent's configuration is resolved (activity `resolveAgentConfig`): the entries it
// computes are written into the run's pinned policy, so the workflow evaluates them like any other entry.
import type { ToolPolicy, ToolSpec } from '../contracts';
import { matchesToolPattern } from './glob';

type ToolAnnotations = NonNullable<ToolSpec['annotations']>;

/**
 * What an MCP tool's annotations say about it, with the MCP specification's defaults for absent hints
 * (`readOnlyHint` false, `destructiveHint` true, the latter meaningful only when `readOnlyHint` is false):
 * - `readOnly`: `readOnlyHint: true` (and not also `destructiveHint: true`);
 * - `destructive`: not read-only and `destructiveHint` not `false` — also a tool with no annotations, and
 *   one that claims both `readOnlyHint: true` and `destructiveHint: true` (contradictory hints: the stricter);
 * - `additive`: not read-only and `destructiveHint: false`.
 */
export type AnnotationClass = 'readOnly' | 'destructive' | 'additive';

export function annotationClass(annotations: ToolAnnotations | undefined): AnnotationClass {
  const destructiveHint = annotations?.destructiveHint;
  if (annotations?.readOnlyHint === true && destructiveHint !== true) return 'readOnly';
  return destructiveHint === false ? 'additive' : 'destructive';
}

/** The entries the annotations add to a policy: exact MCP tool names for `allow` and for `ask`. */
export interface AnnotationEntries {
  allow: string[];
  ask: string[];
}

function named(policy: ToolPolicy, tool: string): boolean {
  return [...policy.deny, ...policy.ask, ...policy.allow].some((pattern) => matchesToolPattern(pattern, tool));
}

/**
 * The default of each MCP tool that no entry of `policy` names (no `allow`, `deny` or `ask` pattern — the
 * merged `toolApproval` with `toolOptions` — matches it), following its annotations in place of the mode:
 *
 * | class       | mode `default` | `bypass`            | `dontAsk` |
 * | ----------- | -------------- | ------------------- | --------- |
 * | readOnly    | allow          | allow               | allow     |
 * | destructive | ask            | ask (`ask` entry)   | deny      |
 * | additive    | ask            | allow               | deny      |
 *
 * Only what differs from the mode becomes an entry: a read-only tool joins `allow` (unless the mode is
 * `bypass`), a destructive one joins `ask` only under `bypass` (under `default` the mode already asks, and a
 * remembered approval still works as without the option; under `dontAsk` it stays denied: an annotation
 * never turns a deny into a pause). Explicit entries always win, tools without `mcp` (built-in tools) are
 * never touched, and a request's `tighten` applies after all of this (its deny and ask beat an annotation's
 * allow).
 */
export function annotationPolicyEntries(policy: ToolPolicy, specs: readonly ToolSpec[]): AnnotationEntries {
  const entries: AnnotationEntries = { allow: [], ask: [] };
  for (const spec of specs) {
    if (spec.mcp === undefined || named(policy, spec.name)) continue;
    const kind = annotationClass(spec.annotations);
    if (kind === 'readOnly' && policy.mode !== 'bypass') entries.allow.push(spec.name);
    else if (kind === 'destructive' && policy.mode === 'bypass') entries.ask.push(spec.name);
  }
  return { allow: [...new Set(entries.allow)], ask: [...new Set(entries.ask)] };
}

/** `policy` with the annotation entries added to its `allow` and `ask` lists. */
export function withAnnotationEntries(policy: ToolPolicy, entries: AnnotationEntries): ToolPolicy {
  return { ...policy, allow: [...policy.allow, ...entries.allow], ask: [...policy.ask, ...entries.ask] };
}
