// Our side: a dev server of the benchmark's own (free ports, a temp SQLite file), a worker (child process
// or in-process), and the Flow that drives generation runs through the product's HitlClient.
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { HitlClient, staticSummaryOf } from '../../src/client';
import {
  GENERATION_RUN_WORKFLOW,
  HitlConversationId,
  HitlStatus,
  HitlUserId,
  RunInputSchema,
  type PendingAction,
  type RunInput,
} from '../../src/contracts';
import { startDevServer, type DevServer, type DevServerTuning } from '../../src/dev/dev-server';
import { TEMPORAL_DIR } from '../../src/dev/temporal-cli';
import { DEFAULT_WORKER_MAX_CACHED_WORKFLOWS, workflowBundleOptions } from '../../src/worker';
import type { Flow, FinishedRun, PausedRun } from '../lib/load';
import { now, sleep } from '../lib/stats';
import {
  installBenchRuntime,
  startBenchWorker,
  type BenchWorkerConfig,
  type BenchWorkerOptions,
  type RunningBenchWorker,
  type ToChild,
  type ToParent,
} from './worker';

export const BENCH_USER = 'bench-user';
const UPSERT_EVENT = temporal.api.enums.v1.EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES;
const REQUIRES_ACTION_JSON = JSON.stringify('requires_action');
export const TOOL_CALL_ID = 'call_1';

/** The scripted run of every cycle: one turn that calls `noop` (the policy asks), then a final answer. */
export function benchRunInput(): RunInput {
  return {
    userId: BENCH_USER,
    conversationId: 'bench-conversation',
    messages: [{ role: 'user', content: 'Run the no-op tool, please.' }],
    model: {
      provider: 'scripted',
      script: [{ tool_calls: [{ id: TOOL_CALL_ID, name: 'noop', arguments: {} }] }, { content: 'Done: noop said ok.' }],
    },
    tools: ['noop'],
    policy: { enabled: true, mode: 'default', ask: ['noop'] },
  };
}

/** A TCP port nothing listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

let bundlePath: string | undefined;

/** Bundles src/workflows once per benchmark run (every worker loads the file). */
export async function workflowBundlePath(workDir: string): Promise<string> {
  if (bundlePath) return bundlePath;
  const quiet = () => undefined;
  const bundle = await bundleWorkflowCode({
    ...workflowBundleOptions(),
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: console.error },
  });
  bundlePath = path.join(workDir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);
  return bundlePath;
}

/**
 * Points the content store of this process and of the worker children it starts (they inherit the
 * environment) at `content.db` in `dir`, whatever HITL_CONTENT_STORE said: a benchmark must neither write
 * into `.temporal/content.db`, the store `npm start` uses, nor measure against whatever that file has grown to.
 */
export function useBenchContentStore(dir: string): string {
  process.env.HITL_CONTENT_STORE = `sqlite:${path.join(dir, 'content.db')}`;
  return process.env.HITL_CONTENT_STORE;
}

const PID_FILE = path.join(TEMPORAL_DIR, 'dev-server.pid');

/**
 * startDevServer() with free ports, headless, and its database (unless in memory) and log in `dir`. The launcher records its
 * pid in .temporal/dev-server.pid for the "port in use" hint of `npm start`; we put back what was there.
 */
export async function startBenchServer(
  dir: string,
  name: string,
  options: { inMemory?: boolean | undefined; tuning?: DevServerTuning | undefined } = {},
): Promise<DevServer> {
  fs.mkdirSync(dir, { recursive: true });
  const pidFileBefore = fs.existsSync(PID_FILE) ? fs.readFileSync(PID_FILE, 'utf8') : undefined;
  const dbFilename = options.inMemory ? '' : path.join(dir, `${name}.db`);
  for (const suffix of ['', '-wal', '-shm']) if (dbFilename) fs.rmSync(dbFilename + suffix, { force: true });
  try {
    return await startDevServer({
      ip: '127.0.0.1',
      port: await freePort(),
      uiPort: await freePort(),
      headless: true,
      dbFilename,
      namespace: 'default',
      logFile: path.join(dir, `${name}.log`),
      handleSignals: false,
      ...(options.tuning ? { tuning: options.tuning } : {}),
    });
  } finally {
    try {
      if (pidFileBefore === undefined) fs.rmSync(PID_FILE, { force: true });
      else fs.writeFileSync(PID_FILE, pidFileBefore);
    } catch {
      // only a hint for npm start
    }
  }
}

