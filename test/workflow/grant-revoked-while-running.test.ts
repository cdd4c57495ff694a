// A revocation made while the approved call still runs wins over the grant the run writes afterwards.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { createWorkerActivities, loadActivitiesConfigFromEnv } from '../../src/activities';
import { HitlClient } from '../../src/client';
import type { ExecuteToolRequest } from '../../src/contracts';
import { getTestEnv, getWorkflowBundle } from '../hooks';
import { call, scriptedInput, waitForPending } from './harness';

describe('remembered decisions: revoked while the approved call runs (real dev server)', function () {
  this.timeout(90_000);

  it('the grant written after the call is refused (GrantRevoked); a later approval is remembered', async () => {
    const env = await getTestEnv();
    const user = `u-${randomUUID()}`;
    const taskQueue = `test-${randomUUID()}`;
    const sandboxDir = await mkdtemp(join(tmpdir(), 'hitl-sandbox-'));
    const real = createWorkerActivities(env.client, taskQueue, { ...loadActivitiesConfigFromEnv(), sandboxDir });
    // The first tool call waits at a gate until the test has revoked.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let toolStarted!: () => void;
    const started = new Promise<void>((resolve) => (toolStarted = resolve));
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await getWorkflowBundle(),
      activities: {
        ...real,
        async executeTool(request: ExecuteToolRequest) {
          toolStarted();
          await gate;
          return real.executeTool(request);
        },
      },
    });
    await worker.runUntil(async () => {
      const hitl = new HitlClient(env.client, taskQueue);
      const input = scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'r.txt', content: 'x' })] }], {
        userId: user,
      });
      const approveAlways = async (runId: string) => {
        const pending = await waitForPending(hitl, runId);
        const decided = await hitl.resolve(runId, {
          actionId: pending.actionId,
          approver: user,
          decisions: [{ tool_call_id: 'call_1', decision: 'approve', scope: 'always' }],
        });
        assert.ok(decided.ok);
      };

      const { runId } = await hitl.startRun(input);
      await approveAlways(runId);
      await started;
      // The user takes the "always" back while the tool runs: there is nothing to remove yet.
      assert.deepEqual(await hitl.revokeGrant(user, { tool: 'append_file', scope: 'always' }), { revoked: 0 });
      release();
      assert.equal((await hitl.result(runId)).status, 'completed');
      const grantEntry = (await hitl.getRunState(runId)).decisions.find((d) => d.via === 'grant');
      assert.equal(grantEntry?.outcome, 'refused');
      assert.match(grantEntry?.message ?? '', /revoked/);
      assert.deepEqual(await hitl.listGrants(user), []);

      // An approval made after the revocation is remembered.
      const second = await hitl.startRun(input);
      await approveAlways(second.runId);
      assert.equal((await hitl.result(second.runId)).status, 'completed');
      assert.deepEqual(
        (await hitl.listGrants(user)).map((g) => [g.tool, g.scope]),
        [['append_file', 'always']],
      );
    });
  });
});
