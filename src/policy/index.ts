// Sandbox-safe: imported by workflow code. Only `../contracts` imports, no Node built-ins, no RegExp.
export { matchesToolPattern } from './glob';
export { ASK_USER_QUESTION_TOOL, evaluateToolPolicy } from './evaluate';
export type { PolicyDecision, PolicyRule, PolicyVerdict } from './evaluate';
