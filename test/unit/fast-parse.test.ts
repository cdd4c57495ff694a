// The workflow's fast parser (src/fast-parse) against zod, the source of truth: its descriptions are current,
// and over hand-written valid inputs, inputs generated from the descriptions and thousands of mutations of
// both, it accepts exactly what zod accepts (for plain JSON data) with zod's exact output, key order
// included, and never accepts what zod refuses (for any input).
import assert from 'node:assert/strict';
import type { z } from 'zod';
import { DEFAULT_POLICY, MAX_JSON_DEPTH } from '../../src/contracts';
import { describeSchema } from '../../src/fast-parse/describe';
import { DESCRIPTIONS } from '../../src/fast-parse/descriptions';
import { fastParse, type SchemaDescription } from '../../src/fast-parse/interpret';
import { DESCRIBED_SCHEMAS, type DescribedSchemaName } from '../../src/fast-parse/roots';
import { parseResolution as workflowParseResolution, parseRunInput } from '../../src/workflows/parse';
import { describeIssues, parseResolution, parseRunInput as contractsParseRunInput } from '../../src/contracts';

/** Types, key order and undefined-valued keys, which JSON.stringify would hide. */
function shape(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return `[${value.map(shape).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .map((key) => `${JSON.stringify(key)}:${shape((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const toolCall = { id: 'call_1', name: 'write_file', arguments: { path: 'a.txt', content: 'hi', n: [1, { x: null }] } };
const messages = [
  { role: 'system', content: 'be brief' },
  { role: 'user', content: 'write a file' },
  { role: 'assistant', content: 'ok', tool_calls: [toolCall] },
  { role: 'assistant', tool_calls: [] },
  { role: 'tool', tool_call_id: 'call_1', name: 'write_file', status: 'success', content: 'done' },
  { role: 'assistant', content: 'written' },
];
const claimRule = { role: 'approver', groups: ['ops', 'sre'] };
const toolSpec = {
  name: 'write_file',
  description: 'Writes a file',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } } },
};

/** Valid inputs written by hand, a few per schema, using every field at least once. */
const SAMPLES: Record<DescribedSchemaName, unknown[]> = {
  inlineRunInput: [
    {
      userId: 'u1',
      conversationId: 'c1',
      messages: [{ role: 'user', content: 'hi' }],
      model: { provider: 'scripted', script: [] },
    },
    {
      userId: 'u1',
      conversationId: 'c1',
      agentId: 'legacy',
      messages,
      stagedConversation: { ref: `sha256:${'a'.repeat(64)}`, count: 3 },
      model: { provider: 'scripted', script: [{ content: 'x', tool_calls: [toolCall] }, {}], scriptOffset: 2 },
      tools: ['write_file', 'read_file'],
      policy: { enabled: true, mode: 'dontAsk', allow: ['read_*'], deny: ['rm'], ask: [], reason: 'why' },
      approvalTtlMs: 60_000,
      onExpiry: 'reject',
      approvers: ['u1', 'u2'],
      maxTurns: 3,
      tighten: { deny: ['x'], ask: ['y'], approvalTtlMs: 5, onExpiry: 'abort' },
    },
    {
      userId: 'u1',
      conversationId: 'c1',
      messages: [],
      stagedConversation: { ref: `sha256:${'0'.repeat(64)}`, count: 1 },
      model: {
        provider: 'openai-compatible',
        endpoint: 'local.llm',
        model: 'm',
        temperature: 0.5,
        maxOutputTokens: 10,
      },
      policy: { mode: 'bypass' },
    },
  ],
  agentRunInput: [
    { userId: 'u1', conversationId: 'c1', agentId: 'files', messages: [{ role: 'user', content: 'hi' }] },
    {
      userId: 'u1',
      conversationId: 'c1',
      agentId: 'A.b-c_1',
      messages,
      stagedConversation: { ref: `sha256:${'f'.repeat(64)}`, count: 9 },
      tighten: { deny: ['write_*'], approvalTtlMs: 1000 },
    },
  ],
  runConfig: [
    {
      model: { provider: 'scripted', script: [] },
      tools: [],
      policy: DEFAULT_POLICY,
      approvers: { users: ['u1'] },
      approvalTtlMs: 1000,
      onExpiry: 'abort',
      maxTurns: 5,
    },
    {
      agentId: 'files',
      agentName: 'Files',
      configVersion: 'abc123',
      model: { provider: 'openai-compatible', endpoint: 'e' },
      instructions: 'You write files.',
      tools: ['write_file'],
      toolSpecs: [toolSpec, { name: 'plain', description: '', inputSchema: {} }],
      policy: { enabled: true, mode: 'default', allow: [], deny: [], ask: ['write_file'] },
      policyFromAnnotations: { allow: ['read_file'], ask: ['write_file'] },
      toolsVersion: 'def456',
      tighten: { deny: ['a'], ask: [] },
      approvers: { users: [], claims: [claimRule, { role: ['admin'] }] },
      approvalTtlMs: 86_400_000,
      onExpiry: 'reject',
      maxTurns: 1000,
    },
  ],
  resolution: [
    { actionId: 'act-1', approver: 'u1' },
    {
      actionId: 'act-1',
      approver: 'u1',
      decisions: [
        { tool_call_id: 'c1', decision: 'approve' },
        { tool_call_id: 'c2', decision: 'approve', scope: 'session' },
        { tool_call_id: 'c3', decision: 'reject', reason: 'no' },
        { tool_call_id: 'c4', decision: 'edit', editedArguments: { path: 'b.txt' } },
        { tool_call_id: 'c5', decision: 'respond', responseText: 'use b.txt' },
      ],
      approverClaims: { role: 'approver', groups: ['ops'] },
    },
    { actionId: 'a', approver: 'b', answer: 'yes', answers: { q1: ['a', 'b'] } },
    {
      actionId: 'a',
      approver: 'b',
      elicitation: { action: 'accept', content: { name: 'x', n: 2, ok: true, l: ['a'] } },
    },
    { actionId: 'a', approver: 'b', elicitation: { action: 'decline' } },
  ],
  awaitPendingActionRequest: [{}, { afterActionId: 'act-1' }, { afterActionId: 'a', timeoutMs: 600_000 }],
  askUserQuestionArgs: [
    { question: 'Which file?' },
    // Matches both options of the union: the first one wins (its output has `questions` only).
    { questions: [{ id: 'q1', question: 'One?' }], question: 'Two?' },
    {
      question: 'Which?',
      header: 'File',
      options: [{ label: 'a', value: 'a.txt', description: 'the a file' }],
      multiSelect: true,
    },
    {
      questions: [
        { id: 'q1', question: 'One?' },
        {
          id: 'q2',
          question: 'Two?',
          options: [
            { label: 'x', value: 'x' },
            { label: 'y', value: 'y' },
          ],
        },
      ],
    },
  ],
  elicitationRequest: [
    {
      elicitationId: 'e1',
      tool_call_id: 'c1',
      server: 'srv',
      message: 'Your name?',
      mode: 'form',
      requestedSchema: {
        type: 'object',
        properties: {
          name: { type: 'string', title: 'Name', minLength: 1, format: 'email' },
          age: { type: 'integer', minimum: 0 },
          ok: { type: 'boolean', default: true },
          pick: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, maxItems: 2 },
          one: { type: 'string', oneOf: [{ const: 'a', title: 'A' }], extra: 1 },
        },
        required: ['name'],
        $schema: 'kept',
      },
    },
    {
      elicitationId: 'e2',
      tool_call_id: 'c1',
      server: 'srv',
      message: 'Open this',
      mode: 'url',
      requestedSchema: { type: 'object', properties: {} },
      url: 'https://example.com/x',
    },
  ],
};

