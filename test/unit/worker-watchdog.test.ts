// The worker process's watchdog, health endpoint, health file and settings, against a stand-in for the SDK
// worker (its state and the promise of run()). The same code against a real worker whose namespace is
// deleted under it: test/worker/worker-process.test.ts. What the stand-in adds is what that real case does
// only sometimes: run() that never settles after FAILED, and the drain states of core's own shutdown.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { LogLevel, LogMetadata, Logger, State, WorkerStatus } from '@temporalio/worker';
import { ConfigError } from '../../src/agent-config';
import {
  DEFAULT_SHUTDOWN_FORCE_TIME_MS,
  FatalErrorLogger,
  HealthFile,
  parseDurationMs,
  startHealthServer,
  watchWorker,
  workerHealth,
  workerProcessSettingsFromEnv,
  DEFAULT_WORKER_MAX_CACHED_WORKFLOWS,
  type WatchedWorker,
  type WatchWorkerOptions,
  type WorkerHealth,
} from '../../src/worker';

class FakeWorker implements WatchedWorker {
  state: State = 'RUNNING';
  workflowPollerState: WorkerStatus['workflowPollerState'] = 'POLLING';
  activityPollerState: WorkerStatus['activityPollerState'] = 'POLLING';

  getState(): State {
    return this.state;
  }

  getStatus(): WorkerStatus {
    return {
      runState: this.state,
      workflowPollerState: this.workflowPollerState,
      activityPollerState: this.activityPollerState,
      hasOutstandingWorkflowPoll: true,
      hasOutstandingActivityPoll: true,
      numInFlightWorkflowActivations: 0,
      numInFlightActivities: 0,
      numInFlightNonLocalActivities: 0,
      numInFlightLocalActivities: 0,
      numCachedWorkflows: 0,
      numHeartbeatingActivities: 0,
    };
  }
}

/** A run() promise settled by hand (or never). */
function runPromise() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const TIMING = { intervalMs: 10, settleMs: 150, shutdownForceTimeMs: 300 } as const;

function watch(worker: FakeWorker, run: ReturnType<typeof runPromise>, options: Partial<WatchWorkerOptions> = {}) {
  const started = Date.now();
  const outcome = watchWorker(worker, {
    running: run.promise,
    shutdownRequested: () => false,
    ...TIMING,
    ...options,
  }).then((result) => ({ ...result, afterMs: Date.now() - started }));
  return outcome;
}

