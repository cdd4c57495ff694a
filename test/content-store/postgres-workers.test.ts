// Issue 13: several worker hosts share one PostgreSQL content store. A worker process writes the first part
// of a run (and its continue-as-new), is stopped, and a second worker process finishes the run from the
// transcript the first one wrote. Against a real private PostgreSQL and the test run's Temporal dev server.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { HitlClient } from '../../src/client';
import { openContentStore, type ContentStore } from '../../src/content-store';
import { chainHistories, workflowTaskFailures } from '../../src/dev/history';
import { getTestEnv, SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS } from '../hooks';
import { writeSuiteConfig } from '../reliability/support/agents';
import { spawnTsEntry, type ChildHandle } from '../support/processes';
import { call, readSandboxFile, scriptedInput, waitForPending } from '../workflow/harness';
import { startPostgres, type PostgresServer } from '../../src/dev/private-postgres';

const WORKER_READY = /worker polling task queue/;

describe('PostgreSQL content store shared by two worker processes (real dev server)', function () {
  this.timeout(10 * 60_000);
  let pg: PostgresServer;
  let connectionString: string;
  let dir: string;
  let store: ContentStore;
  const children: ChildHandle[] = [];

  before(async function () {
    pg = await startPostgres();
    connectionString = await pg.createDatabase();
    dir = mkdtempSync(path.join(tmpdir(), 'hitl-pg-workers-'));
    store = openContentStore({
      kind: 'postgres',
      connectionString,
      poolSize: 2,
      retentionMs: 0,
      closeOrphans: true,
      maxContentBytes: 64 * 1024 * 1024,
    });
  });
  after(async function () {
    for (const child of children) await child.kill();
    await store?.close();
    await pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function startWorker(name: string, address: string, taskQueue: string): Promise<ChildHandle> {
    const worker = spawnTsEntry(`worker(${name})`, 'src/worker.ts', {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      HITL_TASK_QUEUE: taskQueue,
      HITL_SANDBOX_DIR: path.join(dir, 'sandbox'),
      HITL_CONFIG: writeSuiteConfig(path.join(dir, `${name}.config.yaml`)),
      HITL_LIBRECHAT_CONFIG: '',
      HITL_ENABLE_SCRIPTED: '1',
      HITL_CONTENT_STORE: connectionString,
      HITL_WORKER_LOG_LEVEL: 'ERROR',
    });
    children.push(worker);
    await worker.waitFor(WORKER_READY, 120_000);
    return worker;
  }

  it('a run continues as new on one worker host and completes on another, from the shared transcript', async () => {
    const env = await getTestEnv();
    const taskQueue = `pg-${randomUUID()}`;
    const hitl = new HitlClient(env.client, taskQueue, store);
    const turns = 24;
    const script = Array.from({ length: turns }, (_, n) => ({
      tool_calls: [call(`call_${n}`, 'append_file', { path: 'shared.txt', content: `${n}\n` })],
    }));

    const first = await startWorker('a', env.address, taskQueue);
    const { runId } = await hitl.startRun(
      scriptedInput([...script, { content: 'finished' }], {
        maxTurns: turns + 1,
        policy: { enabled: true, ask: ['append_file'] },
      }),
    );
    const firstRunId = (await env.client.workflow.getHandle(runId).describe()).runId;
    const approve = async (n: number) => {
      const pending = await waitForPending(hitl, runId);
      const outcome = await hitl.resolve(runId, {
        actionId: pending.actionId,
        approver: 'u1',
        decisions: [{ tool_call_id: `call_${n}`, decision: 'approve' }],
      });
      assert.ok(outcome.ok, `turn ${n}: ${JSON.stringify(outcome)}`);
    };
    // Host A until the run has continued as new (the test server suggests it after a few turns).
    let n = 0;
    for (; n < turns; n += 1) {
      await approve(n);
      if ((await env.client.workflow.getHandle(runId).describe()).runId !== firstRunId) break;
    }
    assert.ok(
      n < turns - 2,
      `the run continued as new on host A (after ${SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS} events)`,
    );
    await waitForPending(hitl, runId);
    await first.stop(60_000);

    // Host B takes over: it reads what A wrote to PostgreSQL.
    await startWorker('b', env.address, taskQueue);
    for (n += 1; n < turns; n += 1) await approve(n);
    const result = await hitl.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(result.finalMessage, 'finished');

    const expected = Array.from({ length: turns }, (_, i) => `${i}\n`).join('');
    assert.equal(await readSandboxFile(path.join(dir, 'sandbox'), 'shared.txt'), expected);
    const transcript = await hitl.readMessages(runId);
    assert.equal(transcript.total, 1 + 2 * turns + 1);
    assert.deepEqual(
      transcript.messages.filter((m) => m.role === 'tool').map((m) => m.role === 'tool' && m.tool_call_id),
      script.map((_, i) => `call_${i}`),
    );
    const histories = await chainHistories(env.client, runId);
    assert.ok(histories.length > 1);
    assert.deepEqual(workflowTaskFailures(histories), []);
    // Both hosts ran activities of this run.
    const identities = new Set<string>();
    for (const history of histories) {
      for (const event of history.events ?? []) {
        const identity = event.activityTaskStartedEventAttributes?.identity;
        if (identity) identities.add(identity);
      }
    }
    assert.ok(identities.size >= 2, `activity workers: ${[...identities].join(', ')}`);
  });
});
