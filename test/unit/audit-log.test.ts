import assert from 'node:assert/strict';
import { parseResolution, type AuditEntry } from '../../src/contracts';
import {
  AuditLog,
  MAX_AUDIT_CHARS,
  MAX_AUDIT_MESSAGE_CHARS,
  MAX_REFUSALS_IN_AUDIT,
} from '../../src/workflows/audit-log';

const at = '2026-11-26T10:00:00.000Z';

function refused(i: number, extra = ''): AuditEntry {
  return {
    at,
    via: 'update',
    actionId: `a-${i}`,
    approver: 'u1',
    outcome: 'refused',
    refusal: { type: 'StaleAction', message: `Action a-${i} is not the current pending action${extra}` },
  };
}

function accepted(i: number, decisions = 1): AuditEntry {
  return {
    at,
    via: 'update',
    actionId: `ok-${i}`,
    approver: 'u1',
    outcome: 'accepted',
    decisions: Array.from({ length: decisions }, (_, d) => ({
      tool_call_id: `call_${d}_${'x'.repeat(240)}`,
      decision: 'approve' as const,
    })),
  };
}

const size = (log: AuditLog) => JSON.stringify(log.entries).length;

describe('audit log bounds (AuditLog)', function () {
  it('keeps the latest refusals and every accepted entry; counts what it dropped', function () {
    const log = new AuditLog();
    log.record(accepted(0));
    for (let i = 0; i < MAX_REFUSALS_IN_AUDIT + 700; i += 1) log.record(refused(i));
    log.record(accepted(1));
    const refusals = log.entries.filter((e) => e.outcome === 'refused');
    assert.equal(refusals.length, MAX_REFUSALS_IN_AUDIT);
    assert.equal(refusals[0]?.actionId, 'a-700', 'the oldest refusals went first');
    assert.deepEqual(
      log.entries.filter((e) => e.outcome === 'accepted').map((e) => e.actionId),
      ['ok-0', 'ok-1'],
    );
    assert.equal(log.dropped, 700);
  });

  it('stays within its bytes: large refusals go first, then (only if still too large) the oldest entries', function () {
    const log = new AuditLog();
    for (let i = 0; i < 100; i += 1) log.record(refused(i, ` ${'y'.repeat(4000)}`));
    assert.ok(size(log) <= MAX_AUDIT_CHARS, `${size(log)} chars`);
    assert.ok(log.dropped > 0);
    // Accepted entries of 128 decisions each: no refusal is left to drop, so the oldest entries go.
    for (let i = 0; i < 40; i += 1) log.record(accepted(i, 128));
    assert.ok(size(log) <= MAX_AUDIT_CHARS, `${size(log)} chars`);
    assert.equal(log.entries.at(-1)?.actionId, 'ok-39', 'the newest entry is kept');
    assert.ok(!log.entries.some((e) => e.outcome === 'refused'));
  });

  it('cuts long messages, and carries its count across continue-as-new', function () {
    const log = new AuditLog([], 5);
    log.record({
      at,
      via: 'grant',
      actionId: 'a',
      approver: 'u1',
      outcome: 'refused',
      grant: { tool: 't', scope: 'session' },
      message: 'z'.repeat(10_000),
    });
    assert.equal(log.entries[0]?.message?.length, MAX_AUDIT_MESSAGE_CHARS + 1);
    const continued = new AuditLog(log.entries, log.dropped);
    assert.equal(continued.dropped, 5);
    assert.deepEqual(continued.entries, log.entries);
  });

  it('ids from outside are bounded before anything echoes them (tool_call_id over 256 characters)', function () {
    const parsed = parseResolution({
      actionId: 'a',
      approver: 'u1',
      decisions: [{ tool_call_id: 'c'.repeat(257), decision: 'approve' }],
    });
    assert.ok(!parsed.ok);
    assert.equal(parsed.refusal.type, 'InvalidResolution');
    assert.match(parsed.refusal.message, /decisions\.0\.tool_call_id/);
    assert.ok(parsed.refusal.message.length < 500, 'the refusal does not echo the id');
  });
});