/** A small deterministic PRNG (mulberry32), so a failure names an input that can be reproduced. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATTERN_CANDIDATES = [
  'a',
  'Ab',
  'files',
  'q1',
  'role',
  'A.b-c_1',
  `sha256:${'ab'.repeat(32)}`,
  'https://x.io',
  'x',
];

/** A value of the described schema (mostly valid; refinements and patterns may make some invalid). */
function generate(description: SchemaDescription, next: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  switch (description.kind) {
    case 'string': {
      if (description.patterns) {
        const matching = PATTERN_CANDIDATES.filter((candidate) =>
          description.patterns!.every((p) => new RegExp(p.source, p.flags).test(candidate)),
        );
        return matching.length > 0 ? pick(matching) : 'a';
      }
      const min = description.minLength ?? 0;
      const max = Math.min(description.maxLength ?? 12, min + 12);
      return 'x'.repeat(min + Math.floor(next() * (max - min + 1)));
    }
    case 'number': {
      const low = description.above ? description.above.value + (description.above.inclusive ? 0 : 1) : -5;
      const high = description.below ? description.below.value - (description.below.inclusive ? 0 : 1) : low + 100;
      const value = low + Math.floor(next() * Math.max(1, Math.min(high - low, 1000)));
      return description.safeInteger || next() < 0.5 ? value : value + 0.5 > high ? value : value + 0.5;
    }
    case 'boolean':
      return next() < 0.5;
    case 'unknown':
      return depth > 3 ? 'leaf' : pick<unknown>([null, 1, 'text', true, [1, 'a'], { nested: { a: [1] } }]);
    case 'never':
      return undefined;
    case 'literal':
    case 'enum':
      return pick(description.values);
    case 'array': {
      const min = description.minLength ?? 0;
      const count = min + Math.floor(next() * Math.min(3, (description.maxLength ?? 3) - min + 1));
      return Array.from({ length: count }, () => generate(description.element, next, depth + 1));
    }
    case 'object': {
      const output: Record<string, unknown> = {};
      for (const field of description.fields) {
        if (field.optin !== undefined && next() < 0.4) continue;
        const value = generate(field.schema, next, depth + 1);
        if (value !== undefined) output[field.key] = value;
      }
      if (description.unknownKeys === 'keep' && next() < 0.3) output.extraKey = 'kept';
      return output;
    }
    case 'record': {
      const output: Record<string, unknown> = {};
      const count = Math.floor(next() * 3) + 1;
      for (let i = 0; i < count; i += 1) {
        output[String(generate(description.key, next, depth + 1)) + (i > 0 ? String(i) : '')] = generate(
          description.value,
          next,
          depth + 1,
        );
      }
      return output;
    }
    case 'union':
      return generate(pick(description.options), next, depth);
    case 'optional':
    case 'default':
    case 'prefault':
      return next() < 0.3 ? undefined : generate(description.inner, next, depth);
  }
}

