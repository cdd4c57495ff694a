// The check of an elicitation answer against the form an MCP server asked for (src/contracts/elicitation.ts).
import assert from 'node:assert/strict';
import {
  ElicitationAnswerSchema,
  elicitationContentProblemList,
  elicitationContentProblems,
  ElicitationRequestedSchemaSchema,
  ElicitationRequestSchema,
  MAX_ELICITATION_PROBLEMS,
  type ElicitationRequestedSchema,
  type ElicitationValue,
} from '../../src/contracts';

/** A form with one field of every kind MCP allows. */
const FORM: ElicitationRequestedSchema = ElicitationRequestedSchemaSchema.parse({
  type: 'object',
  properties: {
    name: { type: 'string', title: 'Name', minLength: 2, maxLength: 10 },
    email: { type: 'string', format: 'email' },
    homepage: { type: 'string', format: 'uri' },
    birthday: { type: 'string', format: 'date' },
    meeting: { type: 'string', format: 'date-time' },
    plan: { type: 'string', enum: ['free', 'pro'], enumNames: ['Free', 'Pro'] },
    region: {
      type: 'string',
      oneOf: [
        { const: 'eu', title: 'Europe' },
        { const: 'us', title: 'United States' },
      ],
    },
    seats: { type: 'integer', minimum: 1, maximum: 50 },
    budget: { type: 'number', minimum: 0.5 },
    subscribe: { type: 'boolean', default: false },
    tags: { type: 'array', items: { type: 'string', enum: ['a', 'b', 'c'] }, minItems: 1, maxItems: 2 },
    colors: {
      type: 'array',
      items: {
        anyOf: [
          { const: 'red', title: 'Red' },
          { const: 'blue', title: 'Blue' },
        ],
      },
    },
  },
  required: ['name', 'email'],
});

function problems(content: Record<string, ElicitationValue>, schema = FORM): string | undefined {
  return elicitationContentProblems(schema, content);
}

/** The one problem of `{ required fields, field: value }`. */
function problemOf(field: string, value: ElicitationValue): string | undefined {
  return problems({ name: 'Ada', email: 'ada@example.com', [field]: value });
}

