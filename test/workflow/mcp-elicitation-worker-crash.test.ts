// A worker that dies while its run waits for an elicitation answer: the MCP call's activity stops heartbeating,
// Temporal retries it on the next worker, the tool is called again (same idempotency key) and its server asks
// again; the run withdraws the first question and pauses on the new one. Only idempotent tools are safe here.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HitlClient } from '../../src/client';
import { sharedContentStore } from '../../src/content-store';
import { ELICITATION_WITHDRAWN } from '../../src/workflows/generation-run';
import { getTestEnv } from '../hooks';
import { spawnTsEntry, type ChildHandle } from '../support/processes';
import { elicitationConfigYaml, elicitationOf } from './mcp-elicitation.test';
import { eventually, toolMessages, waitForPending } from './harness';

describe('MCP elicitation: the worker dies while the run waits for the answer (worker processes, real dev server)', function () {
  this.timeout(240_000);
  const taskQueue = `elicit-crash-${randomUUID()}`;
  const children: ChildHandle[] = [];
  let configFile: string;
  let sandboxDir: string;

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hitl-elicit-crash-'));
    configFile = join(dir, 'hitl.config.yaml');
    sandboxDir = join(dir, 'sandbox');
    await writeFile(configFile, elicitationConfigYaml());
  });
  after(async () => {
    for (const child of children) await child.kill();
  });

  async function startWorker(name: string): Promise<ChildHandle> {
    const env = await getTestEnv();
    const worker = spawnTsEntry(`worker(${name})`, 'src/worker.ts', {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      HITL_TASK_QUEUE: taskQueue,
      HITL_SANDBOX_DIR: sandboxDir,
      HITL_CONFIG: configFile,
      HITL_LIBRECHAT_CONFIG: '',
      HITL_ENABLE_SCRIPTED: '1',
      HITL_WORKER_HEALTH_PORT: '0',
      HITL_WORKER_LOG_LEVEL: 'ERROR',
    });
    children.push(worker);
    await worker.waitFor(/worker polling task queue/, 120_000);
    return worker;
  }

  it('the call is retried on the next worker, which asks again; the answer to the new question completes the run', async () => {
    const env = await getTestEnv();
    const client = new HitlClient(env.client, taskQueue, () => sharedContentStore());
    const first = await startWorker('first');
    const { runId } = await client.startRun({
      userId: 'u1',
      conversationId: `c-${randomUUID()}`,
      agentId: 'elicit',
      messages: [{ role: 'user', content: 'go' }],
    });
    const asked = await waitForPending(client, runId);
    elicitationOf(asked);

    await first.kill();
    await startWorker('second');
    // The heartbeat timeout (20 s) notices the dead worker; the retried call's server asks again.
    const again = await eventually(
      async () => {
        const pending = await client.getPendingAction(runId);
        return pending && pending.actionId !== asked.actionId ? pending : undefined;
      },
      'the question asked again by the retried call',
      150_000,
    );
    elicitationOf(again);
    const stale = await client.resolve(runId, {
      actionId: asked.actionId,
      approver: 'u1',
      elicitation: { action: 'accept', content: { name: 'too late' } },
    });
    assert.equal(!stale.ok && stale.refusal.type, 'ActionExpired', 'the first question was withdrawn');
    const answered = await client.resolve(runId, {
      actionId: again.actionId,
      approver: 'u1',
      elicitation: { action: 'accept', content: { name: 'Second Worker' } },
    });
    assert.equal(answered.ok, true);
    const result = await client.result(runId);
    assert.equal(result.status, 'completed');
    const message = toolMessages((await client.readMessages(runId, { limit: 100 })).messages).find(
      (m) => m.tool_call_id === 'e1',
    );
    assert.match(message?.content ?? '', /Name: Second Worker/);
    const audit = (await client.getRunState(runId)).decisions;
    const withdrawn = audit.find((entry) => entry.actionId === asked.actionId && entry.via === 'expiry');
    assert.equal(withdrawn?.message, ELICITATION_WITHDRAWN);
  });
});
