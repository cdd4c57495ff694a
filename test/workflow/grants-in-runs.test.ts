import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { InlineRunInput as RunInput } from '../../src/contracts';
import { HITL_SEARCH_ATTRIBUTES } from '../../src/contracts';
import { resolveTemporalCliPath } from '../../src/dev/temporal-cli';
import {
  call,
  maybeRecordHistory,
  readSandboxFile,
  scriptedInput,
  startHarness,
  toolMessages,
  waitForPending,
  type Harness,
} from './harness';

/** One append_file call; asks unless a grant (or the policy) says otherwise. */
function appendRun(
  userId: string,
  conversationId: string,
  file: string,
  policy: RunInput['policy'] = { enabled: true },
): RunInput {
  return scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: file, content: 'x' })] }], {
    userId,
    conversationId,
    policy,
  });
}

/** Starts the run and approves its one paused call with `scope`; returns when the run has completed. */
async function approveWithScope(h: Harness, input: RunInput, scope: 'once' | 'session' | 'always'): Promise<string> {
  const { runId } = await h.client.startRun(input);
  const pending = await waitForPending(h.client, runId);
  const outcome = await h.client.resolve(runId, {
    actionId: pending.actionId,
    approver: input.userId,
    decisions: [{ tool_call_id: 'call_1', decision: 'approve', scope }],
  });
  assert.ok(outcome.ok);
  await h.client.result(runId);
  return runId;
}

/** True when the run finished without ever pausing (waits in the run for its first pause or its end). */
async function ranWithoutPause(h: Harness, input: RunInput): Promise<boolean> {
  const { runId } = await h.client.startRun(input);
  const answer = await h.client.waitForPendingAction(runId, { timeoutMs: 60_000 });
  if (answer.pendingAction) {
    await h.client.abort(runId);
    return false;
  }
  const result = await h.client.result(runId);
  return result.status === 'completed' && (await h.client.getRunState(runId)).decisions.length === 0;
}

