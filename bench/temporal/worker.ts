// The benchmark's worker: the product's createWorker() with the real activities (the `noop` tool goes
// through the tool registry like any other), plus an activity interceptor that records when executeTool
// starts. Runs in-process (eager workflow start needs that) or as a child process (clean RSS figures).
import * as fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type ActivityInboundCallsInterceptor,
  type Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import { createWorkerActivities, loadActivitiesConfigFromEnv } from '../../src/activities';
import type { ExecuteToolRequest } from '../../src/contracts';
import { createWorker } from '../../src/worker';
import { now } from '../lib/stats';

/** The worker options the benchmark varies (all JSON, so they can cross to a child process). */
export type BenchWorkerOptions = Pick<
  WorkerOptions,
  | 'maxConcurrentWorkflowTaskExecutions'
  | 'maxConcurrentActivityTaskExecutions'
  | 'maxConcurrentLocalActivityExecutions'
  | 'maxConcurrentWorkflowTaskPolls'
  | 'maxConcurrentActivityTaskPolls'
  | 'maxCachedWorkflows'
  | 'workflowThreadPoolSize'
  | 'nonStickyToStickyPollRatio'
  | 'maxEagerActivityReservationsPerWorkflowTask'
> & { stickyQueueScheduleToStartTimeoutMs?: number };

export interface BenchWorkerConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Path of the prebuilt workflow bundle (bundled once by the harness). */
  bundlePath: string;
  sandboxDir: string;
  options: BenchWorkerOptions;
}

export type ToolStartedListener = (runId: string, at: number) => void;

export interface RunningBenchWorker {
  worker: Worker;
  connection: NativeConnection;
  /** Drains the worker and closes its connections. */
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** The SDK runtime with a quiet logger; must come before the first NativeConnection of the process. */
export function installBenchRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const debugLog = process.env.BENCH_WORKER_DEBUG_LOG;
  if (debugLog) {
    // Diagnostics only: every SDK and Core log line (evictions, cache misses) to a file.
    const out = fs.createWriteStream(debugLog);
    Runtime.install({
      logger: new DefaultLogger('DEBUG', (entry) =>
        out.write(`${entry.level} ${entry.message} ${JSON.stringify(entry.meta ?? {})}\n`),
      ),
      telemetryOptions: { logging: { filter: { core: 'DEBUG', other: 'WARN' }, forward: {} } },
    });
    return;
  }
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

function timingInterceptor(onToolStarted: ToolStartedListener): ActivityInboundCallsInterceptor {
  return {
    async execute(input, next) {
      const info = Context.current().info;
      if (info.activityType === 'executeTool') {
        const request = input.args[0] as ExecuteToolRequest | undefined;
        if (request?.name === 'noop') onToolStarted(info.workflowExecution?.workflowId ?? '', now());
      }
      return next(input);
    },
  };
}

export async function startBenchWorker(
  config: BenchWorkerConfig,
  onToolStarted: ToolStartedListener,
  shared?: { connection: NativeConnection },
): Promise<RunningBenchWorker> {
  installBenchRuntime();
  const connection = shared?.connection ?? (await NativeConnection.connect({ address: config.address }));
  // The grant activities talk to the users' grant entities through a client, as in src/worker.ts.
  const clientConnection = await Connection.connect({ address: config.address });
  const client = new Client({ connection: clientConnection, namespace: config.namespace });
  const activities = createWorkerActivities(client, config.taskQueue, {
    ...loadActivitiesConfigFromEnv(),
    sandboxDir: config.sandboxDir,
  });
  const { stickyQueueScheduleToStartTimeoutMs, ...options } = config.options;
  const worker = await createWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    activities,
    workflowBundle: { codePath: config.bundlePath },
    workerOptions: {
      ...options,
      ...(stickyQueueScheduleToStartTimeoutMs !== undefined
        ? { stickyQueueScheduleToStartTimeout: stickyQueueScheduleToStartTimeoutMs }
        : {}),
      interceptors: { activity: [() => ({ inbound: timingInterceptor(onToolStarted) })] },
    },
  });
  const running = worker.run();
  let stopping: Promise<void> | undefined;
  return {
    worker,
    connection,
    stop() {
      stopping ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        await clientConnection.close().catch(() => undefined);
        if (!shared) await connection.close().catch(() => undefined);
      })();
      return stopping;
    },
  };
}

/** Messages between the harness and a worker child. */
export type ToParent =
  | { type: 'ready' }
  | { type: 'tools'; events: [runId: string, at: number][] }
  | { type: 'stopped' }
  | { type: 'error'; message: string };
export type ToChild = { type: 'stop' };

/** Child-process entry: config in BENCH_WORKER_CONFIG; tool start times are sent to the parent in small batches. */
async function childMain(): Promise<void> {
  const send = (message: ToParent): void => {
    process.send?.(message);
  };
  const config = JSON.parse(process.env.BENCH_WORKER_CONFIG ?? '') as BenchWorkerConfig;
  let buffer: [string, number][] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (buffer.length === 0) return;
    send({ type: 'tools', events: buffer });
    buffer = [];
  };
  const running = await startBenchWorker(config, (runId, at) => {
    buffer.push([runId, at]);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
  process.on('message', (message: ToChild) => {
    if (message.type === 'stop') {
      void running.stop().then(() => {
        flush();
        send({ type: 'stopped' });
        process.disconnect?.();
      });
    }
  });
  // The harness died: stop too.
  process.on('disconnect', () => void running.stop().then(() => process.exit(0)));
  send({ type: 'ready' });
}

if (require.main === module) {
  childMain().catch((err: unknown) => {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.send?.({ type: 'error', message } satisfies ToParent);
    console.error(`bench worker failed: ${message}`);
    process.exit(1);
  });
}
