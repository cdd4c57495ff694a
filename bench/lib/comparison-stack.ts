// The stack `bench:profile` and `bench:timeline` compare on: one dev server of their own, our worker child and
// the floor's (and, when asked, a second floor worker for the shaped floor), each on a task queue of its own.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DevServer } from '../../src/dev/dev-server';
import { startFloorWorker } from '../floor/side';
import {
  startBenchServer,
  startWorkerChild,
  TUNED_WORKER_OPTIONS,
  workerConfig,
  workflowBundlePath,
  type BenchWorkerHandle,
} from '../temporal/side';

export interface QueueWorker {
  queue: string;
  worker: BenchWorkerHandle;
}

export interface ComparisonStack {
  server: DevServer;
  ours: QueueWorker;
  floor: QueueWorker;
  shaped?: QueueWorker;
}

/**
 * Starts the stack in `workDir` (server database, workflow bundle, the tools' sandbox). Every part started is
 * pushed onto `stops`, so the caller stops what did start even when a later part fails.
 */
export async function startComparisonStack(
  workDir: string,
  label: string,
  stops: (() => Promise<void>)[],
  options: { shaped: boolean },
): Promise<ComparisonStack> {
  const sandboxDir = path.join(workDir, 'sandbox');
  fs.mkdirSync(sandboxDir, { recursive: true });
  const server = await startBenchServer(workDir, label);
  stops.push(() => server.stop());
  const bundle = await workflowBundlePath(workDir);
  const suffix = Date.now().toString(36);
  const start = async (side: string, worker: (queue: string) => Promise<BenchWorkerHandle>): Promise<QueueWorker> => {
    const queue = `${label}-${side}-${suffix}`;
    const started = await worker(queue);
    stops.push(() => started.stop());
    return { queue, worker: started };
  };
  const ours = await start('ours', (queue) =>
    startWorkerChild(workerConfig(server, queue, bundle, sandboxDir, TUNED_WORKER_OPTIONS)),
  );
  const floor = await start('floor', (queue) => startFloorWorker(server, queue));
  const shaped = options.shaped ? await start('shaped', (queue) => startFloorWorker(server, queue)) : undefined;
  return { server, ours, floor, ...(shaped ? { shaped } : {}) };
}
