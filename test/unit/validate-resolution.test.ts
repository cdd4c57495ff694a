import assert from 'node:assert/strict';
import type { PendingAction, RefusalType } from '../../src/contracts';
import {
  checkResolutionShape,
  MAX_JSON_DEPTH,
  MAX_RESOLUTION_CHARS,
  measureJson,
  RunInputSchema,
} from '../../src/contracts';
import {
  checkResolution,
  MAX_EDITED_ARGUMENTS_CHARS,
  type ResolutionContext,
} from '../../src/workflows/validate-resolution';

const pending: PendingAction = {
  actionId: 'act-1',
  runId: 'run-1',
  userId: 'u1',
  conversationId: 'c1',
  createdAt: '2026-11-24T10:00:00.000Z',
  expiresAt: '2026-11-25T10:00:00.000Z',
  payload: {
    type: 'tool_approval',
    action_requests: [
      { tool_call_id: 'call_1', name: 'delete_file', arguments: { path: 'a.txt' } },
      { tool_call_id: 'call_2', name: 'delete_file', arguments: { path: 'b.txt' } },
    ],
    review_configs: [
      {
        tool_call_id: 'call_1',
        action_name: 'delete_file',
        allowed_decisions: ['approve', 'reject', 'edit', 'respond'],
      },
      { tool_call_id: 'call_2', action_name: 'delete_file', allowed_decisions: ['approve', 'reject'] },
    ],
  },
};

function context(overrides: Partial<ResolutionContext> = {}): ResolutionContext {
  return {
    pending,
    approvers: { users: ['u1', 'boss'], claims: [] },
    resolvedActionIds: new Set(),
    expiredActionIds: new Set(),
    ...overrides,
  };
}

function refusalOf(raw: unknown, ctx = context()): RefusalType {
  const check = checkResolution(raw, ctx);
  assert.equal(check.ok, false, 'expected a refusal');
  return check.ok ? ('' as RefusalType) : check.refusal.type;
}

const both = [
  { tool_call_id: 'call_1', decision: 'approve' },
  { tool_call_id: 'call_2', decision: 'reject', reason: 'no' },
];

