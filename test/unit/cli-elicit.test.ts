// `hitl elicit` and the terminal view of an MCP elicitation, without Temporal: formatting, hints, arguments.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, elicitationChoice, main, parseElicitationContent } from '../../src/cli/hitl';
import {
  decisionHints,
  describeElicitationField,
  elicitationTemplate,
  formatPending,
  printable,
} from '../../src/cli/format';
import type { McpElicitationPayload, PendingAction } from '../../src/contracts';

function action(payload: McpElicitationPayload): PendingAction {
  return {
    actionId: 'act-e',
    runId: 'run-1',
    userId: 'u1',
    conversationId: 'c1',
    createdAt: '2026-11-26T10:00:00.000Z',
    expiresAt: '2026-11-27T10:00:00.000Z',
    payload,
  };
}

const FORM = action({
  type: 'mcp_elicitation',
  tool_call_id: 'call_7',
  name: 'create_contact_mcp_crm',
  server: 'crm',
  message: 'Who should I add?\nThe CRM needs a contact.',
  requestedSchema: {
    type: 'object',
    properties: {
      email: { type: 'string', format: 'email', title: 'Email', description: 'Where the invoice goes' },
      name: { type: 'string', minLength: 2, maxLength: 10 },
      seats: { type: 'integer', minimum: 1, maximum: 50, default: 1 },
      budget: { type: 'number', minimum: 0 },
      plan: { type: 'string', enum: ['free', 'pro'], enumNames: ['Free', 'Pro plan'], default: 'free' },
      region: {
        type: 'string',
        oneOf: [
          { const: 'eu', title: 'Europe' },
          { const: 'us', title: 'United States' },
        ],
      },
      subscribe: { type: 'boolean', default: false },
      tags: { type: 'array', items: { type: 'string', enum: ['a', 'b', 'c'] }, minItems: 1, maxItems: 2 },
    },
    required: ['email', 'region'],
  },
});

const URL_ACTION = action({
  type: 'mcp_elicitation',
  tool_call_id: 'call_8',
  name: 'connect_mcp_github',
  server: 'github',
  message: 'Sign in to GitHub to continue',
  mode: 'url',
  url: 'https://github.example/login/device',
  requestedSchema: { type: 'object', properties: {} },
});

describe('hitl: how an MCP elicitation is shown', () => {
  it('a form: who asks, the message, every field with its kind, bounds, choices, required and default', () => {
    assert.equal(
      formatPending(FORM),
      [
        'action act-e  (expires 2026-11-27T10:00:00.000Z)',
        '  call_7  create_contact_mcp_crm  — MCP server "crm" asks:',
        '      Who should I add?',
        '      The CRM needs a contact.',
        '      fields:',
        '        email      text (email address), required  — Email: Where the invoice goes',
        '        name       text, 2 to 10 characters',
        '        seats      integer from 1 to 50, default 1',
        '        budget     number at least 0',
        '        plan       one of "free" (Free), "pro" (Pro plan), default "free"',
        '        region     one of "eu" (Europe), "us" (United States), required',
        '        subscribe  true or false, default false',
        '        tags       a list of any of "a", "b", "c", 1 to 2 choices',
      ].join('\n'),
    );
  });

  it('a URL elicitation: the link as text, said never to be opened for you', () => {
    assert.equal(
      formatPending(URL_ACTION),
      [
        'action act-e  (expires 2026-11-27T10:00:00.000Z)',
        '  call_8  connect_mcp_github  — MCP server "github" asks:',
        '      Sign in to GitHub to continue',
        '      open this link yourself (hitl never opens it): https://github.example/login/device',
      ].join('\n'),
    );
  });

  it('describes the other field kinds: formats, one-sided bounds, multi-select titles', () => {
    assert.equal(describeElicitationField({ type: 'string', format: 'date' }, false), 'text (YYYY-MM-DD)');
    assert.equal(
      describeElicitationField({ type: 'string', format: 'date-time' }, true),
      'text (RFC 3339 date and time), required',
    );
    assert.equal(
      describeElicitationField({ type: 'string', format: 'uri', maxLength: 200 }, false),
      'text (URI), at most 200 characters',
    );
    assert.equal(describeElicitationField({ type: 'integer', maximum: 9 }, false), 'integer at most 9');
    assert.equal(describeElicitationField({ type: 'number' }, false), 'number');
    assert.equal(
      describeElicitationField(
        { type: 'array', items: { anyOf: [{ const: 'r', title: 'Red' }, { const: 'b' }] }, default: ['r'] },
        false,
      ),
      'a list of any of "r" (Red), "b", default ["r"]',
    );
    assert.equal(
      formatPending(
        action({ ...(FORM.payload as McpElicitationPayload), requestedSchema: { type: 'object', properties: {} } }),
      )
        .split('\n')
        .at(-1),
      "        (no fields: accept with --accept '{}')",
    );
  });

  it("a server's strings cannot drive the terminal: escape sequences and bidi overrides are shown, not sent", () => {
    assert.equal(printable('red \u001b[31mtext\u001b[0m'), 'red \\u001b[31mtext\\u001b[0m');
    assert.equal(printable('a\nb'), 'a\\u000ab');
    assert.equal(printable('a\nb', true), 'a\nb');
    assert.equal(printable('abc\u202edcba \u0085 \u2028'), 'abc\\u202edcba \\u0085 \\u2028');
    assert.equal(printable('naïve — ok ✓'), 'naïve — ok ✓');
    const hostile = action({
      ...(URL_ACTION.payload as McpElicitationPayload),
      server: 'gh\u001b]0;pwned\u0007',
      message: 'Sign in\u001b[2J',
      url: 'https://x.example/\u001b[8m',
    });
    const shown = formatPending(hostile);
    assert.ok(!shown.includes('\u001b') && !shown.includes('\u0007'), 'no raw ESC or BEL');
    assert.match(shown, /MCP server "gh\\u001b\]0;pwned\\u0007" asks:/);
  });

  it('hints name the run, the action and the approver; a form gets a template of its values', () => {
    assert.deepEqual(elicitationTemplate((FORM.payload as McpElicitationPayload).requestedSchema), {
      email: '…',
      name: '…',
      seats: 1,
      budget: 0,
      plan: 'free',
      region: 'eu',
      subscribe: false,
      tags: ['a'],
    });
    assert.equal(
      decisionHints('npx hitl', 'run-1', FORM, "o'brien"),
      [
        'answer with:',
        `  npx hitl elicit run-1 --action act-e --as 'o'\\''brien' --accept '{"email":"…","name":"…","seats":1,"budget":0,"plan":"free","region":"eu","subscribe":false,"tags":["a"]}'`,
        `  npx hitl elicit run-1 --action act-e --as 'o'\\''brien' --decline`,
        `  npx hitl elicit run-1 --action act-e --as 'o'\\''brien' --cancel`,
      ].join('\n'),
    );
    assert.equal(
      decisionHints('hitl', 'run-1', URL_ACTION, 'u1'),
      [
        'answer with:',
        '  hitl elicit run-1 --action act-e --as u1 --done',
        '  hitl elicit run-1 --action act-e --as u1 --decline',
        '  hitl elicit run-1 --action act-e --as u1 --cancel',
      ].join('\n'),
    );
  });
});