/** Tool start times reported by the worker, awaited by run id. */
export class ToolClock {
  private readonly times = new Map<string, number>();
  private readonly waiters = new Map<string, (at: number) => void>();

  record(runId: string, at: number): void {
    const waiter = this.waiters.get(runId);
    if (waiter) {
      this.waiters.delete(runId);
      waiter(at);
    } else {
      this.times.set(runId, at);
    }
  }

  expect(runId: string, timeoutMs = 60_000): Promise<number> {
    const at = this.times.get(runId);
    if (at !== undefined) {
      this.times.delete(runId);
      return Promise.resolve(at);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(runId);
        reject(new Error(`no tool start reported for ${runId}`));
      }, timeoutMs);
      this.waiters.set(runId, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  }
}

export interface BenchWorkerHandle {
  mode: 'child' | 'in-process';
  /** Process id whose RSS is the worker's (the harness itself when in-process). */
  pid: number;
  clock: ToolClock;
  /** In-process only: the worker's NativeConnection, which a client can share for eager start. */
  inProcess?: RunningBenchWorker;
  stop(): Promise<void>;
}

/**
 * A worker child process: ours (bench/temporal/worker.ts) by default, or another entry that speaks the same
 * messages (the floor's, or ours compiled: a `.js` entry runs on plain node, without ts-node).
 */