describe('worker watchdog', function () {
  it('FAILED without a signal and run() never settles: exit 1 settleMs later, naming the logged cause', async function () {
    const worker = new FakeWorker();
    const run = runPromise(); // never settles, as seen after a deleted namespace
    const checks: WorkerHealth[] = [];
    const outcome = watch(worker, run, {
      cause: () => 'TransportError: Namespace ns-x is not found.',
      onCheck: (health) => checks.push(health),
    });
    await sleep(50);
    assert.ok(checks.length > 0 && checks.every((health) => health.healthy));
    const failedAt = Date.now();
    worker.state = 'FAILED';
    const result = await outcome;
    const waited = Date.now() - failedAt;
    assert.equal(result.exitCode, 1);
    assert.equal(
      result.message,
      'worker stopped polling without a shutdown signal (state FAILED): TransportError: Namespace ns-x is not found.; run() did not settle, exiting anyway',
    );
    assert.ok(waited >= TIMING.settleMs && waited < TIMING.settleMs + 1000, `exited ${waited} ms after FAILED`);
    assert.equal(checks.at(-1)?.healthy, false);
    assert.equal(checks.at(-1)?.state, 'FAILED');
  });

  it('FAILED and run() rejects with a later error: exit 1 at once, the first (logged) cause wins', async function () {
    const worker = new FakeWorker();
    const run = runPromise();
    const outcome = watch(worker, run, { cause: () => 'TransportError: Namespace ns-x is not found.' });
    worker.state = 'FAILED';
    run.reject(new Error('Worker still in use: Expected 1 reference, but got 2'));
    const result = await outcome;
    assert.equal(result.exitCode, 1);
    assert.equal(
      result.message,
      'worker stopped polling without a shutdown signal (state FAILED): TransportError: Namespace ns-x is not found.',
    );
    assert.ok(result.afterMs < 100, `${result.afterMs} ms`);
  });

  it('run() rejects and nothing was logged: the rejection is the cause', async function () {
    const worker = new FakeWorker();
    const run = runPromise();
    const outcome = watch(worker, run);
    worker.state = 'FAILED';
    const error = new Error('Namespace gone');
    error.name = 'TransportError';
    run.reject(error);
    assert.equal(
      (await outcome).message,
      'worker stopped polling without a shutdown signal (state FAILED): TransportError: Namespace gone',
    );
  });

  it('core shuts the worker down (DRAINING, no signal): the drain gets shutdownForceTime, then exit 1', async function () {
    const worker = new FakeWorker();
    const run = runPromise();
    const outcome = watch(worker, run);
    worker.state = 'DRAINING';
    const result = await outcome;
    assert.equal(result.exitCode, 1);
    assert.match(result.message, /^worker stopped polling without a shutdown signal \(state DRAINING\): no error/);
    const limit = TIMING.shutdownForceTimeMs + TIMING.settleMs;
    assert.ok(result.afterMs >= limit && result.afterMs < limit + 1000, `${result.afterMs} ms`);
  });

  it('DRAINING that ends FAILED: settleMs from FAILED on', async function () {
    const worker = new FakeWorker();
    const run = runPromise();
    const outcome = watch(worker, run);
    worker.state = 'DRAINING';
    await sleep(50);
    worker.state = 'FAILED';
    const result = await outcome;
    assert.equal(result.exitCode, 1);
    assert.match(result.message, /\(state FAILED\)/);
    assert.ok(result.afterMs < TIMING.shutdownForceTimeMs + TIMING.settleMs, `${result.afterMs} ms`);
  });

  it('a shutdown signal and a drain that ends: exit 0', async function () {
    const worker = new FakeWorker();
    const run = runPromise();
    let signalled = false;
    const outcome = watch(worker, run, { shutdownRequested: () => signalled });
    signalled = true;
    worker.state = 'DRAINING';
    await sleep(100);
    worker.state = 'STOPPED';
    run.resolve();
    assert.deepEqual(
      { ...(await outcome), afterMs: 0 },
      { exitCode: 0, message: 'worker stopped after a shutdown signal', afterMs: 0 },
    );
  });

  it('a shutdown signal and a drain that never ends: exit 1 after shutdownForceTime + settleMs', async function () {
    const worker = new FakeWorker();
    const run = runPromise();
    let signalled = false;
    const outcome = watch(worker, run, { shutdownRequested: () => signalled });
    signalled = true;
    worker.state = 'DRAINING';
    const result = await outcome;
    assert.equal(result.exitCode, 1);
    assert.equal(
      result.message,
      'worker did not shut down within 0.5 s of the shutdown signal (state DRAINING); exiting anyway',
    );
  });

  it('a shutdown signal and a drain that fails (force time expired): exit 1 naming it', async function () {
    const worker = new FakeWorker();
    const run = runPromise();
    const outcome = watch(worker, run, { shutdownRequested: () => true });
    const error = new Error('Timed out while waiting for worker to shutdown gracefully');
    error.name = 'GracefulShutdownPeriodExpiredError';
    run.reject(error);
    assert.equal(
      (await outcome).message,
      'worker did not shut down cleanly: GracefulShutdownPeriodExpiredError: Timed out while waiting for worker to shutdown gracefully',
    );
  });

  it('run() ends by itself without a signal: exit 1', async function () {
    const worker = new FakeWorker();
    const run = runPromise();
    const outcome = watch(worker, run);
    worker.state = 'STOPPED';
    run.resolve();
    const result = await outcome;
    assert.equal(result.exitCode, 1);
    assert.equal(
      result.message,
      'worker stopped polling without a shutdown signal (state STOPPED): run() ended by itself',
    );
  });

  it('health: STARTING before the worker exists, RUNNING with both pollers, unhealthy when a poller failed', function () {
    assert.deepEqual(workerHealth(undefined), { healthy: false, state: 'STARTING', reason: 'the worker is starting' });
    const worker = new FakeWorker();
    assert.equal(workerHealth(worker).healthy, true);
    worker.activityPollerState = 'FAILED';
    assert.deepEqual(
      { ...workerHealth(worker), status: undefined },
      { healthy: false, state: 'RUNNING', reason: 'a poller stopped (activityPollerState FAILED)', status: undefined },
    );
    worker.state = 'FAILED';
    assert.equal(workerHealth(worker).reason, 'the worker is FAILED, not polling');
  });
});