describe('remembered decisions in runs (real dev server)', function () {
  this.timeout(90_000);
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  it('session: a later call in the same conversation runs without asking; another conversation asks', async () => {
    const user = `u-${randomUUID()}`;
    // Same run: the second call of the tool no longer pauses.
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          { tool_calls: [call('call_1', 'append_file', { path: 's.txt', content: '1' })] },
          { tool_calls: [call('call_2', 'append_file', { path: 's.txt', content: '2' })] },
        ],
        { userId: user, conversationId: 'c1' },
      ),
    );
    const pending = await waitForPending(h.client, runId);
    await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: user,
      decisions: [{ tool_call_id: 'call_1', decision: 'approve', scope: 'session' }],
    });
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(await readSandboxFile(h.sandboxDir, 's.txt', user), '12');
    const state = await h.client.getRunState(runId);
    assert.deepEqual(
      state.decisions.map((d) => [d.via, d.outcome, d.grant?.tool, d.grant?.scope]),
      [
        ['update', 'accepted', undefined, undefined],
        ['grant', 'granted', 'append_file', 'session'],
      ],
    );
    const [grant] = await h.client.listGrants(user);
    assert.equal(grant?.tool, 'append_file');
    assert.equal(grant?.scope, 'session');
    assert.equal(grant?.conversationId, 'c1');
    assert.equal(grant?.grantedBy, user);
    assert.equal(grant?.runId, runId);

    assert.ok(await ranWithoutPause(h, appendRun(user, 'c1', 's2.txt')), 'a later run in c1 does not pause');
    assert.ok(!(await ranWithoutPause(h, appendRun(user, 'c2', 's3.txt'))), 'a run in c2 pauses');
    await maybeRecordHistory(h, runId, 'grant-session');
  });

  it('always: no pause in any conversation of the user; other users still ask', async () => {
    const user = `u-${randomUUID()}`;
    await approveWithScope(h, appendRun(user, 'c1', 'a.txt'), 'always');
    assert.ok(await ranWithoutPause(h, appendRun(user, 'c-other', 'a2.txt')));
    assert.ok(!(await ranWithoutPause(h, appendRun(`u-${randomUUID()}`, 'c1', 'a3.txt'))));
  });

  it('deny and an explicit ask still win over a grant', async () => {
    const user = `u-${randomUUID()}`;
    await approveWithScope(h, appendRun(user, 'c1', 'd.txt'), 'always');
    assert.ok(!(await ranWithoutPause(h, appendRun(user, 'c1', 'd2.txt', { enabled: true, ask: ['append_*'] }))));
    const { runId } = await h.client.startRun(
      appendRun(user, 'c1', 'd3.txt', { enabled: true, deny: ['append_file'] }),
    );
    const result = await h.client.result(runId);
    assert.match(toolMessages(result.messages)[0]?.content ?? '', /^Blocked: /);
    assert.equal(await readSandboxFile(h.sandboxDir, 'd3.txt', user), undefined);
  });

  it('revoking a grant makes the next call pause again', async () => {
    const user = `u-${randomUUID()}`;
    await approveWithScope(h, appendRun(user, 'c1', 'r.txt'), 'session');
    assert.ok(await ranWithoutPause(h, appendRun(user, 'c1', 'r2.txt')));
    assert.deepEqual(
      await h.client.revokeGrant(user, { tool: 'append_file', scope: 'session', conversationId: 'c1' }),
      {
        revoked: 1,
      },
    );
    assert.deepEqual(await h.client.listGrants(user), []);
    assert.ok(!(await ranWithoutPause(h, appendRun(user, 'c1', 'r3.txt'))));
  });

  it('a revocation is seen by a running run at its next policy decision', async () => {
    const user = `u-${randomUUID()}`;
    await approveWithScope(h, appendRun(user, 'c1', 'n.txt'), 'session');
    // Turn 1 asks for write_file; while it waits, the append_file grant is revoked; turn 2's append_file must ask.
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          { tool_calls: [call('call_w', 'write_file', { path: 'n-w.txt', content: 'w' })] },
          { tool_calls: [call('call_a', 'append_file', { path: 'n.txt', content: 'y' })] },
        ],
        { userId: user, conversationId: 'c1' },
      ),
    );
    const first = await waitForPending(h.client, runId);
    await h.client.revokeGrant(user, { tool: 'append_file', scope: 'session', conversationId: 'c1' });
    await h.client.resolve(runId, {
      actionId: first.actionId,
      approver: user,
      decisions: [{ tool_call_id: 'call_w', decision: 'approve' }],
    });
    const second = await waitForPending(h.client, runId).then(async (p) =>
      p.actionId === first.actionId ? waitForPending(h.client, runId) : p,
    );
    assert.notEqual(second.actionId, first.actionId);
    assert.equal(second.payload.type === 'tool_approval' ? second.payload.action_requests[0]?.name : '', 'append_file');
    await h.client.abort(runId);
  });

  it('a failed tool call leaves no grant', async () => {
    const user = `u-${randomUUID()}`;
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_1', 'delete_file', { path: 'does-not-exist.txt' })] }], {
        userId: user,
        conversationId: 'c1',
      }),
    );
    const pending = await waitForPending(h.client, runId);
    await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: user,
      decisions: [{ tool_call_id: 'call_1', decision: 'approve', scope: 'always' }],
    });
    const result = await h.client.result(runId);
    assert.equal(toolMessages(result.messages)[0]?.status, 'error');
    assert.deepEqual(await h.client.listGrants(user), []);
    assert.ok(!(await h.client.getRunState(runId)).decisions.some((d) => d.via === 'grant'));
  });

  it('grants survive a restart of the worker and of a file-backed dev server', async function () {
    this.timeout(120_000);
    const dbFilename = join(await mkdtemp(join(tmpdir(), 'hitl-db-')), 'grants.db');
    const user = `u-${randomUUID()}`;
    const taskQueue = `grants-restart-${randomUUID()}`;
    const startServer = () =>
      TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: resolveTemporalCliPath() },
          searchAttributes: [...HITL_SEARCH_ATTRIBUTES],
          dbFilename,
          ip: '127.0.0.1',
        },
      });
    const env1 = await startServer();
    try {
      const h1 = await startHarness({ env: env1, taskQueue });
      await approveWithScope(h1, appendRun(user, 'c1', 'p.txt'), 'always');
      await h1.stop();
      // A new worker on the same server sees the grant.
      const h2 = await startHarness({ env: env1, taskQueue });
      assert.deepEqual(
        (await h2.client.listGrants(user)).map((g) => g.tool),
        ['append_file'],
      );
      await h2.stop();
    } finally {
      await env1.teardown();
    }
    const env2 = await startServer();
    try {
      const h3 = await startHarness({ env: env2, taskQueue });
      assert.deepEqual(
        (await h3.client.listGrants(user)).map((g) => [g.tool, g.scope]),
        [['append_file', 'always']],
      );
      assert.ok(await ranWithoutPause(h3, appendRun(user, 'c9', 'p2.txt')));
      await h3.stop();
    } finally {
      await env2.teardown();
    }
  });
});
