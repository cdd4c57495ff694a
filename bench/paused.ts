// `npm run bench:paused [-- --runs 10000] [-- --quick] [-- --cache N] [-- --wait update|history] [-- --resolve K]`
//
// Memory of paused runs (issue 16): starts N runs that pause for approval (the benchmark's scripted run:
// one `noop` call the policy asks for) on the shipped settings — a file-backed dev server with the fast
// setup of `npm start`, and the worker entry itself (`src/worker.ts`, run as `npm start` runs it; with
// `--side ours-compiled`, `node dist/worker.js` after `npm run build`, which the benchmark runs first) — and
// leaves them paused. Then it prints the worker's RSS, the database bytes per paused run (the dev server's
// SQLite file, in a temp folder), what one pause writes to the run's history, and the cost of resuming an
// evicted run, with issue 16's targets as PASS / FAIL lines (not assertions). `--cache N` sets the worker's
// sticky cache (HITL_WORKER_MAX_CACHED_WORKFLOWS; default: the worker's own default). Never touches
// 7233/8233 or .temporal/dev.db. See docs/benchmarks.md, "Memory of paused runs".
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as v8 from 'node:v8';
import { temporal } from '@temporalio/proto';
import { DEFAULT_WORKER_MAX_CACHED_WORKFLOWS } from '../src/worker';
import { eventTypeName } from '../src/dev/history';
import { REPO_ROOT } from '../src/dev/temporal-cli';
import type { DevServer } from '../src/dev/dev-server';
import type { Client } from '@temporalio/client';
import { FloorFlow, startFloorWorker } from './floor/side';
import { buildProduct } from './lib/compiled';
import { pool, type Flow, type PausedRun } from './lib/load';
import { machineInfo, sampleRssMiB, rssMiB, sqliteFileBytes, sqliteUsage, versions } from './lib/machine';
import { MIB, now, percentiles, round, sleep, type Percentiles } from './lib/stats';
import {
  BENCH_USER,
  connectBenchClient,
  startBenchServer,
  startWorkerChild,
  TemporalFlow,
  ToolClock,
  TOOL_CALL_ID,
  workerConfig,
  workflowBundlePath,
  type TemporalFlowOptions,
} from './temporal/side';

/** Issue 16's targets for 10 000 paused runs. */
const TARGET_WORKER_RSS_MIB = 400;
const TARGET_DB_KIB_PER_RUN = 15;
const TARGET_RUNS = 10_000;

interface Settings {
  /**
   * ours: generation runs on the shipped worker (src/worker.ts under ts-node, as npm start runs it);
   * ours-compiled: the same entry compiled (npm run build, then `node dist/worker.js` with the prebuilt workflow
   * bundle: how production runs it); ours-prebuilt: the same worker code (createWorker, real
   * activities) with the workflow bundle built beforehand, not in the worker process (the benchmark's own
   * worker child); floor: the minimal same-shape workflow (what Temporal itself costs).
   */
  side: 'ours' | 'ours-compiled' | 'ours-prebuilt' | 'floor';
  runs: number;
  quick: boolean;
  /** HITL_WORKER_MAX_CACHED_WORKFLOWS of the worker; undefined = the worker's default. */
  cache: number | undefined;
  wait: TemporalFlowOptions['wait'];
  /** Starts in flight while pausing. */
  concurrency: number;
  /** Paused runs resolved one at a time at the end (the oldest: evicted, so their resume replays). */
  resolve: number;
  /** Node options of the worker process only (e.g. --max-old-space-size=512), for tuning experiments. */
  nodeOptions: string | undefined;
  out: string | undefined;
  keep: boolean;
}

