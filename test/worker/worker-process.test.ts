// The worker process (`src/worker.ts`) against a real dev server of its own: SIGTERM drains it (exit 0), and a
// real fatal error after start — its namespace deleted under it, which the SDK core answers by shutting the
// worker down (state FAILED, and `run()` then hangs or rejects with an unrelated IllegalStateError) — makes it
// exit 1 with one line naming the cause, after its health endpoint said 503. Slow by nature: a poll that is
// already waiting when the namespace goes away only ends when the server's long poll expires (~60 s), and the
// next one is refused. Also: the content sweep the worker starts with closes what ended runs left open.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { SqliteContentStore } from '../../src/content-store';
import { startDevServer, type DevServer } from '../../src/dev/dev-server';
import { resolveTemporalCliPath } from '../../src/dev/temporal-cli';
import { writeSuiteConfig } from '../reliability/support/agents';
import { freePort, spawnTsEntry, type ChildHandle } from '../support/processes';

const run = promisify(execFile);
const WORKER_READY = /worker polling task queue/;
const HEALTH_URL = /worker health (http:\/\/127\.0\.0\.1:\d+\/healthz)/;

type Probe = { at: number; status: number | 'no answer'; body?: { healthy?: boolean; state?: string } };

function withDatabase<T>(file: string, use: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

async function probe(url: string): Promise<Probe> {
  const at = Date.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { at, status: res.status, body: (await res.json()) as Probe['body'] };
  } catch {
    return { at, status: 'no answer' };
  }
}

