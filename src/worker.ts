// Worker entry: `npm run worker` (or `node -r ts-node/register/transpile-only src/worker.ts`); compiled by
// `npm run build`: `node dist/worker.js`, which loads the workflow bundle prebuilt next to it (src/prebuilt-bundle.ts).
// Connection from the environment (see src/config.ts); registers the generationRun workflow and the
// activities. Ctrl-C / SIGTERM drain it (the Temporal Runtime installs those signal handlers) and it exits 0.
// A worker that stops polling on its own (a fatal error in the SDK core, e.g. its namespace deleted under
// it) exits 1 with one line saying why, also when the SDK's `run()` never settles; a supervisor restarts it.
// While it runs, `HITL_WORKER_HEALTH_PORT` serves GET /healthz (200 while polling, 503 otherwise) and
// `HITL_WORKER_HEALTH_FILE` is rewritten every second (removed when it stops polling).
import * as fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type LogMetadata,
  type Logger,
  type State,
  type WorkerOptions,
  type WorkerStatus,
  type WorkflowBundleOption,
  type BundleOptions,
} from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { ConfigError, configSourceFromEnv } from './agent-config';
import {
  closeMcpConnections,
  closeSharedContentStore,
  createDefaultToolRegistry,
  createWorkerActivities,
  loadActivitiesConfigFromEnv,
  sharedContentStore,
  startRetentionSweeper,
} from './activities';
import { temporalRunLiveness } from './client/run-liveness';
import {
  describeContentStoreConfig,
  loadContentStoreConfig,
  type ContentStore,
  type ContentStoreConfig,
} from './content-store';
import { describeTemporalConfig, loadTemporalConfig } from './config';
import { chooseWorkflowBundle } from './prebuilt-bundle';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  /** Default "default". */
  namespace?: string;
  taskQueue: string;
  /** The activities to register: normally `createWorkerActivities(client, taskQueue)`. */
  activities: object;
  /** A prebuilt bundle (tests share one), built with `workflowBundleOptions()`; default: bundle `src/workflows` at creation. */
  workflowBundle?: WorkflowBundleOption;
  /** Anything else for `Worker.create`. */
  workerOptions?: Omit<WorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowBundle'>;
}

/** Path of the workflow entry (`src/workflows/index.ts`, or `.js` when compiled). */
export const WORKFLOWS_PATH = require.resolve('./workflows');
/** The failure converter (well-formed strings); a prebuilt bundle must be built with it too. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * Workflow-side modules evaluated once per worker thread and shared by every run (the SDK's `preloadModules`),
 * instead of once for each new run and each replay: with `reuseV8Context` each run otherwise gets its own copy
 * of every module it imports, which costs CPU at every start and memory for every cached run. Only modules
 * that hold no per-run state and call no workflow API at load may be here: the SDK deep-freezes what they
 * export, and they load before any run exists. test/unit/workflow-imports.test.ts checks both.
 */
export const SHARED_WORKFLOW_MODULES: string[] = [
  './contracts/values',
  './contracts/json-limits',
  './contracts/elicitation-content',
  './contracts/refinements',
  './fast-parse/descriptions',
  './fast-parse/interpret',
  './policy',
  './workflows/audit-log',
  './workflows/details',
  './workflows/transcript',
  './workflows/parse',
  './workflows/validate-resolution',
].map((module) => require.resolve(module));

/**
 * The options of every bundle of the workflows, so that none can drift: the worker's own at start (below), the
 * prebuilt one of `npm run build` (src/prebuilt-bundle.ts, which also records them in its manifest), the
 * tests' (test/hooks.ts) and the benchmark's (bench/temporal/side.ts). Add bundle options here.
 */
export function workflowBundleOptions(workflowsPath: string = WORKFLOWS_PATH): BundleOptions {
  return {
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    preloadModules: SHARED_WORKFLOW_MODULES,
    webpackConfigHook: compileTypeScriptForES2022,
  };
}

type WebpackConfig = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];

