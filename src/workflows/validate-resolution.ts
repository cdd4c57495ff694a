// Pure checks of a resolution against the run's pending action. Sandbox-safe: used by the workflow's
// update and signal handlers, and unit-tested on its own.
import type {
  ApproverRules,
  AskUserQuestionPayload,
  Decision,
  ElicitationAnswer,
  McpElicitationPayload,
  ParsedResolution,
  PendingAction,
  Refusal,
  RefusalType,
} from '../contracts';
import { elicitationContentProblemList } from '../contracts/elicitation-content';
import { jsonLimitProblem } from '../contracts/json-limits';
import { MAX_ANSWER_CHARS } from '../contracts/values';
import { isApprover } from '../policy';
import { parseResolution } from './parse';

/** Edited arguments larger than this (as JSON) are refused: they would bloat history for every later turn. */
export const MAX_EDITED_ARGUMENTS_CHARS = 100_000;

export interface ResolutionContext {
  pending: PendingAction | null;
  /** Who may resolve: named identities, and claim rules matched against `approverClaims`. */
  approvers: ApproverRules;
  resolvedActionIds: ReadonlySet<string>;
  expiredActionIds: ReadonlySet<string>;
}

/** A decision after its data was checked: `edit` has an object, `respond` has text. */
export type CheckedDecision =
  | { tool_call_id: string; decision: 'approve'; scope: 'once' | 'session' | 'always' }
  | { tool_call_id: string; decision: 'reject'; reason?: string }
  | { tool_call_id: string; decision: 'edit'; editedArguments: Record<string, unknown> }
  | { tool_call_id: string; decision: 'respond'; responseText: string };

/** Answers to a question action, ready to go back to the model as the tool result. */
export type CheckedAnswer = { answer: string } | { answers: Record<string, string> };

export type ResolutionCheck =
  | {
      ok: true;
      resolution: ParsedResolution;
      decisions: Map<string, CheckedDecision>;
      answer?: CheckedAnswer;
      elicitation?: ElicitationAnswer;
    }
  | { ok: false; refusal: Refusal; actionId: string | null; approver: string | null };