const REPLACEMENTS: unknown[] = [
  null,
  0,
  -1,
  1.5,
  2 ** 53,
  '',
  'x'.repeat(300),
  true,
  [],
  {},
  ['a'],
  { extra: 1 },
  'approve',
  'session',
];

/** Every path to a value inside `value` (objects and arrays), root first. */
function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  const found = [at];
  if (Array.isArray(value)) value.forEach((item, i) => found.push(...paths(item, [...at, i])));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) found.push(...paths(item, [...at, key]));
  }
  return found;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** `value` with the thing at `path` changed by `change` (a copy; the root itself when the path is empty). */
function mutate(
  value: unknown,
  path: (string | number)[],
  change: (parent: Record<string, unknown>, key: string | number) => void,
): unknown {
  const copy = { root: clone(value) } as Record<string, unknown>;
  let parent: Record<string, unknown> = copy;
  let key: string | number = 'root';
  for (const step of path) {
    parent = parent[key] as Record<string, unknown>;
    key = step;
  }
  change(parent, key);
  return copy.root;
}

/** Mutations of a valid input: each value replaced, removed, wrapped; extra keys; repeated array items. */
function mutations(value: unknown): unknown[] {
  const found: unknown[] = [];
  for (const path of paths(value)) {
    for (const replacement of REPLACEMENTS) {
      found.push(mutate(value, path, (parent, key) => (parent[key] = clone(replacement))));
    }
    found.push(mutate(value, path, (parent, key) => delete parent[key]));
    found.push(
      mutate(value, path, (parent, key) => {
        const target = parent[key];
        if (Array.isArray(target) && target.length > 0) target.push(clone(target[0]));
        else if (typeof target === 'object' && target !== null) (target as Record<string, unknown>).extra = 'x';
      }),
    );
  }
  return found;
}

function check(name: DescribedSchemaName, input: unknown, plain: boolean): void {
  const schema: z.ZodType = DESCRIBED_SCHEMAS[name];
  const expected = schema.safeParse(input);
  const fast = fastParse(DESCRIPTIONS[name], input);
  const shown = (): string => shape(input).slice(0, 600);
  if (fast !== undefined) {
    assert.ok(expected.success, `${name}: the fast parser accepted what zod refuses: ${shown()}`);
    assert.equal(shape(fast.value), shape(expected.data), `${name}: outputs differ for ${shown()}`);
  } else if (plain) {
    assert.ok(!expected.success, `${name}: zod accepts plain data the fast parser leaves to it: ${shown()}`);
  }
}