function settingsFrom(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      side: { type: 'string', default: 'ours' },
      cache: { type: 'string' },
      wait: { type: 'string', default: 'update' },
      concurrency: { type: 'string', default: '50' },
      resolve: { type: 'string' },
      'node-options': { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const quick = values.quick ?? false;
  const int = (name: string, raw: string | undefined, fallback: number, min: number): number => {
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return value;
  };
  const wait = values.wait as TemporalFlowOptions['wait'];
  if (wait !== 'update' && wait !== 'history') throw new Error('--wait must be update or history');
  const side = values.side as Settings['side'];
  if (side !== 'ours' && side !== 'ours-compiled' && side !== 'ours-prebuilt' && side !== 'floor') {
    throw new Error('--side must be ours, ours-compiled, ours-prebuilt or floor');
  }
  if (side === 'floor' && wait !== 'update') throw new Error('the floor waits by update-with-start only');
  return {
    side,
    quick,
    runs: int('runs', values.runs, quick ? 300 : TARGET_RUNS, 1),
    cache: values.cache === undefined || values.cache === 'default' ? undefined : int('cache', values.cache, 0, 0),
    wait,
    concurrency: int('concurrency', values.concurrency, 50, 1),
    resolve: int('resolve', values.resolve, quick ? 5 : 20, 0),
    nodeOptions: values['node-options'],
    out: values.out,
    keep: values.keep ?? false,
  };
}

function log(message: string): void {
  process.stderr.write(`[paused ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** The SDK's default sticky cache for a process with this heap limit (reuseV8Context: 600 per GiB above 200 MiB). */
function sdkDefaultMaxCachedWorkflows(): number {
  const heapMiB = v8.getHeapStatistics().heap_size_limit / MIB;
  return Math.max(Math.floor((Math.max(heapMiB - 200, 0) * 600) / 1024), 10);
}

// ---------------------------------------------------------------------------------------------------------
// The worker: src/worker.ts as `npm start` runs it, or dist/worker.js as production runs it

interface WorkerChild {
  pid: number;
  stop(): Promise<void>;
}

async function startShippedWorker(
  server: DevServer,
  taskQueue: string,
  dir: string,
  cache: number | undefined,
  nodeOptions: string | undefined,
  /** dist/worker.js (npm run build), run by plain node; default: src/worker.ts through ts-node. */
  compiledEntry?: string,
): Promise<WorkerChild> {
  const entry = compiledEntry ?? path.join(REPO_ROOT, 'src', 'worker.ts');
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Only this server: no profile, TLS or key from the caller's shell (as npm start does); the bundle next to
  // the compiled worker, not one named in the caller's shell.
  for (const key of Object.keys(env)) if (/^TEMPORAL_/.test(key) || /^HITL_WORKER_/.test(key)) delete env[key];
  delete env.HITL_WORKFLOW_BUNDLE;
  Object.assign(env, {
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: server.namespace,
    HITL_TASK_QUEUE: taskQueue,
    HITL_ENABLE_SCRIPTED: '1',
    HITL_CONTENT_STORE: `sqlite:${path.join(dir, 'content.db')}`,
    HITL_SANDBOX_DIR: path.join(dir, 'sandbox'),
    ...(cache !== undefined ? { HITL_WORKER_MAX_CACHED_WORKFLOWS: String(cache) } : {}),
    ...(nodeOptions !== undefined ? { NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} ${nodeOptions}`.trim() } : {}),
  });
  const logFile = fs.openSync(path.join(dir, 'worker.log'), 'w');
  const args = entry.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only', entry] : [entry];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', logFile],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the worker did not start polling within 120 s')), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      fs.appendFileSync(path.join(dir, 'worker.log'), chunk);
      out += chunk.toString('utf8');
      const ready = /worker polling task queue.*/.exec(out);
      if (ready) {
        clearTimeout(timer);
        log(`worker: ${ready[0]}`);
        // The compiled worker must run the prebuilt bundle: one bundled at start is not what production runs.
        if (compiledEntry !== undefined && !/workflows prebuilt/.test(ready[0])) {
          reject(new Error('the compiled worker did not load its prebuilt workflow bundle (see the line above)'));
        }
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the worker exited before it polled; see ${path.join(dir, 'worker.log')}`));
    });
  });
  return {
    pid: child.pid!,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timeout = sleep(40_000).then(() => 'timeout' as const);
      if ((await Promise.race([exited, timeout])) === 'timeout') child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The side whose runs are paused: its worker, and how to start, pause and approve a run. */
interface PausedSide {
  workerPid: number;
  client: Client;
  flow: Flow;
  approve(run: PausedRun): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

async function startSide(
  settings: Settings,
  server: DevServer,
  dir: string,
  /** ours-compiled: dist/worker.js, built beforehand. */
  compiledEntry: string | undefined,
): Promise<PausedSide> {
  const taskQueue = `bench-paused-${Date.now().toString(36)}`;
  const connection = await connectBenchClient(server);
  const { client } = connection;
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= connection.close());
  if (settings.side === 'floor') {
    if (settings.nodeOptions !== undefined) {
      // The worker child inherits our environment; NODE_OPTIONS is read only when a process starts.
      process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${settings.nodeOptions}`.trim();
    }
    const worker = await startFloorWorker(
      server,
      taskQueue,
      settings.cache !== undefined ? { maxCachedWorkflows: settings.cache } : {},
    );
    const flow = new FloorFlow(client, taskQueue, worker);
    return {
      workerPid: worker.pid,
      client,
      flow,
      approve: async (run) => void (await flow.finish(run)),
      stopWorker: () => worker.stop(),
      close,
    };
  }
  if (settings.side === 'ours-prebuilt') {
    if (settings.nodeOptions !== undefined) {
      process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${settings.nodeOptions}`.trim();
    }
    process.env.HITL_ENABLE_SCRIPTED = '1';
    const sandboxDir = path.join(dir, 'sandbox');
    fs.mkdirSync(sandboxDir, { recursive: true });
    const config = workerConfig(server, taskQueue, await workflowBundlePath(dir), sandboxDir, {
      ...(settings.cache !== undefined
        ? { maxCachedWorkflows: settings.cache }
        : DEFAULT_WORKER_MAX_CACHED_WORKFLOWS !== undefined
          ? { maxCachedWorkflows: DEFAULT_WORKER_MAX_CACHED_WORKFLOWS }
          : {}),
    });
    const worker = await startWorkerChild(config);
    const flow = new TemporalFlow(client, taskQueue, worker.clock, { wait: settings.wait, pollMs: 10 });
    return {
      workerPid: worker.pid,
      client,
      flow,
      approve: (run) => approveOurs(flow, run),
      stopWorker: () => worker.stop(),
      close,
    };
  }
  const worker = await startShippedWorker(server, taskQueue, dir, settings.cache, settings.nodeOptions, compiledEntry);
  const flow = new TemporalFlow(client, taskQueue, new ToolClock(), { wait: settings.wait, pollMs: 10 });
  return {
    workerPid: worker.pid,
    client,
    flow,
    approve: (run) => approveOurs(flow, run),
    stopWorker: () => worker.stop(),
    close,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Measures

interface Snapshot {
  workerRssMiB: number;
  serverRssMiB: number;
  /** page_count × page_size as a reader sees it: the file's size once its WAL is checkpointed into it. */
  dbLogicalBytes: number;
  /** Pages in use (free pages excluded). */
  dbUsedBytes: number;
  /** The three files on disk now (database, -wal, -shm). */
  dbOnDiskBytes: number;
  dbByTable: Record<string, number>;
  /** The worker's content store (SQLite file, -wal and -shm). */
  contentStoreBytes: number;
}

function logicalBytes(file: string): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Database = require('better-sqlite3') as new (
    file: string,
    options: { readonly: boolean; fileMustExist: boolean },
  ) => { pragma(sql: string, options: { simple: true }): unknown; close(): void };
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return Number(db.pragma('page_count', { simple: true })) * Number(db.pragma('page_size', { simple: true }));
  } finally {
    db.close();
  }
}

async function snapshot(worker: { pid: number }, server: DevServer, dir: string): Promise<Snapshot> {
  const db = server.dbFilename!;
  const usage = sqliteUsage(db);
  return {
    workerRssMiB: await sampleRssMiB(worker.pid),
    serverRssMiB: await sampleRssMiB(server.pid),
    dbLogicalBytes: logicalBytes(db),
    dbUsedBytes: usage?.usedBytes ?? Number.NaN,
    dbOnDiskBytes: sqliteFileBytes(db),
    dbByTable: usage?.byTable ?? {},
    contentStoreBytes: sqliteFileBytes(path.join(dir, 'content.db')),
  };
}

interface HistoryFigures {
  events: number;
  /** Sum of the encoded events (protobuf), what the server stores as the history's blobs. */
  bytes: number;
  byType: { type: string; count: number; bytes: number }[];
  /** Every event in order: type, encoded bytes, and what it names (search attributes, patch, timer). */
  list: { type: string; bytes: number; detail?: string }[];
}

function eventDetail(event: temporal.api.history.v1.IHistoryEvent): string | undefined {
  const upsert = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
  if (upsert) {
    return Object.entries(upsert)
      .map(([key, payload]) => `${key}=${payload.data ? Buffer.from(payload.data).toString('utf8') : ''}`)
      .join(' ');
  }
  const marker = event.markerRecordedEventAttributes;
  if (marker) {
    const id = marker.details?.patch_id?.payloads?.[0]?.data;
    return `${marker.markerName ?? ''}${id ? ` ${Buffer.from(id).toString('utf8')}` : ''}`;
  }
  const timer = event.timerStartedEventAttributes;
  if (timer) {
    const summary = event.userMetadata?.summary?.data;
    return `${Number(timer.startToFireTimeout?.seconds ?? 0)} s${summary ? ` ${Buffer.from(summary).toString('utf8')}` : ''}`;
  }
  const activity = event.activityTaskScheduledEventAttributes;
  if (activity) return activity.activityType?.name ?? undefined;
  return undefined;
}

/** The events of one paused run and their encoded sizes. */
async function historyOf(client: Client, runId: string): Promise<HistoryFigures> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: runId },
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  const byType = new Map<string, { count: number; bytes: number }>();
  const list: HistoryFigures['list'] = [];
  let bytes = 0;
  for (const event of events) {
    const size = temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
    bytes += size;
    const type = eventTypeName(event);
    const detail = eventDetail(event);
    list.push({ type, bytes: size, ...(detail !== undefined ? { detail } : {}) });
    const slot = byType.get(type) ?? { count: 0, bytes: 0 };
    slot.count += 1;
    slot.bytes += size;
    byType.set(type, slot);
  }
  return { events: events.length, bytes, byType: [...byType].map(([type, v]) => ({ type, ...v })), list };
}

/** Approves a paused run and waits until it has completed. */
async function approveOurs(flow: TemporalFlow, run: PausedRun): Promise<void> {
  const outcome = await flow.hitl.resolve(run.key, {
    actionId: run.handle as string,
    approver: BENCH_USER,
    decisions: [{ tool_call_id: TOOL_CALL_ID, decision: 'approve' }],
  });
  if (!outcome.ok) throw new Error(outcome.refusal.message);
  const result = await flow.hitl.result(run.key);
  if (result.status !== 'completed') throw new Error(`${run.key} ended ${result.status}`);
}

/** Resolves paused runs one at a time (approve), and times resolve → run completed. */
async function resolveSome(side: PausedSide, runs: PausedRun[]): Promise<Percentiles & { errors: number }> {
  const samples: number[] = [];
  let errors = 0;
  for (const run of runs) {
    try {
      const t0 = now();
      await side.approve(run);
      samples.push(now() - t0);
    } catch (err) {
      errors += 1;
      log(`resolving ${run.key} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { ...percentiles(samples), errors };
}

// ---------------------------------------------------------------------------------------------------------

/** What the dev server's SQLite tables hold, by role; per paused run, largest first. */
const DB_CATEGORIES: [string, RegExp][] = [
  ['history', /^(history_node|history_tree|sqlite_autoindex_history_)/],
  [
    'visibility (row + one index per search attribute column)',
    /^(executions_visibility|by_|default_idx|sqlite_autoindex_executions_visibility)/,
  ],
  ['tasks (timer, transfer, visibility)', /(_tasks|^tasks)(_|$)|^sqlite_autoindex_.*tasks/],
  [
    'mutable state',
    /^(executions|current_executions|.*_maps|.*_sets|buffered_events|sqlite_autoindex_(executions|current_executions|.*_maps|.*_sets|buffered_events))/,
  ],
];

function dbCategories(
  before: Record<string, number>,
  after: Record<string, number>,
  count: number,
): Record<string, number> {
  const totals = new Map<string, number>();
  for (const [name, bytes] of Object.entries(after)) {
    const delta = (bytes - (before[name] ?? 0)) / count;
    const category = DB_CATEGORIES.find(([, pattern]) => pattern.test(name))?.[0] ?? 'other';
    totals.set(category, (totals.get(category) ?? 0) + delta);
  }
  return Object.fromEntries([...totals].sort((a, b) => b[1] - a[1]));
}

function kib(bytes: number): number {
  return round(bytes / 1024, 1);
}

async function main(): Promise<void> {
  const settings = settingsFrom(process.argv.slice(2));
  const started = new Date();
  const machine = machineInfo();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hitl-paused-'));
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    cleanups.length = 0;
    if (!settings.keep) fs.rmSync(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    log('interrupted: stopping what the benchmark started');
    void cleanup().finally(() => process.exit(130));
  });
  const sdkDefault = settings.nodeOptions?.includes('--max-old-space-size')
    ? "the SDK's default (from the worker's heap limit)"
    : `the SDK's default (${sdkDefaultMaxCachedWorkflows()} with this heap limit)`;
  const cacheLabel =
    settings.cache !== undefined
      ? `${settings.cache}${settings.side === 'ours' || settings.side === 'ours-compiled' ? ' (HITL_WORKER_MAX_CACHED_WORKFLOWS)' : ''}`
      : settings.side !== 'floor' && DEFAULT_WORKER_MAX_CACHED_WORKFLOWS !== undefined
        ? `${DEFAULT_WORKER_MAX_CACHED_WORKFLOWS} (the worker's default)`
        : sdkDefault;
  const sideLabel =
    settings.side === 'ours'
      ? 'generation runs on src/worker.ts (as npm start runs it: ts-node, workflows bundled at start)'
      : settings.side === 'ours-compiled'
        ? 'generation runs on dist/worker.js (npm run build; plain node, prebuilt workflow bundle: as production runs it)'
        : settings.side === 'ours-prebuilt'
          ? "generation runs on the benchmark's worker child (createWorker + the real activities, workflow bundle built beforehand)"
          : 'the floor: the minimal same-shape workflow (bench/floor), Worker.create with SDK defaults';
  log(
    `${settings.runs} paused runs of ${settings.side}, sticky cache ${cacheLabel}, wait ${settings.wait}, ${settings.concurrency} in flight; work dir ${workDir}`,
  );
  log(`machine: ${machine.cores} cores, load average ${machine.loadAverageAtStart.join(' ')}`);

  let report: Record<string, unknown> | undefined;
  try {
    // Built before anything starts: the build's CPU load is over before the server and worker run.
    const compiledEntry = settings.side === 'ours-compiled' ? buildProduct(log) : undefined;
    const server = await startBenchServer(workDir, 'paused');
    let serverStopped = false;
    cleanups.push(async () => {
      if (!serverStopped) await server.stop();
    });
    const side = await startSide(settings, server, workDir, compiledEntry);
    const { flow } = side;
    const worker = { pid: side.workerPid };
    let workerStopped = false;
    cleanups.push(async () => {
      await side.close();
      if (!workerStopped) await side.stopWorker();
    });

    // Warm-up: a few whole cycles (the worker bundles its workflows at start; JIT, connections).
    log('warming up: 5 approve cycles');
    const warm = await pool([0, 1, 2, 3, 4], 5, (i) => flow.begin(1_000_000 + i));
    await resolveSome(side, warm);
    await sleep(2000);
    const base = await snapshot(worker, server, workDir);
    log(`baseline: worker ${round(base.workerRssMiB, 1)} MiB, server ${round(base.serverRssMiB, 1)} MiB`);

    // Pause N runs, sampling the worker's RSS every second.
    let peakRss = base.workerRssMiB;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(worker.pid))), 1000);
    const t0 = now();
    let done = 0;
    let errors = 0;
    let firstError: string | undefined;
    const step = Math.max(1, Math.round(settings.runs / 10));
    const paused = (
      await pool(
        Array.from({ length: settings.runs }, (_, i) => i),
        settings.concurrency,
        async (i) => {
          try {
            return await flow.begin(i);
          } catch (err) {
            errors += 1;
            firstError ??= err instanceof Error ? err.message : String(err);
            return undefined;
          } finally {
            done += 1;
            if (done % step === 0) {
              const seconds = (now() - t0) / 1000;
              log(
                `${done}/${settings.runs} paused (${round(done / seconds, 1)} runs/s), worker RSS ${round(rssMiB(worker.pid), 0)} MiB`,
              );
            }
          }
        },
      )
    ).filter((run): run is PausedRun => run !== undefined);
    const fillSeconds = (now() - t0) / 1000;
    clearInterval(sampler);
    if (errors) log(`${errors} runs did not pause (first: ${firstError})`);
    await sleep(5000);
    const after = await snapshot(worker, server, workDir);
    peakRss = Math.max(peakRss, after.workerRssMiB);
    const count = paused.length;
    const history = await historyOf(side.client, paused[paused.length - 1]!.key);

    // Resolve some of the oldest (evicted) runs: the price of a small cache is a replay on resume.
    const oldest = paused.slice(0, Math.max(settings.resolve * 4, settings.resolve));
    const picked = oldest.sort(() => Math.random() - 0.5).slice(0, settings.resolve);
    const resolved = settings.resolve ? await resolveSome(side, picked) : undefined;

    // Stop the worker and the server: SQLite checkpoints its WAL into the file when the server closes it.
    await side.close();
    await side.stopWorker();
    workerStopped = true;
    await server.stop();
    serverStopped = true;
    const finalFileBytes = sqliteFileBytes(server.dbFilename!);

    const byCategory = dbCategories(base.dbByTable, after.dbByTable, count);
    const perRun = {
      dbLogicalBytes: (after.dbLogicalBytes - base.dbLogicalBytes) / count,
      dbUsedBytes: (after.dbUsedBytes - base.dbUsedBytes) / count,
      dbOnDiskBytes: (after.dbOnDiskBytes - base.dbOnDiskBytes) / count,
      dbFileAfterStopBytes: (finalFileBytes - base.dbLogicalBytes) / count,
      contentStoreBytes: (after.contentStoreBytes - base.contentStoreBytes) / count,
      workerRssKiB: ((after.workerRssMiB - base.workerRssMiB) * 1024) / count,
    };
    const loadAverageAtEnd = os.loadavg().map((v) => round(v));
    report = {
      benchmark: 'temporal-hitl: memory of paused runs',
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { ...machine, loadAverageAtEnd },
      versions: versions(),
      settings: {
        ...settings,
        cacheLabel,
        server: 'temporal server start-dev, SQLite file in a temp folder, fast setup (as npm start)',
        worker: sideLabel,
      },
      paused: count,
      errors,
      fillSeconds: round(fillSeconds, 1),
      pausesPerSecond: round(count / fillSeconds, 1),
      baseline: base,
      after,
      peakWorkerRssMiB: round(peakRss, 1),
      finalFileBytes,
      perRun,
      dbPerRunByCategory: byCategory,
      history,
      resolved,
    };

    const lines = [
      '',
      `temporal-hitl: memory of paused runs, ${started.toISOString()}${settings.quick ? ' — QUICK (a few hundred runs: not the issue-16 figure)' : ''}`,
      `machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryMiB} MiB, node ${machine.node}; load average at start ${machine.loadAverageAtStart.join(' ')}, at end ${loadAverageAtEnd.join(' ')}`,
      `side: ${sideLabel}`,
      `settings: dev server with the fast setup (SQLite file)${settings.nodeOptions ? `, worker node options ${settings.nodeOptions}` : ''}, sticky cache ${cacheLabel}, wait for the pause: ${settings.wait === 'update' ? 'startRunAndWait (update awaitPendingAction)' : 'startRun + history long-poll (no update)'}`,
      `paused: ${count} runs in ${round(fillSeconds, 1)} s (${round(count / fillSeconds, 1)} runs/s, ${settings.concurrency} in flight)${errors ? `, ${errors} did not pause (${firstError})` : ''}`,
      '',
      `worker RSS             ${round(base.workerRssMiB, 0)} MiB → ${round(after.workerRssMiB, 0)} MiB with ${count} paused (peak while pausing ${round(peakRss, 0)} MiB; ${round(perRun.workerRssKiB, 1)} KiB per paused run)`,
      `Temporal server RSS    ${round(base.serverRssMiB, 0)} MiB → ${round(after.serverRssMiB, 0)} MiB`,
      `database per paused run: ${kib(perRun.dbLogicalBytes)} KiB file size (page_count × page_size, i.e. after a WAL checkpoint); ${kib(perRun.dbUsedBytes)} KiB pages in use; ${kib(perRun.dbOnDiskBytes)} KiB on disk now (db + wal + shm); ${kib(perRun.dbFileAfterStopBytes)} KiB file after the server stopped (incl. ${resolved ? settings.resolve : 0} resolved)`,
      `   of which: ${Object.entries(byCategory)
        .map(([category, bytes]) => `${category} ${kib(bytes)}`)
        .join(', ')} (KiB per paused run; tables with their indexes)`,
      `content store (worker's SQLite) per paused run: ${kib(perRun.contentStoreBytes)} KiB`,
      `history of one paused run: ${history.events} events, ${kib(history.bytes)} KiB encoded:`,
      ...history.list.map(
        (e, i) =>
          `   ${String(i + 1).padStart(2)} ${e.type.padEnd(36)} ${String(e.bytes).padStart(5)} B  ${e.detail ?? ''}`,
      ),
      resolved
        ? `resume of an evicted run (cache ${cacheLabel}; ${resolved.n} of the oldest, one at a time): resolve → completed p50 ${round(resolved.p50, 1)} / p95 ${round(resolved.p95, 1)} ms${resolved.errors ? `, ${resolved.errors} errors` : ''}`
        : '',
      '',
      targetLine(
        `worker RSS ≤ ${TARGET_WORKER_RSS_MIB} MiB with ${TARGET_RUNS} paused`,
        after.workerRssMiB <= TARGET_WORKER_RSS_MIB,
        `${round(after.workerRssMiB, 0)} MiB with ${count} paused (peak ${round(peakRss, 0)} MiB)`,
        count,
      ),
      targetLine(
        `≤ ${TARGET_DB_KIB_PER_RUN} KiB of database per paused run`,
        perRun.dbLogicalBytes / 1024 <= TARGET_DB_KIB_PER_RUN,
        `${kib(perRun.dbLogicalBytes)} KiB`,
        count,
      ),
    ];
    console.log(lines.filter((l, i) => l !== '' || i === 0 || lines[i - 1] !== '').join('\n'));
  } finally {
    await cleanup();
  }
  const outFile =
    settings.out ??
    path.join(
      'bench-results',
      `paused-${settings.quick ? 'quick-' : ''}${started.toISOString().replace(/[:.]/g, '-')}.json`,
    );
  fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  fs.writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${outFile}`);
}

function targetLine(target: string, pass: boolean, measured: string, count: number): string {
  const scale = count === TARGET_RUNS ? '' : ` (measured with ${count}, not ${TARGET_RUNS})`;
  return `target (issue 16): ${target}: ${pass ? 'PASS' : 'FAIL'} — ${measured}${scale}`;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench:paused failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
