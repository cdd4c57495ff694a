import type { TightenRules, ToolPolicy } from '../contracts';
import { ASK_USER_QUESTION } from '../contracts/values';
import { matchesToolPattern } from './glob';

/** The built-in question tool: exempt from approval unless a policy list names it exactly. */
export const ASK_USER_QUESTION_TOOL = ASK_USER_QUESTION;

export type PolicyDecision = 'allow' | 'deny' | 'ask';

/** Which step of the evaluation order produced the decision. */
export type PolicyRule =
  | 'deny'
  | 'ask'
  | 'allow'
  | 'grant'
  | 'bypass'
  | 'dontAsk'
  | 'default'
  | 'disabled'
  | 'exempt'
  | 'tightenDeny'
  | 'tightenAsk';

export type PolicyVerdict = {
  decision: PolicyDecision;
  rule: PolicyRule;
  /** The policy's `reason` template with every `{tool}` replaced; only on ask and deny, only if set. */
  reason?: string;
};

function matchesAny(patterns: readonly string[], toolName: string): boolean {
  return patterns.some((pattern) => matchesToolPattern(pattern, toolName));
}

/** Steps 2–7 of the order, ignoring the kill switch. */
function evaluateEnabled(
  toolName: string,
  policy: ToolPolicy,
  grants: ReadonlySet<string>,
): Omit<PolicyVerdict, 'reason'> {
  if (matchesAny(policy.deny, toolName)) return { decision: 'deny', rule: 'deny' };
  if (matchesAny(policy.ask, toolName)) return { decision: 'ask', rule: 'ask' };
  if (matchesAny(policy.allow, toolName)) return { decision: 'allow', rule: 'allow' };
  // Grants are remembered approvals of exact tool names: compared by equality, never as globs.
  if (grants.has(toolName)) return { decision: 'allow', rule: 'grant' };
  if (policy.mode === 'bypass') return { decision: 'allow', rule: 'bypass' };
  if (policy.mode === 'dontAsk') return { decision: 'deny', rule: 'dontAsk' };
  return { decision: 'ask', rule: 'default' };
}

/** Replaces every `{tool}` literally (split/join, so `$&` and friends in the name are not special). */
function renderReason(template: string, toolName: string): string {
  return template.split('{tool}').join(toolName);
}

/**
 * Decides one tool call, in LibreChat's order:
 * 1. HITL is on only when `policy.enabled === true`; when off, what would ask is blocked (rule
 *    `disabled`, fail closed), deny still denies and allow still allows.
 * 2. `deny` match → deny · 3. `ask` match → ask · 4. `allow` match → allow, or an exact-name grant →
 *    allow · 5. mode `bypass` → allow · 6. mode `dontAsk` → deny · 7. otherwise ask.
 *
 * `ask_user_question` is exempt (allowed, rule `exempt`) unless one of allow/deny/ask contains that
 * exact name; a wildcard such as `*` does not end the exemption. The exemption also holds when the kill
 * switch is off: the tool is how the model asks the user a question, not a side effect needing approval,
 * so blocking it would gain no safety.
 *
 * A non-empty `policy.reason` is rendered onto ask and deny verdicts (including `disabled` and
 * `dontAsk`), never onto allow; without one (or with an empty one) there is no `reason` field.
 */
export function evaluateToolPolicy(
  toolName: string,
  policy: ToolPolicy,
  grants: ReadonlySet<string> = new Set(),
): PolicyVerdict {
  const named = (patterns: readonly string[]): boolean => patterns.includes(toolName);
  if (toolName === ASK_USER_QUESTION_TOOL && !named(policy.allow) && !named(policy.deny) && !named(policy.ask)) {
    return { decision: 'allow', rule: 'exempt' };
  }

  let verdict: Omit<PolicyVerdict, 'reason'> = evaluateEnabled(toolName, policy, grants);
  if (policy.enabled !== true && verdict.decision === 'ask') verdict = { decision: 'deny', rule: 'disabled' };

  if (verdict.decision === 'allow' || !policy.reason) return verdict;
  return { ...verdict, reason: renderReason(policy.reason, toolName) };
}

/**
 * The agent's verdict, then the run request's tightening on top (DESIGN.md v1.1: a request can only
 * tighten): a `tighten.deny` match denies; a `tighten.ask` match turns an *allow* into ask (or into a
 * block when HITL is off, as any ask is). Tightening never turns a deny into an ask: with mode
 * `dontAsk`, a plain `ask` entry would beat the mode and let an approver run the tool, so a request's
 * ask entries apply only to calls the agent would allow outright. Grants cannot undo a tightening.
 */
export function evaluateRunPolicy(
  toolName: string,
  policy: ToolPolicy,
  options: { grants?: ReadonlySet<string>; tighten?: TightenRules } = {},
): PolicyVerdict {
  const verdict = evaluateToolPolicy(toolName, policy, options.grants);
  const tighten = options.tighten;
  if (!tighten) return verdict;
  const reason = policy.reason ? { reason: renderReason(policy.reason, toolName) } : {};
  if (matchesAny(tighten.deny, toolName)) return { decision: 'deny', rule: 'tightenDeny', ...reason };
  if (verdict.decision === 'allow' && matchesAny(tighten.ask, toolName)) {
    return policy.enabled === true
      ? { decision: 'ask', rule: 'tightenAsk', ...reason }
      : { decision: 'deny', rule: 'disabled', ...reason };
  }
  return verdict;
}
