// The floor's worker: a plain Worker.create with SDK defaults (unless the config's options say otherwise:
// bench:paused sets the sticky cache) on a task queue of its own, no interceptors,
// no failure converter. Runs as a child process (its own CPU and RSS figures), same messages as
// bench/temporal/worker.ts.
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { BenchWorkerConfig, ToChild, ToParent } from '../temporal/worker';
import { createFloorActivities } from './activities';

async function childMain(): Promise<void> {
  const send = (message: ToParent): void => {
    process.send?.(message);
  };
  const config = JSON.parse(process.env.BENCH_WORKER_CONFIG ?? '') as BenchWorkerConfig;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  let buffer: [string, number][] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (buffer.length === 0) return;
    send({ type: 'tools', events: buffer });
    buffer = [];
  };
  const connection = await NativeConnection.connect({ address: config.address });
  const worker = await Worker.create({
    ...config.options,
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: createFloorActivities((runId, at) => {
      buffer.push([runId, at]);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    }),
  });
  const running = worker.run();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await connection.close().catch(() => undefined);
    })();
    return stopping;
  };
  process.on('message', (message: ToChild) => {
    if (message.type === 'stop') {
      void stop().then(() => {
        flush();
        send({ type: 'stopped' });
        process.disconnect?.();
      });
    }
  });
  process.on('disconnect', () => void stop().then(() => process.exit(0)));
  send({ type: 'ready' });
}

childMain().catch((err: unknown) => {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.send?.({ type: 'error', message } satisfies ToParent);
  console.error(`floor worker failed: ${message}`);
  process.exit(1);
});
