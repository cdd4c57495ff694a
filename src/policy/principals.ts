// Who is who: claim rules for approvers (and, in the HTTP API, for who may start an agent's runs).
// Sandbox-safe: the workflow checks approvers with it.
import type { ApproverClaims, ApproverRules, ClaimRule } from '../contracts';

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/**
 * True when every claim the rule names holds one of its accepted values. A claim that is a list (e.g.
 * `groups`) matches when any item is accepted; a claim that is missing, or not a string, never matches.
 */
export function claimRuleMatches(rule: ClaimRule, claims: Readonly<Record<string, unknown>> | undefined): boolean {
  if (!claims) return false;
  const entries = Object.entries(rule);
  if (entries.length === 0) return false;
  return entries.every(([name, accepted]) => {
    if (!Object.prototype.hasOwnProperty.call(claims, name)) return false;
    const held = asList(claims[name]);
    const allowed = asList(accepted);
    return held.some((value) => allowed.includes(value));
  });
}

/** May `approver` (with these verified claims) resolve a run with these approver rules? */
export function isApprover(
  rules: ApproverRules,
  approver: string,
  claims?: Readonly<Record<string, unknown>>,
): boolean {
  if (rules.users.includes(approver)) return true;
  return rules.claims.some((rule) => claimRuleMatches(rule, claims));
}

/**
 * The claims a run's rules look at, taken from a verified token: strings and lists of strings only,
 * each claim at most 64 items of at most 256 characters (longer values are dropped, never cut).
 */
export function approverClaimsFor(
  rules: readonly ClaimRule[],
  token: Readonly<Record<string, unknown>>,
): ApproverClaims {
  const picked: ApproverClaims = {};
  for (const rule of rules) {
    for (const name of Object.keys(rule)) {
      if (name in picked || !Object.prototype.hasOwnProperty.call(token, name)) continue;
      const value = token[name];
      if (typeof value === 'string' && value.length <= 256) picked[name] = value;
      else if (Array.isArray(value)) {
        const items = value.filter((item): item is string => typeof item === 'string' && item.length <= 256);
        picked[name] = items.slice(0, 64);
      }
    }
  }
  return picked;
}