function refuse(
  type: RefusalType,
  message: string,
  who: { actionId?: string | null; approver?: string | null } = {},
  details?: Record<string, unknown>,
): ResolutionCheck {
  return {
    ok: false,
    refusal: details ? { type, message, details } : { type, message },
    actionId: who.actionId ?? null,
    approver: who.approver ?? null,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Best-effort identity of a malformed resolution, for the audit log only. */
function peekString(raw: unknown, key: string): string | null {
  if (!isPlainObject(raw)) return null;
  const value = raw[key];
  return typeof value === 'string' && value.length <= 256 ? value : null;
}

/**
 * Decides whether `raw` may resolve the current pending action. Order: shape, identity, action
 * lifecycle (resolved / expired / not paused / stale), then each decision, then completeness.
 */
export function checkResolution(raw: unknown, ctx: ResolutionContext): ResolutionCheck {
  const parsed = parseResolution(raw);
  if (!parsed.ok) {
    return refuse(parsed.refusal.type, parsed.refusal.message, {
      actionId: peekString(raw, 'actionId'),
      approver: peekString(raw, 'approver'),
    });
  }
  const resolution = parsed.resolution;
  const who = { actionId: resolution.actionId, approver: resolution.approver };

  if (!isApprover(ctx.approvers, resolution.approver, resolution.approverClaims)) {
    return refuse('NotAuthorized', `"${resolution.approver}" is not an approver of this run`, who);
  }
  if (ctx.resolvedActionIds.has(resolution.actionId)) {
    return refuse('AlreadyResolved', `Action ${resolution.actionId} was already resolved`, who);
  }
  if (ctx.expiredActionIds.has(resolution.actionId)) {
    return refuse('ActionExpired', `Action ${resolution.actionId} expired before a decision was made`, who);
  }
  const pending = ctx.pending;
  if (!pending) return refuse('NoPendingAction', 'The run is not waiting for a decision', who);
  if (pending.actionId !== resolution.actionId) {
    return refuse('StaleAction', `Action ${resolution.actionId} is not the current pending action`, who, {
      currentActionId: pending.actionId,
    });
  }

  if (pending.payload.type === 'ask_user_question') {
    if ((resolution.decisions ?? []).length > 0) {
      return refuse('DecisionNotPermitted', 'A question is answered with "answer" or "answers", not decisions', who);
    }
    const answer = checkAnswers(resolution, pending.payload);
    if ('type' in answer) return refuse(answer.type, answer.message, who, answer.details);
    return { ok: true, resolution, decisions: new Map(), answer };
  }

  if (pending.payload.type === 'mcp_elicitation') {
    const checked = checkElicitationAnswer(resolution, pending.payload);
    if ('type' in checked) return refuse(checked.type, checked.message, who, checked.details);
    return { ok: true, resolution, decisions: new Map(), elicitation: checked };
  }

  const configs = new Map(pending.payload.review_configs.map((config) => [config.tool_call_id, config]));
  const decisions = new Map<string, CheckedDecision>();
  for (const decision of resolution.decisions ?? []) {
    const config = configs.get(decision.tool_call_id);
    if (!config) {
      return refuse('DecisionNotPermitted', `Unknown tool_call_id "${decision.tool_call_id}"`, who, {
        tool_call_id: decision.tool_call_id,
      });
    }
    if (decisions.has(decision.tool_call_id)) {
      return refuse('DecisionNotPermitted', `Two decisions for tool_call_id "${decision.tool_call_id}"`, who, {
        tool_call_id: decision.tool_call_id,
      });
    }
    if (!config.allowed_decisions.includes(decision.decision)) {
      return refuse(
        'DecisionNotPermitted',
        `"${decision.decision}" is not allowed for ${decision.tool_call_id} (allowed: ${config.allowed_decisions.join(', ')})`,
        who,
        { tool_call_id: decision.tool_call_id, allowed_decisions: config.allowed_decisions },
      );
    }
    const checked = checkDecisionData(decision);
    if (typeof checked === 'string') {
      return refuse('IncompleteDecision', checked, who, { tool_call_id: decision.tool_call_id });
    }
    decisions.set(decision.tool_call_id, checked);
  }

  const undecided = pending.payload.review_configs.map((c) => c.tool_call_id).filter((id) => !decisions.has(id));
  if (undecided.length > 0) {
    return refuse('UndecidedToolCalls', `No decision for ${undecided.join(', ')}`, who, { tool_call_ids: undecided });
  }
  return { ok: true, resolution, decisions };
}

/** Returns the checked decision, or a message saying what is missing. */
function checkDecisionData(decision: Decision): CheckedDecision | string {
  switch (decision.decision) {
    case 'approve':
    case 'reject':
      return decision;
    case 'edit': {
      if (!isPlainObject(decision.editedArguments)) {
        return `"edit" for ${decision.tool_call_id} needs an object "editedArguments"`;
      }
      const problem = jsonLimitProblem(
        decision.editedArguments,
        MAX_EDITED_ARGUMENTS_CHARS,
        `"editedArguments" for ${decision.tool_call_id}`,
      );
      if (problem) return problem;
      return { tool_call_id: decision.tool_call_id, decision: 'edit', editedArguments: decision.editedArguments };
    }
    case 'respond': {
      if (typeof decision.responseText !== 'string' || decision.responseText.trim() === '') {
        return `"respond" for ${decision.tool_call_id} needs a non-empty "responseText"`;
      }
      return { tool_call_id: decision.tool_call_id, decision: 'respond', responseText: decision.responseText };
    }
  }
}

type AnswerRefusal = { type: RefusalType; message: string; details?: Record<string, unknown> };

/** One answer as text: a string, or the chosen values of a multi-select joined by ", ". */
function answerText(value: unknown, label: string): string | AnswerRefusal {
  const text =
    typeof value === 'string'
      ? value
      : Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? value.join(', ')
        : undefined;
  if (text === undefined || text.trim() === '') {
    return { type: 'AnswerRequired', message: `${label} needs an answer (text, or a list of chosen values)` };
  }
  if (text.length > MAX_ANSWER_CHARS) {
    return { type: 'AnswerTooLong', message: `${label} is longer than ${MAX_ANSWER_CHARS} characters` };
  }
  return text;
}

function checkAnswers(resolution: ParsedResolution, payload: AskUserQuestionPayload): CheckedAnswer | AnswerRefusal {
  if (!payload.questions) {
    const text = answerText(resolution.answer, 'The question');
    return typeof text === 'string' ? { answer: text } : text;
  }
  const given = resolution.answers;
  if (!isPlainObject(given)) {
    return {
      type: 'AnswerRequired',
      message: 'A batch of questions is answered with "answers": { "<question id>": "…" }',
      details: { question_ids: payload.questions.map((q) => q.id) },
    };
  }
  const ids = new Set(payload.questions.map((q) => q.id));
  const unknown = Object.keys(given).filter((id) => !ids.has(id));
  if (unknown.length > 0) {
    return {
      type: 'UnknownQuestionId',
      message: `No question with id ${unknown.map((id) => JSON.stringify(id.slice(0, 80))).join(', ')}`,
      details: { unknown_ids: unknown.slice(0, 20).map((id) => id.slice(0, 80)) },
    };
  }
  const answers: Record<string, string> = {};
  for (const question of payload.questions) {
    const id = question.id ?? '';
    const text = answerText(given[id], `Question "${id}"`);
    if (typeof text !== 'string') return { ...text, details: { question_id: id } };
    answers[id] = text;
  }
  return { answers };
}

/**
 * An elicitation is answered with `elicitation` only: accept with content that fits the form (a URL-mode
 * request takes none), decline or cancel (no content).
 */
function checkElicitationAnswer(
  resolution: ParsedResolution,
  payload: McpElicitationPayload,
): ElicitationAnswer | AnswerRefusal {
  if ((resolution.decisions ?? []).length > 0 || resolution.answer !== undefined || resolution.answers !== undefined) {
    return {
      type: 'DecisionNotPermitted',
      message: 'An MCP elicitation is answered with "elicitation": { "action": "accept" | "decline" | "cancel" }',
    };
  }
  const answer = resolution.elicitation;
  if (answer === undefined) {
    return {
      type: 'InvalidElicitationContent',
      message: 'An MCP elicitation needs "elicitation": { "action": "accept", "content": { … } }, or decline or cancel',
    };
  }
  if (answer.action !== 'accept') {
    if (answer.content !== undefined) {
      return { type: 'InvalidElicitationContent', message: `"${answer.action}" takes no content` };
    }
    return { action: answer.action };
  }
  if (payload.mode === 'url') {
    if (answer.content !== undefined && Object.keys(answer.content).length > 0) {
      return { type: 'InvalidElicitationContent', message: 'A URL elicitation is accepted without content' };
    }
    return { action: 'accept' };
  }
  const content = answer.content ?? {};
  const problems = elicitationContentProblemList(payload.requestedSchema, content);
  if (problems.length > 0) {
    // The problems by field as well, so a form can mark the fields to fix.
    return {
      type: 'InvalidElicitationContent',
      message: `The content does not match the requested form: ${problems.map((p) => p.message).join('; ')}`,
      details: { problems },
    };
  }
  return { action: 'accept', content };
}