describe('fast parse (the workflow parser without zod)', () => {
  for (const name of Object.keys(DESCRIBED_SCHEMAS) as DescribedSchemaName[]) {
    describe(name, () => {
      it('its description is derived from the current schema (else: npm run generate:fast-parse)', () => {
        assert.deepEqual(DESCRIPTIONS[name], describeSchema(DESCRIBED_SCHEMAS[name]));
      });

      it('the hand-written samples are valid, and parse as zod parses them', () => {
        for (const sample of SAMPLES[name]) {
          assert.ok(DESCRIBED_SCHEMAS[name].safeParse(sample).success, `not a valid sample: ${shape(sample)}`);
          check(name, sample, true);
        }
      });

      it('agrees with zod on generated inputs and on mutations of every sample', () => {
        const next = random(name.length * 7919);
        const inputs = [...SAMPLES[name]];
        for (let i = 0; i < 150; i += 1) inputs.push(clone(generate(DESCRIPTIONS[name], next) ?? {}));
        let accepted = 0;
        let checked = 0;
        for (const input of inputs) {
          if (DESCRIBED_SCHEMAS[name].safeParse(input).success) accepted += 1;
          for (const variant of [input, ...mutations(input)]) {
            check(name, variant, true);
            checked += 1;
          }
        }
        // The generator must mostly produce valid inputs, or the comparison above tests refusals only.
        assert.ok(accepted > inputs.length / 3, `only ${accepted} of ${inputs.length} generated inputs are valid`);
        assert.ok(checked > 1000);
      });
    });
  }

  it('leaves what is not plain JSON data to zod, and never accepts what zod refuses there', () => {
    const sample = SAMPLES.resolution[1] as Record<string, unknown>;
    const odd: unknown[] = [
      { ...sample, approver: undefined },
      JSON.parse('{"actionId":"a","approver":"b","__proto__":{"decisions":[]}}'),
      Object.assign(Object.create({ inherited: 1 }) as object, { actionId: 'a', approver: 'b' }),
      { actionId: 'a', approver: 'b', decisions: [{ tool_call_id: 'c', decision: 'reject', reason: undefined }] },
      { actionId: 'a', approver: 'b', approverClaims: { role: undefined } },
      { actionId: 'a', approver: 'b', [Symbol('s')]: 1 },
      { actionId: 'a', approver: 'b', decisions: [{ tool_call_id: 'c', decision: 'approve', scope: Number.NaN }] },
      { actionId: 'a', approver: 'b', answer: Number.POSITIVE_INFINITY },
    ];
    for (const input of odd) check('resolution', input, false);
    assert.equal(fastParse(DESCRIPTIONS.resolution, odd[0]), undefined);
    assert.equal(fastParse(DESCRIPTIONS.resolution, odd[1]), undefined);
  });

  it('the workflow gets zod’s refusal, word for word, when the fast parser does not accept', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i <= MAX_JSON_DEPTH + 1; i += 1) deep = [deep];
    for (const raw of [
      { actionId: '', approver: 'b' },
      { actionId: 'a', approver: 'b', answer: deep },
      { actionId: 'a', approver: 'b', decisions: [{ tool_call_id: 'c', decision: 'maybe' }] },
      'not an object',
    ]) {
      assert.deepEqual(workflowParseResolution(raw), parseResolution(raw));
    }
    const input = { userId: 'u1', conversationId: 'c1', agentId: 'a', messages: [], model: 1 };
    const refused = parseRunInput(input);
    const expected = contractsParseRunInput(input);
    assert.ok(!refused.success && !expected.success);
    assert.equal(refused.problem, describeIssues(expected.error));
  });

  it('a default is a fresh value for every parse (nobody shares the parsed policy)', () => {
    const input = SAMPLES.inlineRunInput[0];
    const first = fastParse(DESCRIPTIONS.inlineRunInput, input)!.value as { policy: { allow: string[] } };
    first.policy.allow.push('mutated');
    const second = fastParse(DESCRIPTIONS.inlineRunInput, input)!.value as { policy: { allow: string[] } };
    assert.deepEqual(second.policy.allow, []);
  });
});
