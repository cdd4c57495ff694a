// Sandbox-safe: imported by workflow code. Only `../contracts` imports, no Node built-ins, no RegExp.
export { matchesToolPattern } from './glob';
export { ASK_USER_QUESTION_TOOL, evaluateRunPolicy, evaluateToolPolicy } from './evaluate';
export { annotationClass, annotationPolicyEntries, withAnnotationEntries } from './annotations';
export { claimRuleMatches, isApprover, approverClaimsFor } from './principals';
export type { PolicyDecision, PolicyRule, PolicyVerdict } from './evaluate';
export type { AnnotationClass, AnnotationEntries } from './annotations';