describe('hitl elicit: arguments', () => {
  it('exactly one of --accept, --done, --decline, --cancel', () => {
    assert.deepEqual(elicitationChoice({ accept: '{"email":"a@b.co","n":2,"ok":true,"tags":["x"]}' }), {
      action: 'accept',
      content: { email: 'a@b.co', n: 2, ok: true, tags: ['x'] },
    });
    assert.deepEqual(elicitationChoice({ done: true }), { action: 'accept', done: true });
    assert.deepEqual(elicitationChoice({ decline: true }), { action: 'decline' });
    assert.deepEqual(elicitationChoice({ cancel: true }), { action: 'cancel' });
    assert.throws(
      () => elicitationChoice({}),
      (e: unknown) =>
        e instanceof CliError && e.message === "give one of --accept '<json>', --done, --decline or --cancel",
    );
    assert.throws(
      () => elicitationChoice({ accept: '{}', decline: true }),
      (e: unknown) => e instanceof CliError && e.message === 'give only one of --accept, --decline',
    );
  });

  it('--accept takes a JSON object of flat values, inline or from @file; a __proto__ key stays a field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hitl-elicit-'));
    const file = join(dir, 'values.json');
    await writeFile(file, '{"email": "ada@example.com"}');
    assert.deepEqual(parseElicitationContent(`@${file}`), { email: 'ada@example.com' });
    const odd = parseElicitationContent('{"__proto__": "x", "a": 1}');
    assert.deepEqual(Object.keys(odd), ['__proto__', 'a']);
    assert.equal(Object.getPrototypeOf(odd), Object.prototype, 'the prototype is untouched');
    for (const [text, message] of [
      ['{email: 1}', /^--accept is not valid JSON: /],
      ['[1]', /^--accept must be a JSON object$/],
      ['"text"', /^--accept must be a JSON object$/],
      [
        '{"address": {"city": "Paris"}}',
        /^--accept: "address" must be text, a number, true or false, or a list of texts$/,
      ],
      ['{"a": null}', /^--accept: "a" must be text/],
      ['{"a": [1, 2]}', /^--accept: "a" must be text/],
    ] as const) {
      assert.throws(
        () => parseElicitationContent(text),
        (e: unknown) => e instanceof CliError && e.type === 'InvalidArguments' && message.test(e.message),
        text,
      );
    }
  });

  it('bad arguments are one line and exit 2 before anything is asked of Temporal', async () => {
    for (const [argv, line] of [
      [['elicit', 'run-1', '--accept', '{bad'], /^hitl: InvalidArguments: --accept is not valid JSON: .*\n$/],
      [['elicit', 'run-1'], /^hitl: InvalidArguments: give one of --accept '<json>', --done, --decline or --cancel\n$/],
      [['elicit', 'run-1', '--done', '--cancel'], /^hitl: InvalidArguments: give only one of --done, --cancel\n$/],
    ] as const) {
      let out = '';
      let err = '';
      let connected = false;
      const code = await main([...argv], {
        connect: () => {
          connected = true;
          return Promise.reject(new Error('no Temporal in this test'));
        },
        io: { out: (t) => (out += t), err: (t) => (err += t) },
      });
      assert.equal(code, 2, argv.join(' '));
      assert.equal(out, '');
      assert.match(err, line);
      assert.equal(connected, false, 'refused before connecting');
    }
  });
});