/**
 * The SDK's bundler compiles TypeScript sources (a worker under ts-node bundles `src/`) with swc for ES2017, so
 * every object spread, `?.` and `??` of the workflow code runs as a helper call, in every run and every replay.
 * The workflow sandbox is Node 20's V8: compile for ES2022, the target tsc gives the compiled worker's `dist/`
 * (tsconfig.json), so both run the same language level. JavaScript modules are not compiled either way.
 */
function compileTypeScriptForES2022(config: WebpackConfig): WebpackConfig {
  for (const rule of config.module?.rules ?? []) {
    if (typeof rule !== 'object' || rule === null || typeof rule.use !== 'object' || rule.use === null) continue;
    if (Array.isArray(rule.use)) continue;
    const use = rule.use as { loader?: unknown; options?: unknown };
    if (typeof use.loader !== 'string' || !use.loader.includes('swc-loader')) continue;
    const options = use.options as { jsc?: Record<string, unknown> } | undefined;
    if (options?.jsc !== undefined) options.jsc = { ...options.jsc, target: 'es2022' };
  }
  return config;
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  // Bundled at creation: the same options as a prebuilt bundle (Worker.create takes these as bundlerOptions).
  const { ignoreModules, preloadModules, webpackConfigHook } = workflowBundleOptions();
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'bundlerOptions'> = options.workflowBundle
    ? { workflowBundle: options.workflowBundle }
    : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { ignoreModules, preloadModules, webpackConfigHook } };
  return Worker.create({
    ...options.workerOptions,
    dataConverter: { ...options.workerOptions?.dataConverter, failureConverterPath: FAILURE_CONVERTER_PATH },
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...workflows,
  });
}

const LOG_LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** SDK log level from `HITL_WORKER_LOG_LEVEL` (default WARN: the SDK's INFO lines include webpack stats). */
function workerLogLevel(): LogLevel {
  const raw = (process.env.HITL_WORKER_LOG_LEVEL ?? '').toUpperCase();
  return LOG_LEVELS.find((level) => level === raw) ?? 'WARN';
}

// ---------------------------------------------------------------------------------------------------------
// Process settings

/** Signals on which the worker drains and exits 0: the Temporal Runtime's defaults, passed to it explicitly. */
export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'];
/** Default `shutdownForceTime`: how long a drain may take before the SDK gives up on it. */
export const DEFAULT_SHUTDOWN_FORCE_TIME_MS = 30_000;
/**
 * Default sticky cache (`maxCachedWorkflows`) of the worker process. The SDK's own default grows with the
 * heap limit (about 600 runs per GiB: 2 310 with Node's default heap on a 24 GiB machine), and a cached
 * generation run holds about 2.5 MiB, so paused runs filled the worker's memory (2.9 GiB of RSS with 1 000
 * paused: `npm run bench:paused`, docs/benchmarks.md). Sized for the runs that are active, not for those
 * that wait: a paused run that was evicted replays its history when it is resolved (tens of ms).
 */
export const DEFAULT_WORKER_MAX_CACHED_WORKFLOWS: number | undefined = 100;
/** How long `run()` may take to settle once the worker is FAILED (beyond it the process exits anyway). */
export const FAILED_SETTLE_MS = 5_000;

export interface WorkerProcessSettings {
  /** `HITL_WORKER_HEALTH_PORT`: serve GET /healthz there (0 = any free port, printed at start). */
  healthPort: number | undefined;
  /** `HITL_WORKER_HEALTH_HOST` (default 127.0.0.1). */
  healthHost: string;
  /** `HITL_WORKER_HEALTH_FILE`: rewritten every second while the worker polls, removed otherwise. */
  healthFile: string | undefined;
  /** `HITL_WORKER_SHUTDOWN_FORCE_TIME` (default 30s): the SDK's `shutdownForceTime`. */
  shutdownForceTimeMs: number;
  /**
   * `HITL_WORKER_MAX_CACHED_WORKFLOWS`: the SDK's `maxCachedWorkflows`, how many runs the worker keeps in its
   * sticky cache (0 = none); default {@link DEFAULT_WORKER_MAX_CACHED_WORKFLOWS} (undefined: the SDK's own).
   */
  maxCachedWorkflows: number | undefined;
}

/** The worker process's own settings; a bad value is a `ConfigError` naming the variable. */
export function workerProcessSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerProcessSettings {
  const nonEmpty = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const rawPort = nonEmpty('HITL_WORKER_HEALTH_PORT');
  let healthPort: number | undefined;
  if (rawPort !== undefined) {
    healthPort = /^\d+$/.test(rawPort) ? Number(rawPort) : NaN;
    if (!(healthPort >= 0 && healthPort <= 65_535)) {
      throw new ConfigError(
        `HITL_WORKER_HEALTH_PORT: expected a port number (0-65535), got ${JSON.stringify(rawPort)}`,
      );
    }
  }
  const rawForce = nonEmpty('HITL_WORKER_SHUTDOWN_FORCE_TIME');
  let shutdownForceTimeMs = DEFAULT_SHUTDOWN_FORCE_TIME_MS;
  if (rawForce !== undefined) {
    const parsed = parseDurationMs(rawForce);
    if (parsed === undefined || parsed <= 0) {
      throw new ConfigError(
        `HITL_WORKER_SHUTDOWN_FORCE_TIME: expected a duration such as 30s, 2m or 500ms, got ${JSON.stringify(rawForce)}`,
      );
    }
    shutdownForceTimeMs = parsed;
  }
  const healthFile = nonEmpty('HITL_WORKER_HEALTH_FILE');
  const rawCache = nonEmpty('HITL_WORKER_MAX_CACHED_WORKFLOWS');
  let maxCachedWorkflows = DEFAULT_WORKER_MAX_CACHED_WORKFLOWS;
  if (rawCache !== undefined) {
    maxCachedWorkflows = /^\d+$/.test(rawCache) ? Number(rawCache) : NaN;
    if (!(maxCachedWorkflows === 0 || (maxCachedWorkflows >= 2 && maxCachedWorkflows <= 1_000_000))) {
      throw new ConfigError(
        `HITL_WORKER_MAX_CACHED_WORKFLOWS: expected 0 (no cache) or a number of runs from 2 to 1000000, got ${JSON.stringify(rawCache)}`,
      );
    }
  }
  return {
    healthPort,
    healthHost: nonEmpty('HITL_WORKER_HEALTH_HOST') ?? '127.0.0.1',
    healthFile: healthFile !== undefined ? path.resolve(healthFile) : undefined,
    shutdownForceTimeMs,
    maxCachedWorkflows,
  };
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `2m`, `1h` (a unit is required) → milliseconds; undefined when it is none of these. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS_MS[match[2]!]!);
}

