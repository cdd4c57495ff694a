// The userGrants entity under the races and growth of production: retried grant writes, revocations
// made while the approved call still runs, and retention of session grants, revocations and answers.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createGrantActivities, type GrantActivities } from '../../src/activities/grants';
import { listGrants, revokeGrant } from '../../src/client/grants';
import {
  GRANT_RETENTION_DEFAULTS,
  GRANT_REVOKED_ERROR_TYPE,
  MAX_REMEMBERED_GRANT_WRITES,
  USER_GRANTS_WORKFLOW,
  userGrantsWorkflowId,
  UserGrantsStateSchema,
  type AddGrantRequest,
  type Grant,
  type RecordGrantRequest,
  type UserGrantsState,
} from '../../src/contracts/grants';
import type { userGrants } from '../../src/workflows/user-grants';
import { getTestEnv, getWorkflowBundle } from '../hooks';
import type { recordGrantProbe } from '../workflows/grants-probe';
import { REPLAY_HISTORIES_DIR } from './harness';

const DAY = 24 * 60 * 60 * 1000;

async function failureOf(fn: () => Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await fn();
  } catch (error) {
    const failure = error instanceof WorkflowUpdateFailedError ? error.cause : error;
    assert.ok(failure instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    return failure;
  }
  assert.fail('expected a failure');
}

function always(tool: string, extra: Partial<AddGrantRequest> = {}): AddGrantRequest {
  return { tool, scope: 'always', grantedBy: 'u-approver', runId: 'run-1', ...extra };
}

function session(tool: string, conversationId: string, extra: Partial<AddGrantRequest> = {}): AddGrantRequest {
  return { tool, scope: 'session', conversationId, grantedBy: 'u-approver', runId: 'run-1', ...extra };
}

/** A stored grant as a state would carry it, granted `ageMs` ago. */
function storedGrant(request: AddGrantRequest, ageMs: number): Grant {
  const { approvedAt: _approvedAt, ...fields } = request;
  return { ...fields, grantedAt: new Date(Date.now() - ageMs).toISOString() };
}

const iso = (ms: number) => new Date(ms).toISOString();
const ago = (ms: number) => iso(Date.now() - ms);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tools = (grants: readonly Grant[]) =>
  grants.map((g) => (g.scope === 'always' ? g.tool : `${g.conversationId}:${g.tool}`));