describe('worker health endpoint and file', function () {
  it('GET /healthz: 200 while healthy, 503 with the reason otherwise; HEAD; 404; 405', async function () {
    const worker = new FakeWorker();
    const server = await startHealthServer({ host: '127.0.0.1', port: 0, health: () => workerHealth(worker) });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/healthz$/);
      let res = await fetch(server.url);
      assert.equal(res.status, 200);
      const body = (await res.json()) as WorkerHealth & { pid: number };
      assert.equal(body.healthy, true);
      assert.equal(body.state, 'RUNNING');
      assert.equal(body.pid, process.pid);
      assert.equal(body.status?.workflowPollerState, 'POLLING');

      worker.state = 'FAILED';
      res = await fetch(server.url);
      assert.equal(res.status, 503);
      const failed = (await res.json()) as WorkerHealth;
      assert.equal(failed.healthy, false);
      assert.equal(failed.reason, 'the worker is FAILED, not polling');

      res = await fetch(server.url, { method: 'HEAD' });
      assert.equal(res.status, 503);
      assert.equal((await fetch(server.url.replace('/healthz', '/other'))).status, 404);
      assert.equal((await fetch(server.url, { method: 'POST' })).status, 405);
    } finally {
      await server.close();
    }
  });

  it('a port in use is one line naming the variable', async function () {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      await assert.rejects(
        startHealthServer({ host: '127.0.0.1', port, health: () => workerHealth(undefined) }),
        (err: Error) =>
          err instanceof ConfigError &&
          err.message ===
            `HITL_WORKER_HEALTH_PORT: cannot listen on 127.0.0.1:${port} for the health endpoint: the port is in use`,
      );
    } finally {
      busy.close();
    }
  });

  it('the health file exists only while healthy', function () {
    const dir = mkdtempSync(path.join(tmpdir(), 'hitl-health-'));
    try {
      const file = new HealthFile(path.join(dir, 'worker.health'));
      const worker = new FakeWorker();
      file.update(workerHealth(worker));
      const written = JSON.parse(readFileSync(file.file, 'utf8')) as { healthy: boolean; pid: number; at: string };
      assert.equal(written.healthy, true);
      assert.equal(written.pid, process.pid);
      assert.ok(Date.now() - Date.parse(written.at) < 5000);
      worker.state = 'DRAINING';
      file.update(workerHealth(worker));
      assert.equal(existsSync(file.file), false);
      file.remove(); // idempotent
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('worker process settings', function () {
  it('defaults: no health endpoint or file, force time 30 s', function () {
    assert.deepEqual(workerProcessSettingsFromEnv({}), {
      healthPort: undefined,
      healthHost: '127.0.0.1',
      healthFile: undefined,
      shutdownForceTimeMs: DEFAULT_SHUTDOWN_FORCE_TIME_MS,
      maxCachedWorkflows: DEFAULT_WORKER_MAX_CACHED_WORKFLOWS,
    });
    assert.equal(DEFAULT_SHUTDOWN_FORCE_TIME_MS, 30_000);
  });

  it('reads the variables and refuses bad values with one line', function () {
    assert.deepEqual(
      workerProcessSettingsFromEnv({
        HITL_WORKER_HEALTH_PORT: '9464',
        HITL_WORKER_HEALTH_HOST: '0.0.0.0',
        HITL_WORKER_HEALTH_FILE: 'x/health.json',
        HITL_WORKER_SHUTDOWN_FORCE_TIME: '2m',
        HITL_WORKER_MAX_CACHED_WORKFLOWS: '250',
      }),
      {
        healthPort: 9464,
        healthHost: '0.0.0.0',
        healthFile: path.resolve('x/health.json'),
        shutdownForceTimeMs: 120_000,
        maxCachedWorkflows: 250,
      },
    );
    assert.equal(workerProcessSettingsFromEnv({ HITL_WORKER_MAX_CACHED_WORKFLOWS: '0' }).maxCachedWorkflows, 0);
    for (const bad of ['1', 'many', '-5', '2.5']) {
      assert.throws(
        () => workerProcessSettingsFromEnv({ HITL_WORKER_MAX_CACHED_WORKFLOWS: bad }),
        (err: Error) => err instanceof ConfigError && err.message.startsWith('HITL_WORKER_MAX_CACHED_WORKFLOWS: '),
      );
    }
    assert.throws(
      () => workerProcessSettingsFromEnv({ HITL_WORKER_HEALTH_PORT: 'http' }),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message === 'HITL_WORKER_HEALTH_PORT: expected a port number (0-65535), got "http"',
    );
    assert.throws(() => workerProcessSettingsFromEnv({ HITL_WORKER_HEALTH_PORT: '70000' }), ConfigError);
    assert.throws(
      () => workerProcessSettingsFromEnv({ HITL_WORKER_SHUTDOWN_FORCE_TIME: '30' }),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message === 'HITL_WORKER_SHUTDOWN_FORCE_TIME: expected a duration such as 30s, 2m or 500ms, got "30"',
    );
    assert.throws(() => workerProcessSettingsFromEnv({ HITL_WORKER_SHUTDOWN_FORCE_TIME: '0s' }), ConfigError);
  });

  it('durations', function () {
    assert.equal(parseDurationMs('500ms'), 500);
    assert.equal(parseDurationMs('30s'), 30_000);
    assert.equal(parseDurationMs('1.5 s'), 1500);
    assert.equal(parseDurationMs('2m'), 120_000);
    assert.equal(parseDurationMs('1h'), 3_600_000);
    assert.equal(parseDurationMs('30'), undefined);
    assert.equal(parseDurationMs('soon'), undefined);
  });
});

describe('FatalErrorLogger', function () {
  it('passes every record on and keeps the first fatal error of the SDK', function () {
    const seen: Array<[LogLevel, string]> = [];
    const inner: Logger = {
      log: (level: LogLevel, message: string, _meta?: LogMetadata) => seen.push([level, message]),
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    };
    const logger = new FatalErrorLogger(inner);
    logger.error('Failed to process Workflow Activation', { error: new Error('not fatal') });
    assert.equal(logger.fatalError(), undefined, 'a failed activation is not fatal');
    const first = new Error('Namespace ns-x is not found.');
    first.name = 'TransportError';
    logger.error('Worker failed', { error: first });
    logger.error('Worker failed', { error: new Error('later') });
    logger.warn('something');
    assert.equal(logger.fatalError(), 'TransportError: Namespace ns-x is not found.');
    assert.deepEqual(seen, [
      ['ERROR', 'Failed to process Workflow Activation'],
      ['ERROR', 'Worker failed'],
      ['ERROR', 'Worker failed'],
      ['WARN', 'something'],
    ]);
  });
});