// ---------------------------------------------------------------------------------------------------------
// Health

/** What a worker reports of itself (`Worker` has both). */
export interface WatchedWorker {
  getState(): State;
  getStatus(): WorkerStatus;
}

export interface WorkerHealth {
  /** True while the worker is RUNNING and both pollers poll. */
  healthy: boolean;
  /** The SDK's run state, or STARTING before the worker exists. */
  state: State | 'STARTING';
  /** Why it is not healthy (absent when healthy). */
  reason?: string;
  /** The SDK's status overview (absent before the worker exists). */
  status?: WorkerStatus;
}

export function workerHealth(worker: WatchedWorker | undefined): WorkerHealth {
  if (worker === undefined) return { healthy: false, state: 'STARTING', reason: 'the worker is starting' };
  const status = worker.getStatus();
  const state = status.runState;
  if (state !== 'RUNNING') {
    return { healthy: false, state, reason: `the worker is ${state}, not polling`, status };
  }
  const stopped = (['workflowPollerState', 'activityPollerState'] as const).filter(
    (poller) => status[poller] !== 'POLLING',
  );
  if (stopped.length > 0) {
    const which = stopped.map((poller) => `${poller} ${status[poller]}`).join(', ');
    return { healthy: false, state, reason: `a poller stopped (${which})`, status };
  }
  return { healthy: true, state, status };
}

export interface HealthServer {
  /** e.g. `http://127.0.0.1:9464/healthz`. */
  url: string;
  close(): Promise<void>;
}

/**
 * GET (or HEAD) /healthz: 200 `{"healthy":true,…}` while `health()` says healthy, 503 with the reason
 * otherwise. Anything else is 404. Listens on `host:port` (port 0: any free port, see `url`).
 */