describe('elicitationContentProblems', () => {
  it('accepts content that answers the form: required fields present, every value of its kind', () => {
    assert.equal(problems({ name: 'Ada', email: 'ada@example.com' }), undefined, 'optional fields may be left out');
    assert.equal(
      problems({
        name: 'Ada',
        email: 'ada@example.com',
        homepage: 'https://example.com/ada',
        birthday: '2024-02-29',
        meeting: '2026-11-26T10:30:00Z',
        plan: 'pro',
        region: 'eu',
        seats: 50,
        budget: 0.5,
        subscribe: true,
        tags: ['a', 'c'],
        colors: [],
      }),
      undefined,
    );
    assert.equal(problems({}, { type: 'object', properties: {} }), undefined, 'an empty form takes empty content');
  });

  it('text: kind, minLength, maxLength', () => {
    assert.equal(problemOf('name', 7), '"name" must be text');
    assert.equal(problemOf('name', 'A'), '"name" must have at least 2 characters');
    assert.equal(problemOf('name', 'Ada Lovelace'), '"name" must have at most 10 characters');
    assert.equal(problemOf('name', ['Ada']), '"name" must be text');
  });

  it('formats: email, uri, date (a real calendar day), date-time (RFC 3339 with a zone)', () => {
    for (const bad of ['ada', 'ada@', 'ada@example', 'a da@example.com']) {
      assert.equal(problemOf('email', bad), '"email" must be an email address', bad);
    }
    assert.equal(problemOf('email', 'ada+x@mail.example.org'), undefined);
    assert.equal(problemOf('homepage', 'mailto:ada@example.com'), undefined, 'any scheme');
    for (const bad of ['example.com', 'not a uri', '://x', 'https:']) {
      assert.equal(problemOf('homepage', bad), '"homepage" must be a URI', bad);
    }
    for (const bad of ['2023-02-29', '2024-13-01', '2024-04-31', '2024-00-10', '24-01-01', '2024-1-1', '1900-02-29']) {
      assert.equal(problemOf('birthday', bad), '"birthday" must be a date (YYYY-MM-DD)', bad);
    }
    assert.equal(problemOf('birthday', '2000-02-29'), undefined, '2000 is a leap year');
    for (const good of ['2026-11-26T10:30:00Z', '2026-11-26T10:30Z', '2026-11-26 10:30:00.123+01:00']) {
      assert.equal(problemOf('meeting', good), undefined, good);
    }
    for (const bad of ['2026-11-26T10:30:00', '2026-11-26', '2026-02-30T10:00:00Z', 'tomorrow']) {
      assert.equal(problemOf('meeting', bad), '"meeting" must be a date and time (RFC 3339)', bad);
    }
  });

  it('single choice: enum and oneOf take only their values (not their titles)', () => {
    assert.equal(problemOf('plan', 'enterprise'), '"plan" must be one of free, pro');
    assert.equal(problemOf('plan', 'Pro'), '"plan" must be one of free, pro', 'enumNames are labels, not values');
    assert.equal(problemOf('region', 'us'), undefined);
    assert.equal(problemOf('region', 'Europe'), '"region" must be one of eu, us');
    assert.equal(problemOf('plan', ['pro']), '"plan" must be text');
  });

  it('numbers: finite, integer where asked, minimum and maximum inclusive', () => {
    assert.equal(problemOf('seats', 1), undefined);
    assert.equal(problemOf('seats', 2.5), '"seats" must be an integer');
    assert.equal(problemOf('seats', 0), '"seats" must be at least 1');
    assert.equal(problemOf('seats', 51), '"seats" must be at most 50');
    assert.equal(problemOf('seats', '3'), '"seats" must be a number', 'text is not a number, even digits');
    assert.equal(problemOf('budget', 12.75), undefined, 'number takes fractions');
    assert.equal(problemOf('budget', 0.25), '"budget" must be at least 0.5');
    assert.equal(problemOf('budget', Number.NaN), '"budget" must be a number');
    assert.equal(problemOf('budget', Number.POSITIVE_INFINITY), '"budget" must be a number');
  });

  it('booleans: true or false only', () => {
    assert.equal(problemOf('subscribe', false), undefined);
    assert.equal(problemOf('subscribe', 'true'), '"subscribe" must be true or false');
    assert.equal(problemOf('subscribe', 1), '"subscribe" must be true or false');
  });

  it('multi-select: known choices (enum or anyOf), no repeats, minItems and maxItems', () => {
    assert.equal(problemOf('tags', ['b']), undefined);
    assert.equal(problemOf('tags', []), '"tags" needs at least 1 choices');
    assert.equal(problemOf('tags', ['a', 'b', 'c']), '"tags" takes at most 2 choices');
    assert.equal(problemOf('tags', ['a', 'a']), '"tags" lists a choice twice');
    assert.equal(problemOf('tags', ['a', 'z']), '"tags": z is not one of a, b, c');
    assert.equal(problemOf('tags', 'a'), '"tags" must be a list of choices');
    assert.equal(problemOf('colors', ['blue', 'red']), undefined);
    assert.equal(problemOf('colors', ['Blue']), '"colors": Blue is not one of red, blue', 'titles are labels');
  });

  it('unknown fields are refused (also names of Object.prototype); missing required fields are named', () => {
    assert.equal(problems({ email: 'ada@example.com' }), '"name" is required');
    assert.equal(problems({}), '"name" is required; "email" is required');
    assert.equal(
      problems({ name: 'Ada', email: 'ada@example.com', nickname: 'A' }),
      '"nickname" is not a field of this form',
    );
    const hostile = JSON.parse('{"name":"Ada","email":"ada@example.com","__proto__":"x","toString":"y"}') as Record<
      string,
      ElicitationValue
    >;
    assert.equal(problems(hostile), '"__proto__" is not a field of this form; "toString" is not a field of this form');
    // A required name the form does not define asks for nothing.
    assert.equal(problems({}, { type: 'object', properties: {}, required: ['ghost'] }), undefined);
  });

  it('reports every problem in field order, by field, at most ten', () => {
    const list = elicitationContentProblemList(FORM, { extra: 1, name: 'A', seats: 0, email: 'x' });
    assert.deepEqual(list, [
      { field: 'extra', message: '"extra" is not a field of this form' },
      { field: 'name', message: '"name" must have at least 2 characters' },
      { field: 'email', message: '"email" must be an email address' },
      { field: 'seats', message: '"seats" must be at least 1' },
    ]);
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, n) => [`f${n}`, 'x']));
    assert.equal(elicitationContentProblemList(FORM, many).length, MAX_ELICITATION_PROBLEMS);
    assert.equal(problems(many)?.split('; ').length, MAX_ELICITATION_PROBLEMS);
    const long = `${'k'.repeat(200)}`;
    assert.deepEqual(elicitationContentProblemList({ type: 'object', properties: {} }, { [long]: 1 }), [
      { field: 'k'.repeat(80), message: `"${'k'.repeat(80)}" is not a field of this form` },
    ]);
  });
});