describe('userGrants entity: retries, revocation races, retention (real dev server)', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let taskQueue: string;
  let activities: GrantActivities;
  let worker: Worker;
  let running: Promise<void>;

  before(async () => {
    env = await getTestEnv();
    taskQueue = `test-grants-safety-${randomUUID()}`;
    activities = createGrantActivities(env.client, taskQueue);
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await getWorkflowBundle(),
      activities,
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
  });

  const newUser = () => `user-${randomUUID()}`;
  const record = (userId: string, request: AddGrantRequest) => activities.recordGrant({ userId, ...request });
  const handleOf = (userId: string) => env.client.workflow.getHandle(userGrantsWorkflowId(userId));

  /** One activity (same workflow, run and activity id) whose attempts run `recordGrant`. */
  function recordGrantActivity(activityId = '5') {
    const workflowExecution = { workflowId: `run-${randomUUID()}`, runId: randomUUID() };
    return (attempt: number, request: RecordGrantRequest): Promise<Grant> =>
      new MockActivityEnvironment({ workflowExecution, activityId, activityType: 'recordGrant', attempt }).run<
        [RecordGrantRequest],
        Grant,
        GrantActivities['recordGrant']
      >(activities.recordGrant, request);
  }

  /** Starts the user's entity with `state` (retention overrides, aged grants…), as continue-as-new would. */
  async function startEntity(state: UserGrantsState): Promise<void> {
    await env.client.workflow.start<typeof userGrants>(USER_GRANTS_WORKFLOW, {
      taskQueue,
      workflowId: userGrantsWorkflowId(state.userId),
      args: [state],
    });
  }

  /** The state the entity's current run started with (the input of its last continue-as-new). */
  async function startedState(userId: string): Promise<{ state: UserGrantsState; bytes: number }> {
    const history = await handleOf(userId).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.ok(payload, 'the run has an input');
    const state = UserGrantsStateSchema.parse(defaultPayloadConverter.fromPayload(payload));
    return { state, bytes: payload.data?.length ?? 0 };
  }

  /** Writes grants of other tools until the entity has continued as new. */
  async function forceContinueAsNew(userId: string, conversationId = 'c-filler'): Promise<void> {
    const { runId } = await handleOf(userId).describe();
    for (let n = 0; (await handleOf(userId).describe()).runId === runId; n += 1) {
      assert.ok(n < 200, 'the entity should have continued as new');
      await record(userId, session(`filler_${n}`, conversationId));
    }
  }

  describe('retried recordGrant', () => {
    it('an attempt whose result was lost, retried after a revoke, gets the first answer and does not re-add the grant', async () => {
      const userId = newUser();
      const attempt = recordGrantActivity();
      const first = await attempt(1, { userId, ...always('delete_file') });
      assert.deepEqual(tools(await listGrants(env.client, userId)), ['delete_file']);
      // The result of attempt 1 was lost (worker crash, timeout); the user revokes; attempt 2 runs.
      assert.deepEqual(await revokeGrant(env.client, userId, { tool: 'delete_file', scope: 'always' }), { revoked: 1 });
      const retried = await attempt(2, { userId, ...always('delete_file') });
      assert.deepEqual(retried, first, 'the retry gets the first attempt’s answer');
      assert.deepEqual(await listGrants(env.client, userId), [], 'the revocation stands');

      // Another activity (a later approval) is a new write.
      const later = await recordGrantActivity('6')(1, { userId, ...always('delete_file') });
      assert.notEqual(later.grantedAt, first.grantedAt);
      assert.deepEqual(tools(await listGrants(env.client, userId)), ['delete_file']);
    });

    it('the first answer survives a continue-as-new of the entity between the attempts', async () => {
      const userId = newUser();
      const attempt = recordGrantActivity();
      const first = await attempt(1, { userId, ...session('append_file', 'c1') });
      const { runId } = await handleOf(userId).describe();
      await forceContinueAsNew(userId);
      assert.notEqual((await handleOf(userId).describe()).runId, runId);
      await revokeGrant(env.client, userId, { tool: 'append_file', scope: 'session', conversationId: 'c1' });
      assert.deepEqual(await attempt(3, { userId, ...session('append_file', 'c1') }), first);
      assert.deepEqual(await activities.loadGrants({ userId, conversationId: 'c1' }), []);
    });
  });

  describe('revocation while the approved call runs', () => {
    it('a write approved before a revocation is refused (GrantRevoked) and nothing is written; a later approval is', async () => {
      const userId = newUser();
      await record(userId, always('read_file'));
      // Approved with "always" at approvedAt; while the tool runs, the user revokes (nothing to remove yet).
      const approvedAt = ago(1_000);
      assert.deepEqual(await revokeGrant(env.client, userId, { tool: 'delete_file', scope: 'always' }), { revoked: 0 });
      const refused = await failureOf(() => record(userId, always('delete_file', { approvedAt })));
      assert.equal(refused.type, GRANT_REVOKED_ERROR_TYPE);
      assert.equal(refused.nonRetryable, true);
      assert.match(refused.message, /revoked/);
      assert.deepEqual(tools(await listGrants(env.client, userId)), ['read_file'], 'nothing was written');

      // Same for a session grant, and a revocation of an existing grant.
      await record(userId, session('write_file', 'c1', { approvedAt: ago(5_000) }));
      const sessionApprovedAt = ago(1_000);
      await revokeGrant(env.client, userId, { tool: 'write_file', scope: 'session', conversationId: 'c1' });
      const sessionRefused = await failureOf(() =>
        record(userId, session('write_file', 'c1', { approvedAt: sessionApprovedAt })),
      );
      assert.equal(sessionRefused.type, GRANT_REVOKED_ERROR_TYPE);
      assert.deepEqual(await activities.loadGrants({ userId, conversationId: 'c1' }), ['read_file']);
      // The tombstone is per grant: another conversation, scope or tool is written.
      await record(userId, session('write_file', 'c2', { approvedAt: sessionApprovedAt }));
      await record(userId, always('write_file', { approvedAt: sessionApprovedAt }));

      // A later approval (after the revocation) is recorded normally; so is a write without approvedAt.
      await sleep(5);
      const regranted = await record(userId, always('delete_file', { approvedAt: new Date().toISOString() }));
      assert.equal(regranted.tool, 'delete_file');
      assert.deepEqual(tools(await listGrants(env.client, userId)), [
        'read_file',
        'c2:write_file',
        'write_file',
        'delete_file',
      ]);
      await revokeGrant(env.client, userId, { tool: 'read_file', scope: 'always' });
      assert.equal((await record(userId, always('read_file'))).tool, 'read_file', 'older callers: written as before');
    });

    it('a workflow calling recordGrant gets GrantRevoked as a non-retryable activity failure after one attempt', async () => {
      const userId = newUser();
      const approvedAt = ago(1_000);
      await revokeGrant(env.client, userId, { tool: 'x', scope: 'always' }); // no entity yet: nothing to revoke
      await record(userId, always('y'));
      await revokeGrant(env.client, userId, { tool: 'delete_file', scope: 'session', conversationId: 'c9' });
      const refused = await env.client.workflow.execute<typeof recordGrantProbe>('recordGrantProbe', {
        taskQueue,
        workflowId: `probe-${randomUUID()}`,
        args: [{ userId, ...session('delete_file', 'c9', { approvedAt }) }],
      });
      assert.ok(!refused.ok);
      assert.equal(refused.type, GRANT_REVOKED_ERROR_TYPE);
      assert.equal(refused.nonRetryable, true);
      assert.equal(refused.retryState, 'NON_RETRYABLE_FAILURE');
      assert.deepEqual(tools(await listGrants(env.client, userId)), ['y']);
    });

    it('a revocation for a user without an entity (taskQueue given) starts it, so an older approval is refused', async () => {
      const userId = newUser();
      const approvedAt = ago(1_000);
      assert.deepEqual(await revokeGrant(env.client, userId, { tool: 'delete_file', scope: 'always' }, { taskQueue }), {
        revoked: 0,
      });
      const description = await handleOf(userId).describe();
      assert.equal(description.type, USER_GRANTS_WORKFLOW);
      assert.equal(description.taskQueue, taskQueue);
      const refused = await failureOf(() => record(userId, always('delete_file', { approvedAt })));
      assert.equal(refused.type, GRANT_REVOKED_ERROR_TYPE);
      assert.deepEqual(await listGrants(env.client, userId), []);
      // The next revocation goes to the running entity (USE_EXISTING).
      await revokeGrant(env.client, userId, { tool: 'read_file', scope: 'always' }, { taskQueue });
      assert.equal((await handleOf(userId).describe()).runId, description.runId);
    });

    it('revocations are bounded; approvals older than a forgotten revocation are refused, newer ones written', async () => {
      const userId = newUser();
      // An 8-day-old tombstone is forgotten at once (7 days), and remembered as "revocations up to then".
      const state: UserGrantsState = {
        userId,
        grants: [],
        revocations: [{ tool: 'old_tool', scope: 'always', revokedAt: ago(8 * DAY) }],
        retention: { maxRevocations: 2 },
      };
      await startEntity(state);
      const beforeForgotten = await failureOf(() => record(userId, always('other_tool', { approvedAt: ago(9 * DAY) })));
      assert.equal(beforeForgotten.type, GRANT_REVOKED_ERROR_TYPE);
      assert.match(beforeForgotten.message, /no longer remembered/);
      assert.equal((await record(userId, always('old_tool', { approvedAt: ago(7 * DAY) }))).tool, 'old_tool');

      // Count: with at most 2, the third revocation forgets the first.
      const approvedAt = ago(1_000);
      for (const tool of ['a', 'b', 'c']) await revokeGrant(env.client, userId, { tool, scope: 'always' });
      for (const tool of ['a', 'b', 'c', 'never_revoked']) {
        assert.equal(
          (await failureOf(() => record(userId, always(tool, { approvedAt })))).type,
          GRANT_REVOKED_ERROR_TYPE,
        );
      }
      await sleep(5);
      assert.equal((await record(userId, always('a', { approvedAt: new Date().toISOString() }))).tool, 'a');

      await forceContinueAsNew(userId);
      const { state: carried } = await startedState(userId);
      assert.deepEqual(
        carried.revocations?.map((r) => r.tool),
        ['b', 'c'],
      );
      assert.ok(carried.revocationsForgottenUntil !== undefined);
      assert.deepEqual(carried.retention, { maxRevocations: 2 }, 'overrides are carried over');
    });
  });

  describe('retention', () => {
    it('prunes session grants of conversations idle longer than the retention (30 days by default)', async () => {
      assert.equal(GRANT_RETENTION_DEFAULTS.sessionIdleMs, 30 * DAY);
      const userId = newUser();
      await startEntity({
        userId,
        grants: [
          storedGrant(session('delete_file', 'c-idle'), 31 * DAY),
          storedGrant(session('read_file', 'c-idle'), 40 * DAY),
          storedGrant(session('delete_file', 'c-recent'), 29 * DAY),
          storedGrant(session('read_file', 'c-mixed'), 45 * DAY),
          storedGrant(session('write_file', 'c-mixed'), 2 * DAY), // a recent write keeps the conversation
          storedGrant(always('list_files'), 400 * DAY), // always grants are not pruned
        ],
      });
      assert.deepEqual(tools(await listGrants(env.client, userId)), [
        'c-recent:delete_file',
        'c-mixed:read_file',
        'c-mixed:write_file',
        'list_files',
      ]);
      assert.deepEqual(await activities.loadGrants({ userId, conversationId: 'c-idle' }), ['list_files']);
    });

    it('prunes with workflow time when grants are written, with the idle period from the state', async () => {
      const userId = newUser();
      await startEntity({ userId, grants: [], retention: { sessionIdleMs: 1_500 } });
      await record(userId, session('delete_file', 'c1'));
      await record(userId, always('read_file'));
      await sleep(2_000);
      await record(userId, session('delete_file', 'c2'));
      assert.deepEqual(tools(await listGrants(env.client, userId)), ['read_file', 'c2:delete_file']);
    });

    it('keeps at most maxSessionConversations conversations, the longest idle pruned first', async () => {
      const userId = newUser();
      await startEntity({ userId, grants: [], retention: { maxSessionConversations: 3 } });
      await record(userId, session('t1', 'c1'));
      await record(userId, session('t2', 'c2'));
      await record(userId, session('t3', 'c3'));
      await record(userId, session('t1b', 'c1')); // c1 written again: c2 is now the longest idle
      await record(userId, always('a1'));
      await record(userId, session('t4', 'c4'));
      assert.deepEqual(tools(await listGrants(env.client, userId)), ['c1:t1', 'c3:t3', 'c1:t1b', 'a1', 'c4:t4']);
      await record(userId, session('t5', 'c5'));
      assert.deepEqual(tools(await listGrants(env.client, userId)), ['c1:t1', 'c1:t1b', 'a1', 'c4:t4', 'c5:t5']);
    });

    it('keeps at most maxSessionGrants session grants in all, pruning whole conversations', async () => {
      const userId = newUser();
      await startEntity({ userId, grants: [], retention: { maxSessionGrants: 4 } });
      for (const tool of ['a', 'b', 'c']) await record(userId, session(tool, 'c1'));
      await record(userId, session('d', 'c2'));
      assert.equal((await listGrants(env.client, userId)).length, 4);
      await record(userId, session('e', 'c2'));
      assert.deepEqual(tools(await listGrants(env.client, userId)), ['c2:d', 'c2:e']);
    });

    it('bounds the continue-as-new state when many conversations are granted (defaults)', async () => {
      const userId = newUser();
      const conversations = GRANT_RETENTION_DEFAULTS.maxSessionConversations + 30;
      for (let n = 0; n < conversations; n += 1) {
        await record(userId, session('append_file', `conv-${n}`));
        if (n % 2 === 0) await revokeGrant(env.client, userId, { tool: `revoked_${n}`, scope: 'always' });
      }
      const listed = await listGrants(env.client, userId);
      assert.equal(listed.length, GRANT_RETENTION_DEFAULTS.maxSessionConversations);
      assert.deepEqual(
        listed.map((g) => g.conversationId),
        Array.from({ length: GRANT_RETENTION_DEFAULTS.maxSessionConversations }, (_, i) => `conv-${i + 30}`),
        'the newest conversations are kept',
      );
      assert.deepEqual(await activities.loadGrants({ userId, conversationId: 'conv-0' }), []);

      // The entity continued as new along the way; what it carried is bounded.
      const { state, bytes } = await startedState(userId);
      const carriedConversations = new Set(state.grants.map((g) => g.conversationId));
      assert.ok(carriedConversations.size <= GRANT_RETENTION_DEFAULTS.maxSessionConversations);
      assert.ok((state.recentWrites?.length ?? 0) <= MAX_REMEMBERED_GRANT_WRITES);
      assert.ok((state.revocations?.length ?? 0) <= GRANT_RETENTION_DEFAULTS.maxRevocations);
      assert.ok(bytes < 64 * 1024, `carried state is ${bytes} bytes`);
      // More conversations do not grow it past the caps.
      await forceContinueAsNew(userId, 'conv-last');
      const after = await startedState(userId);
      assert.ok(
        new Set(after.state.grants.map((g) => g.conversationId)).size <=
          GRANT_RETENTION_DEFAULTS.maxSessionConversations,
      );
      assert.ok((after.state.recentWrites?.length ?? 0) <= MAX_REMEMBERED_GRANT_WRITES);
    });
  });

  it('replay fixture: retried write, revocation race, pruning and continue-as-new (RECORD_HISTORIES=1 records it)', async () => {
    const userId = newUser();
    await startEntity({
      userId,
      grants: [],
      retention: { sessionIdleMs: 1_000, maxSessionConversations: 2, maxRevocations: 3 },
    });
    const { runId: firstRunId } = await handleOf(userId).describe();
    const attempt = recordGrantActivity();
    const first = await attempt(1, { userId, ...session('delete_file', 'c1', { approvedAt: ago(100) }) });
    await revokeGrant(env.client, userId, { tool: 'delete_file', scope: 'session', conversationId: 'c1' });
    assert.deepEqual(await attempt(2, { userId, ...session('delete_file', 'c1', { approvedAt: ago(100) }) }), first);
    const approvedAt = ago(1_000);
    await revokeGrant(env.client, userId, { tool: 'write_file', scope: 'always' });
    assert.equal(
      (await failureOf(() => record(userId, always('write_file', { approvedAt })))).type,
      GRANT_REVOKED_ERROR_TYPE,
    );
    await record(userId, session('read_file', 'c2'));
    await sleep(1_200);
    for (const conversationId of ['c3', 'c4', 'c5']) await record(userId, session('read_file', conversationId));
    assert.deepEqual(tools(await listGrants(env.client, userId)), ['c4:read_file', 'c5:read_file']);
    for (const tool of ['r1', 'r2', 'r3', 'r4']) await revokeGrant(env.client, userId, { tool, scope: 'always' });
    await forceContinueAsNew(userId, 'c5');
    if (process.env.RECORD_HISTORIES !== '1') return;
    const history = await env.client.workflow.getHandle(userGrantsWorkflowId(userId), firstRunId).fetchHistory();
    await mkdir(REPLAY_HISTORIES_DIR, { recursive: true });
    await writeFile(join(REPLAY_HISTORIES_DIR, 'user-grants-revocations.json'), historyToJSON(history));
  });
});