describe('checkResolution', () => {
  it('accepts a complete resolution and defaults scope to once', () => {
    const check = checkResolution({ actionId: 'act-1', approver: 'boss', decisions: both }, context());
    assert.ok(check.ok);
    assert.deepEqual(check.decisions.get('call_1'), { tool_call_id: 'call_1', decision: 'approve', scope: 'once' });
    assert.equal(check.decisions.get('call_2')?.decision, 'reject');
  });

  it('refuses malformed JSON shapes as InvalidResolution, naming the field', () => {
    assert.equal(refusalOf(null), 'InvalidResolution');
    assert.equal(refusalOf({ actionId: 'act-1' }), 'InvalidResolution');
    assert.equal(
      refusalOf({ actionId: 'act-1', approver: 'u1', decisions: [{ tool_call_id: 'call_1', decision: 'maybe' }] }),
      'InvalidResolution',
    );
    assert.match(checkResolutionShape({ actionId: 7, approver: 'u1' })?.message ?? '', /actionId/);
  });

  it('refuses an approver who is not in approvers', () => {
    assert.equal(refusalOf({ actionId: 'act-1', approver: 'mallory', decisions: both }), 'NotAuthorized');
  });

  it('refuses by action lifecycle: resolved, expired, not paused, stale', () => {
    const raw = { actionId: 'act-1', approver: 'u1', decisions: both };
    assert.equal(refusalOf(raw, context({ resolvedActionIds: new Set(['act-1']) })), 'AlreadyResolved');
    assert.equal(refusalOf(raw, context({ expiredActionIds: new Set(['act-1']) })), 'ActionExpired');
    assert.equal(refusalOf(raw, context({ pending: null })), 'NoPendingAction');
    assert.equal(refusalOf({ ...raw, actionId: 'act-0' }), 'StaleAction');
  });

  it('refuses partial decisions with the undecided ids in details', () => {
    const check = checkResolution({ actionId: 'act-1', approver: 'u1', decisions: [both[0]] }, context());
    assert.ok(!check.ok);
    assert.equal(check.refusal.type, 'UndecidedToolCalls');
    assert.deepEqual(check.refusal.details, { tool_call_ids: ['call_2'] });
    assert.equal(refusalOf({ actionId: 'act-1', approver: 'u1' }), 'UndecidedToolCalls');
  });

  it('refuses unknown ids, duplicate decisions and decisions outside allowed_decisions', () => {
    assert.equal(
      refusalOf({
        actionId: 'act-1',
        approver: 'u1',
        decisions: [...both, { tool_call_id: 'call_9', decision: 'approve' }],
      }),
      'DecisionNotPermitted',
    );
    assert.equal(
      refusalOf({ actionId: 'act-1', approver: 'u1', decisions: [...both, both[0]] }),
      'DecisionNotPermitted',
    );
    assert.equal(
      refusalOf({
        actionId: 'act-1',
        approver: 'u1',
        decisions: [both[0], { tool_call_id: 'call_2', decision: 'edit', editedArguments: {} }],
      }),
      'DecisionNotPermitted',
    );
  });

  it('refuses edit without an object and respond without text as IncompleteDecision', () => {
    for (const bad of [
      { tool_call_id: 'call_1', decision: 'edit' },
      { tool_call_id: 'call_1', decision: 'edit', editedArguments: ['x'] },
      { tool_call_id: 'call_1', decision: 'edit', editedArguments: 'path=x' },
      { tool_call_id: 'call_1', decision: 'edit', editedArguments: { big: 'x'.repeat(MAX_EDITED_ARGUMENTS_CHARS) } },
      { tool_call_id: 'call_1', decision: 'respond' },
      { tool_call_id: 'call_1', decision: 'respond', responseText: '   ' },
      { tool_call_id: 'call_1', decision: 'respond', responseText: 42 },
    ]) {
      assert.equal(
        refusalOf({ actionId: 'act-1', approver: 'u1', decisions: [bad, both[1]] }),
        'IncompleteDecision',
        JSON.stringify(bad).slice(0, 80),
      );
    }
  });

  it('keeps edited arguments as given, including odd keys, without touching prototypes', () => {
    const edited = JSON.parse('{"path":"x.txt","__proto__":{"polluted":true}}') as Record<string, unknown>;
    const check = checkResolution(
      {
        actionId: 'act-1',
        approver: 'u1',
        decisions: [{ tool_call_id: 'call_1', decision: 'edit', editedArguments: edited }, both[1]],
      },
      context(),
    );
    assert.ok(check.ok);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses deeply nested and oversized resolutions without recursing (no stack overflow)', () => {
    let deep: unknown = 'leaf';
    for (let n = 0; n < 20_000; n += 1) deep = { a: deep };
    const nested = {
      actionId: 'act-1',
      approver: 'u1',
      decisions: [{ tool_call_id: 'call_1', decision: 'edit', editedArguments: deep }, both[1]],
    };
    assert.equal(refusalOf(nested), 'InvalidResolution');
    assert.match(checkResolutionShape(nested)?.message ?? '', /nested deeper than 64 levels/);
    const huge = { actionId: 'act-1', approver: 'u1', answer: 'x'.repeat(MAX_RESOLUTION_CHARS + 1) };
    assert.match(checkResolutionShape(huge)?.message ?? '', /larger than/);
    assert.equal(refusalOf(huge), 'InvalidResolution');
  });
});

describe('JSON limits', () => {
  it('measures depth and size iteratively and stops at the first limit', () => {
    const value = { a: [1, 'xy', { b: null }] };
    const measured = measureJson(value, { maxDepth: 10, maxChars: 1000 });
    assert.ok(!('exceeded' in measured));
    assert.equal(measured.depth, 3);
    assert.ok(measured.chars >= JSON.stringify(value).length, 'never under-counts the JSON size');
    let deep: unknown = 0;
    for (let n = 0; n < 100_000; n += 1) deep = [deep];
    assert.deepEqual(measureJson(deep, { maxDepth: MAX_JSON_DEPTH, maxChars: 1e9 }), { exceeded: 'depth' });
    assert.deepEqual(measureJson({ s: 'x'.repeat(100) }, { maxDepth: 10, maxChars: 50 }), { exceeded: 'size' });
  });

  it('tool call arguments (model output and scripted input) are held to the same limits', () => {
    let deep: unknown = 'x';
    for (let n = 0; n < 100; n += 1) deep = { a: deep };
    const input = {
      userId: 'u1',
      conversationId: 'c1',
      messages: [{ role: 'user', content: 'hi' }],
      model: { provider: 'scripted', script: [{ tool_calls: [{ id: 'c', name: 't', arguments: { deep } }] }] },
    };
    const parsed = RunInputSchema.safeParse(input);
    assert.equal(parsed.success, false);
    assert.match(JSON.stringify(parsed.error?.issues), /nested deeper than 64 levels/);
  });
});