describe('elicitation schemas', () => {
  it('the requested form keeps keywords it does not know and refuses what MCP does not allow', () => {
    const parsed = ElicitationRequestedSchemaSchema.parse({
      type: 'object',
      properties: { note: { type: 'string', 'x-widget': 'textarea' } },
      $schema: 'https://json-schema.org/draft/2020-12/schema',
    });
    assert.deepEqual(parsed.properties.note, { type: 'string', 'x-widget': 'textarea' });
    for (const bad of [
      { type: 'object', properties: { nested: { type: 'object', properties: {} } } },
      { type: 'object', properties: { when: { type: 'string', format: 'hostname' } } },
      { type: 'object', properties: { list: { type: 'array', items: { type: 'number' } } } },
      { type: 'array', properties: {} },
      {
        type: 'object',
        properties: Object.fromEntries(Array.from({ length: 65 }, (_, n) => [`f${n}`, { type: 'boolean' }])),
      },
    ]) {
      assert.equal(ElicitationRequestedSchemaSchema.safeParse(bad).success, false, JSON.stringify(bad).slice(0, 80));
    }
  });

  it('an answer is accept, decline or cancel, with content of flat values only', () => {
    assert.ok(ElicitationAnswerSchema.safeParse({ action: 'decline' }).success);
    assert.ok(ElicitationAnswerSchema.safeParse({ action: 'accept', content: { a: 1, b: ['x'], c: true } }).success);
    for (const bad of [
      { action: 'approve' },
      { action: 'accept', content: { nested: { a: 1 } } },
      { action: 'accept', content: { list: [1, 2] } },
      { action: 'accept', content: ['a'] },
      { action: 'accept', content: { text: 'x'.repeat(16_001) } },
      { action: 'accept', content: { a: null } },
    ]) {
      assert.equal(ElicitationAnswerSchema.safeParse(bad).success, false, JSON.stringify(bad).slice(0, 80));
    }
  });
});

describe('ElicitationRequestSchema (signal requestElicitation)', () => {
  const base = {
    elicitationId: 'act/1/1',
    tool_call_id: 'call_1',
    server: 'crm',
    message: 'Sign in',
    mode: 'url' as const,
    requestedSchema: { type: 'object' as const, properties: {} },
  };
  it('takes http(s) links only: a javascript: or data: link never reaches a person', () => {
    assert.equal(ElicitationRequestSchema.safeParse({ ...base, url: 'https://example.com/a' }).success, true);
    assert.equal(ElicitationRequestSchema.safeParse({ ...base, url: 'HTTP://example.com' }).success, true);
    for (const url of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'file:///etc/passwd', ' https://x']) {
      assert.equal(ElicitationRequestSchema.safeParse({ ...base, url }).success, false, url);
    }
  });
});
