// The console's form for an MCP elicitation (src/server/console/elicitation-form.mjs, a browser module):
// which controls a requested schema gives, what a filled-in form sends, which URLs become links.
import assert from 'node:assert/strict';
import type { McpElicitationPayload } from '../../src/contracts';
import { CONTACT_FORM } from '../support/elicitation';

// The module is the browser's ES module itself (no build step): loaded as such, typed by its .d.mts.
const load = () => import('../../src/server/console/elicitation-form.mjs');
type FormModule = Awaited<ReturnType<typeof load>>;

const FORM_PAYLOAD: McpElicitationPayload = {
  type: 'mcp_elicitation',
  tool_call_id: 'call_1',
  name: 'create_contact_mcp_crm',
  server: 'crm',
  message: 'Which contact should I add?',
  requestedSchema: CONTACT_FORM,
};

describe('console: the elicitation form (pure functions)', () => {
  let form: FormModule;
  before(async () => {
    form = await load();
  });

  it('a control per field: text with format hints, numbers with bounds, checkbox, select, multi-select', () => {
    const model = form.elicitationFormModel(FORM_PAYLOAD);
    assert.equal(model.mode, 'form');
    assert.ok(model.mode === 'form');
    assert.deepEqual(
      { server: model.server, tool: model.tool, toolCallId: model.toolCallId, message: model.message },
      { server: 'crm', tool: 'create_contact_mcp_crm', toolCallId: 'call_1', message: 'Which contact should I add?' },
    );
    assert.deepEqual(model.fields, [
      {
        name: 'name',
        label: 'Full name',
        description: 'As it should appear on the invoice',
        required: true,
        control: 'text',
        inputType: 'text',
        minLength: 2,
      },
      {
        name: 'email',
        label: 'Email',
        required: true,
        control: 'text',
        inputType: 'email',
        hint: 'An email address, e.g. name@example.com',
      },
      {
        name: 'birthday',
        label: 'Birthday',
        required: false,
        control: 'text',
        inputType: 'date',
        hint: 'A date: YYYY-MM-DD',
      },
      { name: 'seats', label: 'Seats', required: false, control: 'number', integer: true, min: 1, max: 50, default: 5 },
      { name: 'budget', label: 'Budget (EUR)', required: false, control: 'number', integer: false, min: 0 },
      { name: 'newsletter', label: 'Send the newsletter', required: false, control: 'checkbox', default: true },
      {
        name: 'plan',
        label: 'Plan',
        required: true,
        control: 'select',
        options: [
          { value: 'free', label: 'Free' },
          { value: 'pro', label: 'Pro' },
          { value: 'team', label: 'Team' },
        ],
      },
      {
        name: 'region',
        label: 'Region',
        required: false,
        control: 'select',
        options: [
          { value: 'eu', label: 'Europe' },
          { value: 'us', label: 'United States' },
        ],
        default: 'eu',
      },
      {
        name: 'topics',
        label: 'Topics',
        required: false,
        control: 'multiselect',
        options: [
          { value: 'billing', label: 'billing' },
          { value: 'product', label: 'product' },
          { value: 'security', label: 'security' },
        ],
        minItems: 1,
        maxItems: 2,
      },
    ]);
  });

  it('formats: uri and date-time hints; a field without a title is labelled by its name; anyOf titles', () => {
    const model = form.elicitationFormModel({
      ...FORM_PAYLOAD,
      requestedSchema: {
        type: 'object',
        properties: {
          site: { type: 'string', format: 'uri', maxLength: 200 },
          when: { type: 'string', format: 'date-time' },
          colors: {
            type: 'array',
            items: {
              anyOf: [
                { const: 'r', title: 'Red' },
                { const: 'b', title: '' },
              ],
            },
            default: ['r'],
          },
          ok: { type: 'boolean' },
        },
      },
    });
    assert.ok(model.mode === 'form');
    assert.deepEqual(model.fields, [
      {
        name: 'site',
        label: 'site',
        required: false,
        control: 'text',
        inputType: 'url',
        hint: 'A URI, e.g. https://example.com/page',
        maxLength: 200,
      },
      {
        name: 'when',
        label: 'when',
        required: false,
        control: 'text',
        inputType: 'text',
        hint: 'A date and time with its time zone, e.g. 2026-11-26T14:30:00Z',
      },
      {
        name: 'colors',
        label: 'colors',
        required: false,
        control: 'multiselect',
        options: [
          { value: 'r', label: 'Red' },
          { value: 'b', label: 'b' },
        ],
        default: ['r'],
      },
      { name: 'ok', label: 'ok', required: false, control: 'checkbox', default: false },
    ]);
  });

  it('starts from the defaults, and sends typed content: empty inputs left out, numbers as numbers', () => {
    const model = form.elicitationFormModel(FORM_PAYLOAD);
    assert.ok(model.mode === 'form');
    const start = form.initialValues(model.fields);
    assert.deepEqual(start, {
      name: '',
      email: '',
      birthday: '',
      seats: '5',
      budget: '',
      newsletter: true,
      plan: '',
      region: 'eu',
      topics: [],
    });
    assert.deepEqual(form.elicitationContent(model.fields, start), { seats: 5, newsletter: true, region: 'eu' });
    assert.deepEqual(
      form.elicitationContent(model.fields, {
        ...start,
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        budget: ' 12.5 ',
        newsletter: false,
        plan: 'pro',
        topics: ['billing', 'security'],
      }),
      {
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        seats: 5,
        budget: 12.5,
        newsletter: false,
        plan: 'pro',
        region: 'eu',
        topics: ['billing', 'security'],
      },
    );
    // Not a number: sent as typed, for the run to refuse with its own words.
    assert.deepEqual(form.elicitationContent(model.fields, { ...start, seats: 'many' }).seats, 'many');
    // A required multi-select is sent even when empty (the run says it needs a choice); values it never had are not read.
    const required = [{ name: 'tags', label: 'Tags', required: true, control: 'multiselect' as const, options: [] }];
    assert.deepEqual(form.elicitationContent(required, {}), { tags: [] });
  });

  it('a field named __proto__ is a field like any other', () => {
    const fields = [
      { name: '__proto__', label: 'x', required: true, control: 'text' as const, inputType: 'text' as const },
    ];
    const values = JSON.parse('{"__proto__": "value"}') as Record<string, string>;
    const content = form.elicitationContent(fields, values);
    assert.deepEqual(Object.keys(content), ['__proto__']);
    assert.equal(Object.getPrototypeOf(content), Object.prototype);
    assert.equal(JSON.stringify(content), '{"__proto__":"value"}');
  });

  it('URL mode: the URL as given, and a link only for http(s)', () => {
    const model = form.elicitationFormModel({
      ...FORM_PAYLOAD,
      mode: 'url',
      url: 'https://github.example/login/device?code=AB CD',
      requestedSchema: { type: 'object', properties: {} },
    });
    assert.deepEqual(model, {
      server: 'crm',
      tool: 'create_contact_mcp_crm',
      toolCallId: 'call_1',
      message: 'Which contact should I add?',
      mode: 'url',
      url: 'https://github.example/login/device?code=AB CD',
      link: { href: 'https://github.example/login/device?code=AB%20CD', host: 'github.example' },
    });
    assert.deepEqual(form.safeLink('http://localhost:8080/cb'), {
      href: 'http://localhost:8080/cb',
      host: 'localhost:8080',
    });
    for (const bad of [
      'javascript:alert(1)',
      'JAVASCRIPT:alert(1)',
      ' javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'file:///etc/passwd',
      'vbscript:x',
      '//evil.example/x',
      '/relative',
      'not a url',
      '',
      undefined,
      42,
    ]) {
      assert.equal(form.safeLink(bad), null, String(bad));
    }
    const noUrl = form.elicitationFormModel({ ...FORM_PAYLOAD, mode: 'url' });
    assert.ok(noUrl.mode === 'url');
    assert.deepEqual([noUrl.url, noUrl.link], ['', null]);
  });
});
