import assert from 'node:assert/strict';
import {
  AddGrantRequestSchema,
  GRANT_RETENTION_DEFAULTS,
  GRANT_REVOKED_ERROR_TYPE,
  GRANT_WRITE_MEMORY_MS,
  grantedToolNames,
  LoadGrantsRequestSchema,
  GrantRetentionSchema,
  GrantRevocationSchema,
  GrantSchema,
  GrantScopeSchema,
  MAX_GRANTS_PER_SCOPE,
  MAX_REMEMBERED_GRANT_WRITES,
  RevokeGrantRequestSchema,
  RevokeGrantResultSchema,
  USER_GRANTS_WORKFLOW,
  userGrantsWorkflowId,
  UserGrantsStateSchema,
  type Grant,
} from '../../src/contracts/grants';

const at = '2026-11-24T10:00:00.000Z';

function grant(tool: string, scope: Grant['scope'], conversationId?: string): Grant {
  return {
    tool,
    scope,
    ...(conversationId !== undefined ? { conversationId } : {}),
    grantedBy: 'u1',
    grantedAt: at,
    runId: 'run-1',
  };
}

function issuesOf(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }): string[] {
  return (result.error?.issues ?? []).map((issue) => issue.path.join('.'));
}

describe('grant contracts', () => {
  it('names and limits', () => {
    assert.deepEqual(GrantScopeSchema.options, ['session', 'always']);
    assert.equal(MAX_GRANTS_PER_SCOPE, 64);
    assert.equal(USER_GRANTS_WORKFLOW, 'userGrants');
    assert.equal(userGrantsWorkflowId('u1'), 'hitl-grants/u1');
    assert.equal(GRANT_REVOKED_ERROR_TYPE, 'GrantRevoked');
  });

  it('retention defaults: 30 idle days, 50 conversations, 512 session grants, revocations 7 days / 256', () => {
    const day = 24 * 60 * 60 * 1000;
    assert.deepEqual(GRANT_RETENTION_DEFAULTS, {
      sessionIdleMs: 30 * day,
      maxSessionConversations: 50,
      maxSessionGrants: 512,
      revocationRetentionMs: 7 * day,
      maxRevocations: 256,
    });
    assert.equal(GRANT_WRITE_MEMORY_MS, day);
    assert.equal(MAX_REMEMBERED_GRANT_WRITES, 64);
  });

  it('GrantSchema accepts session grants with a conversation and always grants without one', () => {
    assert.ok(GrantSchema.safeParse(grant('delete_file', 'session', 'c1')).success);
    assert.ok(GrantSchema.safeParse(grant('delete_file', 'always')).success);
    assert.ok(GrantSchema.safeParse(grant('read_mcp_files', 'always')).success, 'MCP names are plain names');
  });

  it('GrantSchema refuses a session grant without conversationId and an always grant with one', () => {
    const noConversation = GrantSchema.safeParse(grant('delete_file', 'session'));
    assert.equal(noConversation.success, false);
    assert.deepEqual(issuesOf(noConversation), ['conversationId']);
    const withConversation = GrantSchema.safeParse(grant('delete_file', 'always', 'c1'));
    assert.equal(withConversation.success, false);
    assert.deepEqual(issuesOf(withConversation), ['conversationId']);
  });

  it('GrantSchema refuses wildcards, empty and overlong names, "once" and bad timestamps', () => {
    for (const tool of ['*', 'delete_*', '*_mcp_github', 'a*b']) {
      const parsed = GrantSchema.safeParse(grant(tool, 'always'));
      assert.equal(parsed.success, false, tool);
      assert.match(parsed.error.issues[0]!.message, /wildcard/);
    }
    assert.equal(GrantSchema.safeParse(grant('', 'always')).success, false);
    assert.equal(GrantSchema.safeParse(grant('x'.repeat(257), 'always')).success, false);
    assert.ok(GrantSchema.safeParse(grant('x'.repeat(256), 'always')).success);
    assert.equal(GrantSchema.safeParse({ ...grant('t', 'always'), scope: 'once' }).success, false);
    assert.equal(GrantSchema.safeParse({ ...grant('t', 'always'), grantedAt: 'yesterday' }).success, false);
    assert.equal(GrantSchema.safeParse({ ...grant('t', 'always'), grantedBy: '' }).success, false);
    const { runId: _runId, ...withoutRun } = grant('t', 'always');
    assert.equal(GrantSchema.safeParse(withoutRun).success, false);
  });

  it('AddGrantRequestSchema is a grant without grantedAt, with the same scope rules', () => {
    const { grantedAt: _grantedAt, ...request } = grant('delete_file', 'session', 'c1');
    assert.deepEqual(AddGrantRequestSchema.parse(request), request);
    assert.equal(AddGrantRequestSchema.safeParse({ ...request, conversationId: undefined }).success, false);
    assert.equal(AddGrantRequestSchema.safeParse({ ...request, tool: 'delete_*' }).success, false);
    const { conversationId: _c, ...alwaysRequest } = { ...request, scope: 'always' as const };
    assert.ok(AddGrantRequestSchema.safeParse(alwaysRequest).success);
    assert.equal(AddGrantRequestSchema.safeParse({ ...alwaysRequest, conversationId: 'c1' }).success, false);
  });

  it('AddGrantRequestSchema takes an optional ISO approvedAt', () => {
    const { grantedAt: _grantedAt, ...request } = grant('delete_file', 'always');
    assert.deepEqual(AddGrantRequestSchema.parse({ ...request, approvedAt: at }), { ...request, approvedAt: at });
    assert.equal(AddGrantRequestSchema.parse(request).approvedAt, undefined, 'older callers send none');
    assert.deepEqual(issuesOf(AddGrantRequestSchema.safeParse({ ...request, approvedAt: 'now' })), ['approvedAt']);
    assert.deepEqual(issuesOf(AddGrantRequestSchema.safeParse({ ...request, approvedAt: 1 })), ['approvedAt']);
  });

  it('GrantRevocationSchema: a tombstone with the scope rules of a grant and an ISO revokedAt', () => {
    assert.ok(GrantRevocationSchema.safeParse({ tool: 't', scope: 'always', revokedAt: at }).success);
    assert.ok(
      GrantRevocationSchema.safeParse({ tool: 't', scope: 'session', conversationId: 'c1', revokedAt: at }).success,
    );
    assert.deepEqual(issuesOf(GrantRevocationSchema.safeParse({ tool: 't', scope: 'session', revokedAt: at })), [
      'conversationId',
    ]);
    assert.equal(GrantRevocationSchema.safeParse({ tool: 't*', scope: 'always', revokedAt: at }).success, false);
    assert.equal(GrantRevocationSchema.safeParse({ tool: 't', scope: 'always' }).success, false);
  });

  it('GrantRetentionSchema: positive integers, every field optional', () => {
    assert.ok(GrantRetentionSchema.safeParse({}).success);
    assert.ok(GrantRetentionSchema.safeParse({ sessionIdleMs: 1000, maxSessionConversations: 3 }).success);
    for (const bad of [{ sessionIdleMs: 0 }, { maxRevocations: -1 }, { maxSessionGrants: 1.5 }]) {
      assert.equal(GrantRetentionSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  it('RevokeGrantRequestSchema: session revocation needs conversationId; result counts', () => {
    assert.ok(RevokeGrantRequestSchema.safeParse({ tool: 't', scope: 'session', conversationId: 'c1' }).success);
    assert.ok(RevokeGrantRequestSchema.safeParse({ tool: 't', scope: 'always' }).success);
    assert.deepEqual(issuesOf(RevokeGrantRequestSchema.safeParse({ tool: 't', scope: 'session' })), ['conversationId']);
    assert.equal(
      RevokeGrantRequestSchema.safeParse({ tool: 't', scope: 'always', conversationId: 'c1' }).success,
      false,
    );
    assert.equal(RevokeGrantRequestSchema.safeParse({ tool: 't*', scope: 'always' }).success, false);
    assert.ok(RevokeGrantResultSchema.safeParse({ revoked: 0 }).success);
    assert.equal(RevokeGrantResultSchema.safeParse({ revoked: -1 }).success, false);
  });

  it('UserGrantsStateSchema carries the user and valid grants', () => {
    assert.ok(UserGrantsStateSchema.safeParse({ userId: 'u1', grants: [grant('t', 'always')] }).success);
    assert.equal(UserGrantsStateSchema.safeParse({ userId: '', grants: [] }).success, false);
    assert.equal(UserGrantsStateSchema.safeParse({ userId: 'u1', grants: [grant('t*', 'always')] }).success, false);
  });

  it('UserGrantsStateSchema: states written before revocations and retention existed still parse; new fields too', () => {
    assert.deepEqual(UserGrantsStateSchema.parse({ userId: 'u1', grants: [] }), { userId: 'u1', grants: [] });
    const full = {
      userId: 'u1',
      grants: [grant('t', 'always')],
      revocations: [{ tool: 'x', scope: 'always' as const, revokedAt: at }],
      revocationsForgottenUntil: at,
      recentWrites: [{ updateId: 'recordGrant/run-1/r/3', at, grant: grant('t', 'always') }],
      retention: { sessionIdleMs: 60_000 },
    };
    assert.deepEqual(UserGrantsStateSchema.parse(full), full);
    assert.equal(UserGrantsStateSchema.safeParse({ ...full, revocationsForgottenUntil: 'never' }).success, false);
    assert.equal(UserGrantsStateSchema.safeParse({ ...full, retention: { maxRevocations: 0 } }).success, false);
  });

  describe('grantedToolNames', () => {
    const grants = [
      grant('delete_file', 'session', 'c1'),
      grant('append_file', 'session', 'c2'),
      grant('read_file', 'always'),
      grant('read_file', 'session', 'c1'),
      grant('write_file', 'always'),
    ];

    it('gives every always grant plus the session grants of that conversation, each name once', () => {
      assert.deepEqual(grantedToolNames(grants, 'c1'), ['delete_file', 'read_file', 'write_file']);
      assert.deepEqual(grantedToolNames(grants, 'c2'), ['append_file', 'read_file', 'write_file']);
    });

    it('gives only always grants in another conversation, and nothing without grants', () => {
      assert.deepEqual(grantedToolNames(grants, 'c3'), ['read_file', 'write_file']);
      assert.deepEqual(grantedToolNames([], 'c1'), []);
      assert.deepEqual(grantedToolNames([grant('delete_file', 'session', 'c1')], 'c2'), []);
    });

    it("with grantors, counts only their grants (a run's approvers), each name once", () => {
      const byBoss = { ...grant('delete_file', 'always'), grantedBy: 'boss' };
      const mixed = [...grants, byBoss, { ...grant('read_file', 'always'), grantedBy: 'boss' }];
      assert.deepEqual(grantedToolNames(mixed, 'c1', ['boss']), ['delete_file', 'read_file']);
      assert.deepEqual(grantedToolNames(mixed, 'c1', ['u1', 'boss']), ['delete_file', 'read_file', 'write_file']);
      assert.deepEqual(grantedToolNames(mixed, 'c1', []), []);
      // Without grantors (a request recorded before they were passed) every grant counts, as before.
      assert.deepEqual(grantedToolNames(mixed, 'c3'), ['read_file', 'write_file', 'delete_file']);
      assert.equal(
        LoadGrantsRequestSchema.safeParse({ userId: 'u', conversationId: 'c', grantors: ['boss'] }).success,
        true,
      );
    });
  });
});
