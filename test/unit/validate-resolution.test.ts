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

const formElicitation: PendingAction = {
  ...pending,
  actionId: 'act-e',
  payload: {
    type: 'mcp_elicitation',
    tool_call_id: 'call_7',
    name: 'create_contact_mcp_crm',
    server: 'crm',
    message: 'Who should I add?',
    requestedSchema: {
      type: 'object',
      properties: {
        email: { type: 'string', format: 'email' },
        seats: { type: 'integer', minimum: 1 },
        plan: { type: 'string', enum: ['free', 'pro'] },
      },
      required: ['email'],
    },
  },
};
const urlElicitation: PendingAction = {
  ...pending,
  actionId: 'act-u',
  payload: {
    type: 'mcp_elicitation',
    tool_call_id: 'call_8',
    name: 'connect_mcp_github',
    server: 'github',
    message: 'Sign in to GitHub to continue',
    mode: 'url',
    url: 'https://github.example/login/device',
    requestedSchema: { type: 'object', properties: {} },
  },
};

describe('checkResolution: MCP elicitation', () => {
  const form = (elicitation: unknown, extra: Record<string, unknown> = {}) =>
    checkResolution(
      { actionId: 'act-e', approver: 'u1', elicitation, ...extra },
      context({ pending: formElicitation }),
    );
  const url = (elicitation: unknown) =>
    checkResolution({ actionId: 'act-u', approver: 'u1', elicitation }, context({ pending: urlElicitation }));

  it('accepts content that fits the form, and hands it on as given', () => {
    const check = form({ action: 'accept', content: { email: 'ada@example.com', seats: 3, plan: 'pro' } });
    assert.ok(check.ok);
    assert.deepEqual(check.elicitation, {
      action: 'accept',
      content: { email: 'ada@example.com', seats: 3, plan: 'pro' },
    });
    assert.equal(check.decisions.size, 0);
    assert.equal(check.answer, undefined);
  });

  it('refuses content that does not fit as InvalidElicitationContent, with the problems by field', () => {
    const check = form({ action: 'accept', content: { email: 'nope', seats: 0, colour: 'red' } });
    assert.ok(!check.ok);
    assert.equal(check.refusal.type, 'InvalidElicitationContent');
    assert.equal(
      check.refusal.message,
      'The content does not match the requested form: "colour" is not a field of this form; ' +
        '"email" must be an email address; "seats" must be at least 1',
    );
    assert.deepEqual(check.refusal.details, {
      problems: [
        { field: 'colour', message: '"colour" is not a field of this form' },
        { field: 'email', message: '"email" must be an email address' },
        { field: 'seats', message: '"seats" must be at least 1' },
      ],
    });
    assert.equal(check.actionId, 'act-e');
    assert.equal(check.approver, 'u1');
    const missing = form({ action: 'accept' });
    assert.ok(!missing.ok);
    assert.equal(missing.refusal.type, 'InvalidElicitationContent', 'accept without content misses "email"');
    assert.match(missing.refusal.message, /"email" is required/);
  });

  it('decline and cancel carry no content; with content they are refused', () => {
    for (const action of ['decline', 'cancel'] as const) {
      const check = form({ action });
      assert.ok(check.ok, action);
      assert.deepEqual(check.elicitation, { action });
      const withContent = form({ action, content: { email: 'ada@example.com' } });
      assert.ok(!withContent.ok, action);
      assert.equal(withContent.refusal.type, 'InvalidElicitationContent');
      assert.equal(withContent.refusal.message, `"${action}" takes no content`);
    }
  });

  it('a URL elicitation is accepted ("done") without content, declined or cancelled', () => {
    const done = url({ action: 'accept' });
    assert.ok(done.ok);
    assert.deepEqual(done.elicitation, { action: 'accept' });
    const empty = url({ action: 'accept', content: {} });
    assert.ok(empty.ok, 'empty content is no content');
    assert.deepEqual(empty.elicitation, { action: 'accept' });
    const cancel = url({ action: 'cancel' });
    assert.ok(cancel.ok);
    const withContent = url({ action: 'accept', content: { code: '1234' } });
    assert.ok(!withContent.ok);
    assert.equal(withContent.refusal.type, 'InvalidElicitationContent');
    assert.equal(withContent.refusal.message, 'A URL elicitation is accepted without content');
  });

  it('decisions or answers on an elicitation are refused as DecisionNotPermitted; no answer at all too', () => {
    const decided = form(
      { action: 'accept', content: { email: 'ada@example.com' } },
      {
        decisions: [{ tool_call_id: 'call_7', decision: 'approve' }],
      },
    );
    assert.ok(!decided.ok);
    assert.equal(decided.refusal.type, 'DecisionNotPermitted');
    assert.match(decided.refusal.message, /answered with "elicitation"/);
    assert.equal(
      refusalOf(
        { actionId: 'act-e', approver: 'u1', decisions: [{ tool_call_id: 'call_7', decision: 'approve' }] },
        context({ pending: formElicitation }),
      ),
      'DecisionNotPermitted',
    );
    assert.equal(
      refusalOf({ actionId: 'act-e', approver: 'u1', answer: 'yes' }, context({ pending: formElicitation })),
      'DecisionNotPermitted',
    );
    assert.equal(
      refusalOf({ actionId: 'act-e', approver: 'u1' }, context({ pending: formElicitation })),
      'InvalidElicitationContent',
    );
  });

  it('the shape, identity and lifecycle checks come first, as for every action', () => {
    const accept = { action: 'accept', content: { email: 'ada@example.com' } };
    const ctx = context({ pending: formElicitation });
    assert.equal(
      refusalOf({ actionId: 'act-e', approver: 'u1', elicitation: { action: 'ok' } }, ctx),
      'InvalidResolution',
    );
    assert.equal(
      refusalOf(
        { actionId: 'act-e', approver: 'u1', elicitation: { action: 'accept', content: { a: { b: 1 } } } },
        ctx,
      ),
      'InvalidResolution',
      'content values are flat',
    );
    assert.equal(refusalOf({ actionId: 'act-e', approver: 'mallory', elicitation: accept }, ctx), 'NotAuthorized');
    assert.equal(refusalOf({ actionId: 'act-1', approver: 'u1', elicitation: accept }, ctx), 'StaleAction');
    assert.equal(
      refusalOf(
        { actionId: 'act-e', approver: 'u1', elicitation: accept },
        context({ pending: formElicitation, expiredActionIds: new Set(['act-e']) }),
      ),
      'ActionExpired',
    );
    assert.equal(
      refusalOf(
        { actionId: 'act-e', approver: 'u1', elicitation: accept },
        context({ pending: formElicitation, resolvedActionIds: new Set(['act-e']) }),
      ),
      'AlreadyResolved',
    );
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