export async function startWorkerChild(
  config: BenchWorkerConfig,
  entry = path.join(__dirname, 'worker.ts'),
): Promise<BenchWorkerHandle> {
  const clock = new ToolClock();
  const child: ChildProcess = fork(entry, [], {
    execArgv: [
      ...(entry.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : []),
      ...(process.env.BENCH_WORKER_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WORKER_PROF}`] : []),
    ],
    env: { ...process.env, BENCH_WORKER_CONFIG: JSON.stringify(config), TS_NODE_TRANSPILE_ONLY: 'true' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped: (() => void) | undefined;
  await new Promise<void>((resolve, reject) => {
    child.on('message', (message: ToParent) => {
      if (message.type === 'ready') resolve();
      else if (message.type === 'tools') for (const [runId, at] of message.events) clock.record(runId, at);
      else if (message.type === 'stopped') stopped?.();
      else if (message.type === 'error') reject(new Error(`worker child failed: ${message.message}`));
    });
    void exited.then(() => reject(new Error('worker child exited before it was ready')));
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    mode: 'child',
    pid: child.pid!,
    clock,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise<void>((resolve) => (stopped = resolve));
      child.send({ type: 'stop' } satisfies ToChild);
      const timeout = sleep(20_000).then(() => 'timeout' as const);
      if ((await Promise.race([done.then(() => exited), timeout])) === 'timeout') child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function startWorkerInProcess(config: BenchWorkerConfig): Promise<BenchWorkerHandle> {
  installBenchRuntime();
  const clock = new ToolClock();
  const running = await startBenchWorker(config, (runId, at) => clock.record(runId, at));
  return { mode: 'in-process', pid: process.pid, clock, inProcess: running, stop: () => running.stop() };
}

export interface TemporalFlowOptions {
  /**
   * How the harness learns that a run is paused: `poll` queries getPendingAction every `pollMs` (each query is
   * a workflow task on the worker); `history` long-polls the run's history until the workflow task that
   * set HitlStatus=requires_action is recorded, then queries once (no load on the worker while waiting);
   * `update` is the product's HitlClient.startRunAndWait: update-with-start of `awaitPendingAction`, answered
   * by the workflow task that paused (one call, no polling).
   */
  wait: 'poll' | 'history' | 'update';
  /** Milliseconds between two `getPendingAction` queries while the run is not paused yet (0 = at once). */
  pollMs: number;
  /** Start with `requestEagerStart` (needs an in-process worker whose NativeConnection the client shares). */
  eagerStart?: boolean;
  label?: string;
}

/**
 * The worker options of our figures: exactly what src/worker.ts runs. On this 2-core machine the worker is
 * CPU-bound, and the tuning experiment "worker-options" found no slot or poller setting better than the
 * SDK defaults (see docs/benchmarks.md); the sticky cache is the worker's default (issue 16: bounded, so
 * paused runs do not fill the worker's memory; experiment "sticky-cache").
 */
export const TUNED_WORKER_OPTIONS: BenchWorkerOptions =
  DEFAULT_WORKER_MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: DEFAULT_WORKER_MAX_CACHED_WORKFLOWS } : {};

/** Long-poll the run's history for the pause, then query once (the best client-side wait before the update). */
export const HISTORY_WAIT: TemporalFlowOptions = { wait: 'history', pollMs: 10 };
/** The product's HitlClient.startRunAndWait: update-with-start of awaitPendingAction. */
export const UPDATE_WAIT: TemporalFlowOptions = { wait: 'update', pollMs: 10 };
/** How the harness learns that a run is paused, in our figures: the product's own wait. */
export const TUNED_WAIT: TemporalFlowOptions = UPDATE_WAIT;

/** Generation runs through the product's HitlClient: startRun, getPendingAction, resolve, result. */
export class TemporalFlow implements Flow {
  readonly name: string;
  readonly hitl: HitlClient;
  private readonly input = benchRunInput();
  private readonly prefix = `bench-${Date.now().toString(36)}`;

  constructor(
    client: Client,
    taskQueue: string,
    private readonly clock: ToolClock,
    private readonly options: TemporalFlowOptions,
  ) {
    this.hitl = new HitlClient(client, taskQueue);
    this.name = options.label ?? 'temporal-hitl';
  }

  runId(index: number): string {
    return `${this.prefix}-${index}`;
  }

  /** Starts one run (HitlClient.startRun, or the same start with requestEagerStart). */
  async start(runId: string): Promise<void> {
    if (!this.options.eagerStart) {
      await this.hitl.startRun(this.input, { runId });
      return;
    }
    // What HitlClient.startRun does, plus requestEagerStart (the product's startRun has no such option yet).
    const parsed = RunInputSchema.parse(this.input);
    await this.hitl.client.workflow.start(GENERATION_RUN_WORKFLOW, {
      taskQueue: this.hitl.taskQueue,
      workflowId: runId,
      args: [parsed],
      staticSummary: staticSummaryOf(parsed),
      typedSearchAttributes: [
        { key: HitlStatus, value: 'running' },
        { key: HitlUserId, value: parsed.userId },
        { key: HitlConversationId, value: parsed.conversationId },
      ],
      requestEagerStart: true,
    });
  }

  async waitPending(runId: string): Promise<PendingAction> {
    if (this.options.wait === 'poll') return this.pollPending(runId);
    if (this.options.wait === 'update') {
      const answer = await this.hitl.waitForPendingAction(runId);
      if (!answer.pendingAction) throw new Error(`${runId} did not pause (${answer.status})`);
      return answer.pendingAction;
    }
    await this.waitPauseEvent(runId);
    const pending = await this.hitl.getPendingAction(runId);
    if (!pending) throw new Error(`${runId} recorded requires_action but has no pending action`);
    return pending;
  }

  /** Long-polls the history until an upsert of HitlStatus = "requires_action" is recorded. */
  async waitPauseEvent(runId: string): Promise<void> {
    const service = this.hitl.client.workflowService;
    let nextPageToken: Uint8Array | undefined;
    for (;;) {
      const response = await service.getWorkflowExecutionHistory({
        namespace: this.hitl.client.options.namespace,
        execution: { workflowId: runId },
        waitNewEvent: true,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      for (const event of response.history?.events ?? []) {
        if (event.eventType !== UPSERT_EVENT) continue;
        const status = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.HitlStatus;
        if (status?.data && Buffer.from(status.data).toString('utf8') === REQUIRES_ACTION_JSON) return;
      }
      if (!response.nextPageToken?.length) throw new Error(`${runId} closed without pausing`);
      nextPageToken = response.nextPageToken;
    }
  }

  /** Polls getPendingAction until the run is paused (a query before the first workflow task may fail: retried). */
  async pollPending(runId: string, timeoutMs = 60_000): Promise<PendingAction> {
    const deadline = now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const pending = await this.hitl.getPendingAction(runId);
        if (pending) return pending;
      } catch (err) {
        lastError = err;
      }
      if (now() > deadline) {
        const why = lastError instanceof Error ? `: ${lastError.message}` : '';
        throw new Error(`${runId} did not pause within ${timeoutMs} ms${why}`);
      }
      await sleep(this.options.pollMs);
    }
  }

  async begin(index: number): Promise<PausedRun> {
    const runId = this.runId(index);
    const tStart = now();
    const pending =
      this.options.wait === 'update' && !this.options.eagerStart
        ? await this.startAndWait(runId)
        : await this.startThenWait(runId);
    return { key: runId, handle: pending.actionId, tStart, tPaused: now() };
  }

  private async startThenWait(runId: string): Promise<PendingAction> {
    await this.start(runId);
    return this.waitPending(runId);
  }

  /** One call: HitlClient.startRunAndWait. */
  private async startAndWait(runId: string): Promise<PendingAction> {
    const answer = await this.hitl.startRunAndWait(this.input, { runId });
    if (!answer.pendingAction) throw new Error(`${runId} did not pause (${answer.status})`);
    return answer.pendingAction;
  }

  async finish(run: PausedRun): Promise<FinishedRun> {
    const toolStarted = this.clock.expect(run.key);
    toolStarted.catch(() => undefined);
    const tResolve = now();
    const outcome = await this.hitl.resolve(run.key, {
      actionId: run.handle as string,
      approver: BENCH_USER,
      decisions: [{ tool_call_id: TOOL_CALL_ID, decision: 'approve' }],
    });
    const tAck = now();
    if (!outcome.ok) throw new Error(`resolve refused: ${outcome.refusal.type}: ${outcome.refusal.message}`);
    const result = await this.hitl.result(run.key);
    const tDone = now();
    if (result.status !== 'completed' || result.finishReason !== 'final_answer') {
      throw new Error(`run ${run.key} ended ${result.status} (${result.finishReason})`);
    }
    return { tResolve, tAck, tTool: await toolStarted, tDone };
  }
}

/** A client over grpc-js (what a chat backend uses), or over the worker's NativeConnection (eager start). */
export async function connectBenchClient(
  server: DevServer,
  worker?: BenchWorkerHandle,
): Promise<{ client: Client; close: () => Promise<void> }> {
  if (worker?.inProcess) {
    return {
      client: new Client({ connection: worker.inProcess.connection, namespace: server.namespace }),
      close: async () => {},
    };
  }
  const connection = await Connection.connect({ address: server.address });
  return { client: new Client({ connection, namespace: server.namespace }), close: () => connection.close() };
}

export function workerConfig(
  server: DevServer,
  taskQueue: string,
  bundle: string,
  sandboxDir: string,
  options: BenchWorkerOptions,
): BenchWorkerConfig {
  return { address: server.address, namespace: server.namespace, taskQueue, bundlePath: bundle, sandboxDir, options };
}
