import assert from 'node:assert/strict';
import {
  canonicalJson,
  IdempotencyKeySchema,
  idempotentResolveId,
  idempotentRunId,
  runRequestFingerprint,
} from '../../src/client/hitl-client';
import { API_ERROR_HTTP_STATUS, ApiError } from '../../src/server/http-errors';
import { parseRunInput, type NormalizedRunInput } from '../../src/contracts';

function normalized(input: unknown): NormalizedRunInput {
  const parsed = parseRunInput(input);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  return parsed.data;
}

const request = {
  userId: 'u1',
  conversationId: 'c1',
  agentId: 'files',
  messages: [{ role: 'user', content: 'go' }],
};

describe('idempotent starts (pure parts)', () => {
  it('idempotentRunId: deterministic, run- + SHA-256 hex, one id per (user, key) pair', () => {
    const id = idempotentRunId('u1', 'key-1');
    assert.match(id, /^run-[0-9a-f]{64}$/);
    assert.equal(idempotentRunId('u1', 'key-1'), id);
    assert.notEqual(idempotentRunId('u2', 'key-1'), id, 'keys are per user');
    assert.notEqual(idempotentRunId('u1', 'key-2'), id);
    // No concatenation ambiguity: ("a", "b:c") and ("a:b", "c") are different pairs.
    assert.notEqual(idempotentRunId('a', 'b:c'), idempotentRunId('a:b', 'c'));
    assert.notEqual(idempotentRunId('a","b', 'c'), idempotentRunId('a', 'b","c'));
  });

  it('idempotentResolveId: one update id per (caller, key) pair, with no concatenation ambiguity', () => {
    const id = idempotentResolveId('a', 'b:K');
    assert.match(id, /^resolve-[0-9a-f]{64}$/);
    assert.equal(idempotentResolveId('a', 'b:K'), id);
    // Before, both were `http:a:b:K`: the second caller got the first one's answer.
    assert.notEqual(idempotentResolveId('a:b', 'K'), id);
    assert.notEqual(idempotentResolveId('b', 'b:K'), id, 'keys are per caller');
  });

  it('canonicalJson: sorted keys at every level, undefined members left out, arrays in order', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }),
      '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}',
    );
    assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
    assert.equal(canonicalJson('x"y'), '"x\\"y"');
    assert.equal(canonicalJson(null), 'null');
  });

  it('runRequestFingerprint: equal for the same request in any key order, different for any other request', () => {
    const fingerprint = runRequestFingerprint(normalized(request));
    assert.match(fingerprint, /^sha256:[0-9a-f]{64}$/);
    const reordered = {
      messages: [{ content: 'go', role: 'user' }],
      agentId: 'files',
      conversationId: 'c1',
      userId: 'u1',
    };
    assert.equal(runRequestFingerprint(normalized(reordered)), fingerprint);
    const others = [
      { ...request, userId: 'u2' },
      { ...request, conversationId: 'c2' },
      { ...request, agentId: 'reader' },
      { ...request, messages: [{ role: 'user', content: 'go!' }] },
      { ...request, tighten: { deny: ['delete_*'] } },
    ];
    for (const other of others) {
      assert.notEqual(runRequestFingerprint(normalized(other)), fingerprint, JSON.stringify(other));
    }
  });

  it('IdempotencyKeySchema: 1-200 visible ASCII characters', () => {
    for (const ok of ['a', 'key-1', 'x'.repeat(200), '!~{}']) assert.ok(IdempotencyKeySchema.safeParse(ok).success, ok);
    for (const bad of ['', 'has space', 'x'.repeat(201), 'tab\there', 'ünï']) {
      assert.ok(!IdempotencyKeySchema.safeParse(bad).success, bad);
    }
  });

  it('IdempotencyKeyReused is a 409 API error carrying the existing run id', () => {
    assert.equal(API_ERROR_HTTP_STATUS.IdempotencyKeyReused, 409);
    const error = new ApiError('IdempotencyKeyReused', 'reused', { runId: 'run-x' });
    assert.equal(error.statusCode, 409);
    assert.deepEqual(error.body.details, { runId: 'run-x' });
  });
});
