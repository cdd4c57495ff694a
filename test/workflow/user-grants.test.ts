import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createGrantActivities, type GrantActivities } from '../../src/activities/grants';
import { InvalidGrantRequestError, listGrants, revokeGrant } from '../../src/client/grants';
import {
  addGrantUpdate,
  GRANT_LIMIT_ERROR_TYPE,
  INVALID_GRANT_ERROR_TYPE,
  MAX_GRANTS_PER_SCOPE,
  revokeGrantUpdate,
  USER_GRANTS_WORKFLOW,
  userGrantsWorkflowId,
  type AddGrantRequest,
  type Grant,
} from '../../src/contracts/grants';
import { getTestEnv, getWorkflowBundle, SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS } from '../hooks';
import type { recordGrantProbe } from '../workflows/grants-probe';

/** Runs `fn` and returns the ApplicationFailure it throws (the cause, when wrapped in an update failure). */
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

describe('userGrants entity (real dev server)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let taskQueue: string;
  let activities: GrantActivities;
  let worker: Worker;
  let running: Promise<void>;

  before(async () => {
    env = await getTestEnv();
    taskQueue = `test-grants-${randomUUID()}`;
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

  it('recordGrant starts the entity with update-with-start and stamps who, when and from which run', async () => {
    const userId = newUser();
    assert.deepEqual(await listGrants(env.client, userId), [], 'no entity yet: no grants');

    const before = Date.now();
    const grant = await record(userId, session('delete_file', 'c1', { grantedBy: 'alice', runId: 'run-a' }));
    assert.equal(grant.tool, 'delete_file');
    assert.equal(grant.scope, 'session');
    assert.equal(grant.conversationId, 'c1');
    assert.equal(grant.grantedBy, 'alice');
    assert.equal(grant.runId, 'run-a');
    assert.ok(Date.parse(grant.grantedAt) >= before - 5_000, 'grantedAt is the workflow time of the update');

    const description = await env.client.workflow.getHandle(userGrantsWorkflowId(userId)).describe();
    assert.equal(description.type, USER_GRANTS_WORKFLOW);
    assert.equal(description.status.name, 'RUNNING');
    assert.equal(description.taskQueue, taskQueue);
    assert.deepEqual(await listGrants(env.client, userId), [grant]);

    // The second grant goes to the running entity (USE_EXISTING), not to a new one.
    const second = await record(userId, always('read_file'));
    assert.deepEqual(await listGrants(env.client, userId), [grant, second]);
    const again = await env.client.workflow.getHandle(userGrantsWorkflowId(userId)).describe();
    assert.equal(again.runId, description.runId);
  });

  it('re-adding the same tool, scope and conversation by the same grantor returns the first grant unchanged', async () => {
    const userId = newUser();
    const first = await record(userId, session('write_file', 'c1', { grantedBy: 'alice', runId: 'run-a' }));
    assert.deepEqual(await record(userId, session('write_file', 'c1', { grantedBy: 'alice', runId: 'run-b' })), first);
    const firstAlways = await record(userId, always('write_file', { grantedBy: 'alice' }));
    assert.deepEqual(await record(userId, always('write_file', { grantedBy: 'alice' })), firstAlways);
    // Same tool in another conversation is a different grant.
    const other = await record(userId, session('write_file', 'c2', { grantedBy: 'bob' }));
    assert.equal(other.grantedBy, 'bob');
    assert.deepEqual(await listGrants(env.client, userId), [first, firstAlways, other]);
  });

  it('keeps a grant per grantor (runs count only their approvers’ grants); a revocation removes every grantor’s', async () => {
    const userId = newUser();
    const byAlice = await record(userId, always('write_file', { grantedBy: 'alice', runId: 'run-a' }));
    const byBob = await record(userId, always('write_file', { grantedBy: 'bob', runId: 'run-b' }));
    assert.equal(byBob.grantedBy, 'bob');
    assert.equal(byBob.runId, 'run-b');
    assert.deepEqual(await listGrants(env.client, userId), [byAlice, byBob]);
    assert.deepEqual(await revokeGrant(env.client, userId, { tool: 'write_file', scope: 'always' }), { revoked: 2 });
    assert.deepEqual(await listGrants(env.client, userId), []);
  });

  it('loadGrants: always grants apply everywhere, session grants only in their conversation', async () => {
    const userId = newUser();
    await record(userId, session('delete_file', 'c1'));
    await record(userId, session('append_file', 'c2'));
    await record(userId, always('read_file'));
    await record(userId, session('read_file', 'c1'));

    assert.deepEqual(await activities.loadGrants({ userId, conversationId: 'c1' }), ['delete_file', 'read_file']);
    assert.deepEqual(await activities.loadGrants({ userId, conversationId: 'c2' }), ['append_file', 'read_file']);
    assert.deepEqual(await activities.loadGrants({ userId, conversationId: 'c3' }), ['read_file']);
    assert.deepEqual(await activities.loadGrants({ userId: newUser(), conversationId: 'c1' }), [], 'no entity');
  });

  it('revokeGrant removes exactly the named grant; a session revocation needs its conversation', async () => {
    const userId = newUser();
    await record(userId, session('delete_file', 'c1'));
    await record(userId, session('delete_file', 'c2'));
    await record(userId, always('delete_file'));

    await assert.rejects(
      revokeGrant(env.client, userId, { tool: 'delete_file', scope: 'session' }),
      (error: unknown) => error instanceof InvalidGrantRequestError && error.type === INVALID_GRANT_ERROR_TYPE,
    );
    // Sent past the client's own check, the entity's validator refuses it the same way.
    const refused = await failureOf(() =>
      env.client.workflow
        .getHandle(userGrantsWorkflowId(userId))
        .executeUpdate(revokeGrantUpdate, { args: [{ tool: 'delete_file', scope: 'session' }] }),
    );
    assert.equal(refused.type, INVALID_GRANT_ERROR_TYPE);
    assert.match(refused.message, /conversationId/);

    assert.deepEqual(
      await revokeGrant(env.client, userId, { tool: 'delete_file', scope: 'session', conversationId: 'c1' }),
      { revoked: 1 },
    );
    assert.deepEqual(await activities.loadGrants({ userId, conversationId: 'c1' }), ['delete_file'], 'always remains');
    assert.deepEqual(await revokeGrant(env.client, userId, { tool: 'delete_file', scope: 'always' }), { revoked: 1 });
    assert.deepEqual(await activities.loadGrants({ userId, conversationId: 'c1' }), []);
    assert.deepEqual(await activities.loadGrants({ userId, conversationId: 'c2' }), ['delete_file']);
    assert.deepEqual(await revokeGrant(env.client, userId, { tool: 'delete_file', scope: 'always' }), { revoked: 0 });
    assert.deepEqual(await revokeGrant(env.client, newUser(), { tool: 'x', scope: 'always' }), { revoked: 0 });

    // A revoked grant can be granted again; it is a new grant.
    const regranted = await record(userId, always('delete_file', { grantedBy: 'dave' }));
    assert.equal(regranted.grantedBy, 'dave');
  });

  it('wildcards and malformed grants are refused as InvalidGrant, non-retryable', async () => {
    const userId = newUser();
    for (const request of [
      always('delete_*'),
      always('*'),
      always(''),
      session('delete_file', undefined as unknown as string),
      always('delete_file', { conversationId: 'c1' }),
    ]) {
      const failure = await failureOf(() => record(userId, request));
      assert.equal(failure.type, INVALID_GRANT_ERROR_TYPE, JSON.stringify(request));
      assert.equal(failure.nonRetryable, true);
    }
    // The entity's update validator refuses them too, and the entity stays empty.
    await record(userId, always('read_file'));
    const handle = env.client.workflow.getHandle(userGrantsWorkflowId(userId));
    const refused = await failureOf(() => handle.executeUpdate(addGrantUpdate, { args: [always('mcp_*_server')] }));
    assert.equal(refused.type, INVALID_GRANT_ERROR_TYPE);
    assert.match(refused.message, /wildcard/);
    assert.deepEqual(
      (await listGrants(env.client, userId)).map((g) => g.tool),
      ['read_file'],
    );
  });

  it('caps each bucket at 64 (GrantLimitReached, non-retryable) and keeps every grant across continue-as-new', async () => {
    const userId = newUser();
    const handle = env.client.workflow.getHandle(userGrantsWorkflowId(userId));
    const made: Grant[] = [];
    made.push(await record(userId, always('tool_0')));
    const firstRunId = (await handle.describe()).runId;
    for (let n = 1; n < MAX_GRANTS_PER_SCOPE; n += 1) made.push(await record(userId, always(`tool_${n}`)));

    const full = await failureOf(() => record(userId, always('one_too_many')));
    assert.equal(full.type, GRANT_LIMIT_ERROR_TYPE);
    assert.equal(full.nonRetryable, true);
    assert.match(full.message, /64/);
    assert.match(full.message, /always/);
    // A grant the bucket already holds is still answered (idempotent), not refused.
    assert.deepEqual(await record(userId, always('tool_0')), made[0]);

    // Session buckets are per conversation and separate from 'always'.
    for (let n = 0; n < MAX_GRANTS_PER_SCOPE; n += 1) made.push(await record(userId, session(`tool_${n}`, 'c1')));
    const sessionFull = await failureOf(() => record(userId, session('one_too_many', 'c1')));
    assert.equal(sessionFull.type, GRANT_LIMIT_ERROR_TYPE);
    assert.match(sessionFull.message, /c1/);
    made.push(await record(userId, session('one_too_many', 'c2')));

    // Well over 120 history events: the entity has continued as new, with every grant.
    const description = await handle.describe();
    assert.notEqual(description.runId, firstRunId, 'the entity continued as new');
    assert.ok(description.historyLength < SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS * 2);
    assert.equal(description.status.name, 'RUNNING');
    assert.deepEqual(await listGrants(env.client, userId), made);
    // The limit counts carried grants: still full after continue-as-new.
    assert.equal((await failureOf(() => record(userId, always('still_too_many')))).type, GRANT_LIMIT_ERROR_TYPE);
    // Revoking one makes room again.
    assert.deepEqual(await revokeGrant(env.client, userId, { tool: 'tool_5', scope: 'always' }), { revoked: 1 });
    assert.equal((await record(userId, always('now_fits'))).tool, 'now_fits');
    assert.equal((await activities.loadGrants({ userId, conversationId: 'c2' })).length, MAX_GRANTS_PER_SCOPE + 1);
  });

  it('concurrent recordGrant calls start one entity and none is lost across continue-as-new', async () => {
    const userId = newUser();
    const handle = env.client.workflow.getHandle(userGrantsWorkflowId(userId));
    // 8 at a time: the server admits at most 10 in-flight updates per workflow (more are retried by the
    // client after ResourceExhausted, which works but floods the server log).
    const requests = Array.from({ length: 80 }, (_, n) => session(`parallel_${n}`, n % 2 === 0 ? 'c1' : 'c2'));
    const made: Grant[] = [];
    let firstRunId: string | undefined;
    for (let i = 0; i < requests.length; i += 8) {
      made.push(...(await Promise.all(requests.slice(i, i + 8).map((request) => record(userId, request)))));
      firstRunId ??= (await handle.describe()).runId;
    }
    assert.deepEqual(
      made.map((grant) => grant.tool),
      requests.map((request) => request.tool),
    );
    const description = await handle.describe();
    assert.notEqual(description.runId, firstRunId, 'the entity continued as new while updates were arriving');
    const byTool = (a: Grant, b: Grant) => a.tool.localeCompare(b.tool);
    assert.deepEqual((await listGrants(env.client, userId)).sort(byTool), [...made].sort(byTool));
    assert.equal((await activities.loadGrants({ userId, conversationId: 'c1' })).length, 40);
  });

  it('a workflow calling recordGrant gets a refusal as a non-retryable activity failure after one attempt', async () => {
    const userId = newUser();
    for (let n = 0; n < MAX_GRANTS_PER_SCOPE; n += 1) await record(userId, session(`t${n}`, 'c9'));
    const accepted = await env.client.workflow.execute<typeof recordGrantProbe>('recordGrantProbe', {
      taskQueue,
      workflowId: `probe-${randomUUID()}`,
      args: [{ userId, ...session('t0', 'c9') }],
    });
    assert.deepEqual(accepted, { ok: true, tool: 't0' });
    const refused = await env.client.workflow.execute<typeof recordGrantProbe>('recordGrantProbe', {
      taskQueue,
      workflowId: `probe-${randomUUID()}`,
      args: [{ userId, ...session('t64', 'c9') }],
    });
    assert.equal(refused.ok, false);
    assert.ok(!refused.ok);
    assert.equal(refused.type, GRANT_LIMIT_ERROR_TYPE);
    assert.equal(refused.nonRetryable, true);
    assert.equal(refused.retryState, 'NON_RETRYABLE_FAILURE');
  });
});
