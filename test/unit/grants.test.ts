import assert from 'node:assert/strict';
import {
  AddGrantRequestSchema,
  grantedToolNames,
  GrantSchema,
  GrantScopeSchema,
  MAX_GRANTS_PER_SCOPE,
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
  });
});