describe('worker process: health and exit codes (real dev server)', function () {
  this.timeout(300_000);
  let dir: string;
  let server: DevServer;
  let configFile: string;
  const cli = resolveTemporalCliPath();
  const children: ChildHandle[] = [];

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'hitl-worker-process-'));
    configFile = writeSuiteConfig(path.join(dir, 'hitl.config.yaml'));
    server = await startDevServer({
      ip: '127.0.0.1',
      port: await freePort(),
      headless: true,
      dbFilename: '',
      logFile: path.join(dir, 'dev-server.log'),
      handleSignals: false,
      namespace: 'default',
      onOutput: () => undefined,
    });
  });
  after(async function () {
    for (const child of children) await child.kill();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function temporal(...args: string[]): Promise<void> {
    await run(cli, [...args, '--address', server.address], { timeout: 30_000 });
  }

  async function startWorker(namespace: string, name: string, env: Record<string, string> = {}) {
    const healthFile = path.join(dir, `${name}.health.json`);
    const worker = spawnTsEntry(`worker(${name})`, 'src/worker.ts', {
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: namespace,
      HITL_TASK_QUEUE: `q-${name}`,
      HITL_SANDBOX_DIR: path.join(dir, 'sandbox'),
      HITL_CONFIG: configFile,
      HITL_LIBRECHAT_CONFIG: '',
      HITL_ENABLE_SCRIPTED: '1',
      HITL_WORKER_HEALTH_PORT: '0',
      HITL_WORKER_HEALTH_FILE: healthFile,
      HITL_WORKER_LOG_LEVEL: 'ERROR',
      ...env,
    });
    children.push(worker);
    const [, url] = await worker.waitFor(HEALTH_URL, 90_000);
    await worker.waitFor(WORKER_READY, 90_000);
    // The first check runs right after `run()`; give it a moment to write the file.
    let first = await probe(url!);
    for (let i = 0; i < 20 && (first.status !== 200 || !existsSync(healthFile)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      first = await probe(url!);
    }
    assert.equal(first.status, 200, `healthy while polling: ${JSON.stringify(first)}\n${worker.output()}`);
    assert.equal(first.body?.state, 'RUNNING');
    const file = JSON.parse(readFileSync(healthFile, 'utf8')) as { healthy: boolean; state: string; pid: number };
    assert.equal(file.healthy, true);
    assert.equal(file.state, 'RUNNING');
    assert.equal(file.pid, worker.pid);
    return { worker, url: url!, healthFile };
  }

  it('SIGTERM: drains and exits 0, the health file is removed', async function () {
    const { worker, url, healthFile } = await startWorker('default', 'sigterm');
    const t0 = Date.now();
    process.kill(worker.pid, 'SIGTERM');
    const exit = await Promise.race([
      worker.exited,
      new Promise<'timeout'>((resolve) => setTimeout(resolve, 30_000, 'timeout')),
    ]);
    assert.notEqual(exit, 'timeout', `still running 30 s after SIGTERM:\n${worker.output()}`);
    assert.deepEqual(exit, { code: 0, signal: null }, worker.output());
    assert.ok(Date.now() - t0 < 30_000);
    assert.equal(existsSync(healthFile), false, 'no health file after the exit');
    assert.equal((await probe(url)).status, 'no answer');
    assert.doesNotMatch(worker.output(), /worker stopped polling|worker failed/);
  });

  it('at start, closes the content of runs that ended without closing it, and keeps that of running ones', async function () {
    // Two keys in a store of its own, backdated past the sweep's grace: a workflow that is gone (terminated
    // long ago), and one still running (of another type, so only describing it tells).
    const contentPath = path.join(dir, 'orphans.db');
    const store = new SqliteContentStore({ path: contentPath });
    await store.put('gone-workflow/first-run', 'a terminated run’s message');
    await store.put('running-workflow/first-run', 'a running run’s message');
    await store.close();
    const backdate = (db: Database.Database) => db.prepare('UPDATE hitl_content_runs SET created_at = 0').run();
    const closedAt = (db: Database.Database, key: string) =>
      db
        .prepare<[string], { closed_at: number | null }>('SELECT closed_at FROM hitl_content_runs WHERE run_id = ?')
        .get(key)?.closed_at;
    withDatabase(contentPath, backdate);
    await temporal(
      'workflow',
      'start',
      '--type',
      'otherWorkflow',
      '--task-queue',
      'nobody-polls',
      '-w',
      'running-workflow',
    );

    const { worker } = await startWorker('default', 'orphans', { HITL_CONTENT_STORE: `sqlite:${contentPath}` });
    await worker.waitFor(/content store: closed the content of 1 run\(s\) that ended without closing it/, 60_000);
    withDatabase(contentPath, (db) => {
      assert.equal(typeof closedAt(db, 'gone-workflow/first-run'), 'number');
      assert.equal(closedAt(db, 'running-workflow/first-run'), null);
    });
    process.kill(worker.pid, 'SIGTERM');
    assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.output());
  });

  it('its namespace deleted under it: 503, then exit 1 with one line naming the cause', async function () {
    const namespace = `hitl-watchdog-${Date.now()}`;
    await temporal('operator', 'namespace', 'create', '--namespace', namespace, '--retention', '1d');
    const { worker, url, healthFile } = await startWorker(namespace, 'deleted-namespace');

    const deletedAt = Date.now();
    await temporal('operator', 'namespace', 'delete', '--namespace', namespace, '--yes');

    const probes: Probe[] = [];
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void worker.exited.then((exit) => (exited = exit));
    const limitMs = 240_000;
    while (exited === undefined && Date.now() - deletedAt < limitMs) {
      probes.push(await probe(url));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const exitedAt = Date.now();
    probes.push(await probe(url)); // after the exit: nothing answers any more
    assert.ok(
      exited,
      `the worker was still running ${limitMs / 1000} s after its namespace was deleted:\n${worker.output()}`,
    );
    assert.equal(exited.code, 1, worker.output());

    // Healthy until the SDK shut the worker down; then 503 while the process is still there (a few ms when
    // run() rejects at once, up to 5 s when it hangs), then no answer: never healthy again.
    const statuses = probes.map((p) => p.status);
    const firstUnhealthy = probes.findIndex((p) => p.status !== 200);
    assert.ok(firstUnhealthy > 0, `probes: ${JSON.stringify(statuses)}`);
    assert.ok(
      probes.slice(firstUnhealthy).every((p) => p.status === 503 || p.status === 'no answer'),
      `never healthy again: ${JSON.stringify(statuses.slice(firstUnhealthy))}`,
    );
    for (const p of probes.filter((p) => p.status === 503)) assert.equal(p.body?.healthy, false);
    const unhealthy = probes[firstUnhealthy]!;
    const secondsUntilUnhealthy = (unhealthy.at - deletedAt) / 1000;
    const secondsUntilExit = Math.max(0, (exitedAt - unhealthy.at) / 1000);
    // The watchdog gives run() at most 5 s once the worker is FAILED (checked every second).
    assert.ok(secondsUntilExit < 15, `exited ${secondsUntilExit} s after the first unhealthy answer`);

    const reason = worker
      .output()
      .split('\n')
      .filter((line) => line.startsWith('worker stopped polling'));
    assert.equal(reason.length, 1, worker.output());
    assert.match(
      reason[0]!,
      new RegExp(
        `^worker stopped polling without a shutdown signal \\(state FAILED\\): TransportError: Namespace ${namespace} is not found\\.`,
      ),
    );
    assert.equal(existsSync(healthFile), false, 'the health file is removed once it stops polling');
    const seen503 = statuses.filter((status) => status === 503).length;
    console.log(
      `      namespace deleted → first unhealthy answer after ${secondsUntilUnhealthy.toFixed(1)} s ` +
        `(${seen503} × 503 before the exit) → exit ${exited.code} ${secondsUntilExit.toFixed(1)} s later: ${reason[0]}`,
    );
  });
});