export async function startHealthServer(options: {
  host: string;
  port: number;
  health: () => WorkerHealth;
}): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    if (pathname !== '/healthz') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /healthz\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    let body: WorkerHealth & { pid: number };
    try {
      body = { ...options.health(), pid: process.pid };
    } catch (err) {
      body = { healthy: false, state: 'FAILED', reason: `health check failed: ${errorText(err)}`, pid: process.pid };
    }
    res.writeHead(body.healthy ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : `${JSON.stringify(body)}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is in use' : errorText(err);
    throw new ConfigError(
      `HITL_WORKER_HEALTH_PORT: cannot listen on ${options.host}:${options.port} for the health endpoint: ${why}`,
    );
  });
  server.unref(); // never what keeps the process alive
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/healthz`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A file that exists (with the health as JSON, rewritten on every update) only while the worker is healthy. */
export class HealthFile {
  constructor(readonly file: string) {}

  update(health: WorkerHealth): void {
    if (!health.healthy) return this.remove();
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(temp, `${JSON.stringify({ ...health, pid: process.pid, at: new Date().toISOString() })}\n`);
      fs.renameSync(temp, this.file); // atomic: a probe never reads half a file
    } catch (err) {
      console.error(`HITL_WORKER_HEALTH_FILE: cannot write ${this.file}: ${errorText(err)}`);
    }
  }

  remove(): void {
    try {
      fs.rmSync(this.file, { force: true });
    } catch {
      // a probe sees a stale file age out instead
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Watchdog

/**
 * A logger that passes everything on and remembers the first fatal error the SDK logs ("Worker failed",
 * "… Initiating Worker shutdown."): the real cause, which `run()` may hide behind a later error (e.g.
 * `IllegalStateError: Worker still in use` from its own clean-up after a namespace was deleted).
 */
export class FatalErrorLogger implements Logger {
  #fatal: string | undefined;

  constructor(private readonly inner: Logger) {}

  /** `Name: message` of the first fatal error logged, if any. */
  fatalError(): string | undefined {
    return this.#fatal;
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (
      level === 'ERROR' &&
      this.#fatal === undefined &&
      /^Worker failed$|Initiating Worker shutdown|^Failed to initiate shutdown$/.test(message)
    ) {
      this.#fatal = meta?.error !== undefined ? errorText(meta.error) : message;
    }
    this.inner.log(level, message, meta);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

export interface WatchWorkerOptions {
  /** The promise of `worker.run()`. */
  running: Promise<void>;
  /** True once a shutdown signal arrived while the worker was starting or RUNNING (not after it left RUNNING). */
  shutdownRequested: () => boolean;
  /** The worker's `shutdownForceTime` in ms: how long a drain may take. */
  shutdownForceTimeMs: number;
  /** How often the state is read (default 1 s). */
  intervalMs?: number;
  /** How long `run()` may take to settle after the worker is FAILED, or after the drain's force time (default 5 s). */
  settleMs?: number;
  /** The real cause when known (see `FatalErrorLogger`); preferred over what `run()` rejects with. */
  cause?: () => string | undefined;
  /** Called on every check with the current health (the health file). */
  onCheck?: (health: WorkerHealth) => void;
}

export interface WorkerOutcome {
  /** 0: drained after a shutdown signal; 1: anything else. */
  exitCode: 0 | 1;
  /** One line: why it stopped. */
  message: string;
}

/**
 * Settles when the worker process should exit, and with which code. `worker.run()` settling after a shutdown
 * signal is exit 0. The worker leaving RUNNING without a signal (a fatal error: core shuts it down) is exit 1,
 * when `run()` settles or, because `run()` may never settle, at the latest `settleMs` after the worker is
 * FAILED (`shutdownForceTimeMs + settleMs` while it still drains). A drain after a signal that outlasts
 * `shutdownForceTimeMs + settleMs`, or that ends in an error, is exit 1 too.
 */
export function watchWorker(worker: WatchedWorker, options: WatchWorkerOptions): Promise<WorkerOutcome> {
  const intervalMs = options.intervalMs ?? 1000;
  const settleMs = options.settleMs ?? FAILED_SETTLE_MS;
  const drainLimitMs = options.shutdownForceTimeMs + settleMs;
  return new Promise((resolve) => {
    let done = false;
    /** Set when the worker was first seen out of RUNNING without a shutdown signal. */
    let left: { state: State; deadline: number } | undefined;
    let signalDeadline: number | undefined;
    const finish = (outcome: WorkerOutcome) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      options.onCheck?.(workerHealth(worker));
      resolve(outcome);
    };
    const failedLine = (state: State, detail: string, fallback: string) =>
      `worker stopped polling without a shutdown signal (state ${state}): ${options.cause?.() ?? fallback}${detail}`;

    options.running.then(
      () => {
        const state = worker.getState();
        if (options.shutdownRequested())
          return finish({ exitCode: 0, message: 'worker stopped after a shutdown signal' });
        finish({ exitCode: 1, message: failedLine(left?.state ?? state, '', 'run() ended by itself') });
      },
      (err: unknown) => {
        if (options.shutdownRequested()) {
          return finish({ exitCode: 1, message: `worker did not shut down cleanly: ${errorText(err)}` });
        }
        finish({ exitCode: 1, message: failedLine(left?.state ?? worker.getState(), '', errorText(err)) });
      },
    );

    const check = () => {
      if (done) return;
      const health = workerHealth(worker);
      options.onCheck?.(health);
      const now = Date.now();
      const state = worker.getState();
      if (options.shutdownRequested()) {
        signalDeadline ??= now + drainLimitMs;
        if (now >= signalDeadline) {
          finish({
            exitCode: 1,
            message: `worker did not shut down within ${seconds(drainLimitMs)} of the shutdown signal (state ${state}); exiting anyway`,
          });
        }
        return;
      }
      if (left === undefined && state !== 'RUNNING' && state !== 'INITIALIZED') {
        const limit = state === 'FAILED' || state === 'STOPPED' ? settleMs : drainLimitMs;
        left = { state, deadline: now + limit };
      }
      if (left !== undefined && state === 'FAILED' && left.state !== 'FAILED') {
        // It drained into FAILED: from now on run() has settleMs to settle.
        left = { state, deadline: Math.min(left.deadline, now + settleMs) };
      }
      if (left !== undefined && now >= left.deadline) {
        finish({
          exitCode: 1,
          message: failedLine(state, `; run() did not settle, exiting anyway`, 'no error reported by the SDK'),
        });
      }
    };
    const timer = setInterval(check, intervalMs);
    check();
  });
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.replace(/\s+/g, ' ').trim();
  return String(err);
}

/**
 * The content store's sweep: closes the content of runs that ended without closing it (unless
 * HITL_CONTENT_ORPHANS=keep), deletes what was closed longer than the retention ago; at start and hourly.
 */
function startContentSweeper(store: ContentStore, config: ContentStoreConfig, client: Client): () => void {
  return startRetentionSweeper(store, config.retentionMs, {
    ...(config.closeOrphans ? { liveness: temporalRunLiveness(client) } : {}),
    onOrphans: ({ closed }) => {
      if (closed > 0) {
        console.log(`content store: closed the content of ${closed} run(s) that ended without closing it`);
      }
    },
    onSweep: (deleted) => {
      if (deleted > 0) console.log(`content store: deleted the content of ${deleted} closed run(s)`);
    },
    onError: (error, part) =>
      console.error(
        `content store ${part === 'orphans' ? 'sweep of ended runs' : 'retention sweep'} failed: ${String(error)}`,
      ),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Entry

async function main(): Promise<number> {
  const logger = new FatalErrorLogger(new DefaultLogger(workerLogLevel()));
  Runtime.install({ logger, shutdownSignals: [...SHUTDOWN_SIGNALS] });
  const settings = workerProcessSettingsFromEnv();
  const config = loadTemporalConfig();
  // The configuration file is validated before anything connects: a bad file stops the worker at once.
  const registry = createDefaultToolRegistry();
  const agents = configSourceFromEnv({ knownTools: new Set(registry.list().map((tool) => tool.name)) });
  // The content store is opened at start too, so a bad HITL_CONTENT_STORE stops the worker at once.
  const contentConfig = loadContentStoreConfig();
  const contentStore = sharedContentStore();
  const activitiesConfig = { ...loadActivitiesConfigFromEnv(), agents, contentStore };
  // The prebuilt workflow bundle next to a compiled worker (npm run build), or HITL_WORKFLOW_BUNDLE; else bundled
  // at start. One that was built from other code is not used (src/prebuilt-bundle.ts).
  const bundle = chooseWorkflowBundle(workflowBundleOptions());
  if (bundle.warning !== undefined) console.error(bundle.warning);

  // A shutdown signal counts only while the worker starts or polls: one that arrives after it failed must not
  // turn the failure into a clean exit. The Runtime's own handlers do the draining; after the first signal both
  // sets of handlers are gone, so a second Ctrl-C ends the process at once, as before.
  let worker: Worker | undefined;
  let shutdownRequested = false;
  const onSignal = () => {
    const state = worker?.getState() ?? 'INITIALIZED';
    if (state === 'INITIALIZED' || state === 'RUNNING') shutdownRequested = true;
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal);
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);

  const healthFile = settings.healthFile !== undefined ? new HealthFile(settings.healthFile) : undefined;
  healthFile?.remove(); // one left by an earlier process says nothing about this one
  const health =
    settings.healthPort !== undefined
      ? await startHealthServer({
          host: settings.healthHost,
          port: settings.healthPort,
          health: () => workerHealth(worker),
        })
      : undefined;
  if (health) console.log(`worker health ${health.url} (200 while polling, 503 otherwise)`);

  const connection = await NativeConnection.connect(config.connectionOptions).catch((err: unknown) => {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot connect to Temporal at ${describeTemporalConfig(config)} (TEMPORAL_ADDRESS): ${reason}`);
  });
  // The grant activities talk to the users' grant entities through a client of their own.
  const clientConnection = await Connection.connect(config.connectionOptions);
  let outcome: WorkerOutcome | undefined;
  let stopSweeper: (() => void) | undefined;
  try {
    const client = new Client({ connection: clientConnection, namespace: config.namespace });
    stopSweeper = startContentSweeper(contentStore, contentConfig, client);
    const activities = createWorkerActivities(client, config.taskQueue, activitiesConfig, registry);
    worker = await createWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      activities,
      ...(bundle.codePath !== undefined ? { workflowBundle: { codePath: bundle.codePath } } : {}),
      workerOptions: {
        shutdownForceTime: settings.shutdownForceTimeMs,
        ...(settings.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: settings.maxCachedWorkflows } : {}),
      },
    });
    const running = worker.run();
    const scripted = activitiesConfig.enableScripted ? '; scripted model enabled' : '';
    console.log(
      `worker polling task queue "${config.taskQueue}" on ${describeTemporalConfig(config)} (agents from ${agents.description}${scripted}; content store ${describeContentStoreConfig(contentConfig)}; workflows ${bundle.description})`,
    );
    outcome = await watchWorker(worker, {
      running,
      shutdownRequested: () => shutdownRequested,
      shutdownForceTimeMs: settings.shutdownForceTimeMs,
      cause: () => logger.fatalError(),
      onCheck: (current) => healthFile?.update(current),
    });
  } finally {
    stopSweeper?.();
    healthFile?.remove();
    // After a failure the SDK may still hold the connections (closing them can hang or throw): the exit
    // releases them. After a clean drain they are closed as before.
    if (outcome === undefined || outcome.exitCode === 0) {
      await health?.close();
      await clientConnection.close();
      await connection.close();
      await closeSharedContentStore();
      await closeMcpConnections();
    }
  }
  if (outcome.exitCode !== 0) console.error(outcome.message);
  return outcome.exitCode;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof ConfigError) {
        console.error(err.message);
        process.exit(1);
      }
      console.error(`worker failed: ${err instanceof Error ? err.message : String(err)}`);
      if (process.env.DEBUG && err instanceof Error) console.error(err.stack);
      process.exit(1);
    },
  );
}
