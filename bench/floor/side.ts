// The floor side: the minimal same-shape workflow (bench/floor/workflows.ts) on our side's server, its own
// worker child on its own task queue, driven like ours: update-with-start until paused (as
// HitlClient.startRunAndWait), an update to approve, then the result.
import * as path from 'node:path';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { DevServer } from '../../src/dev/dev-server';
import type { Flow, FinishedRun, PausedRun } from '../lib/load';
import { now } from '../lib/stats';
import { startWorkerChild, type BenchWorkerHandle } from '../temporal/side';
import type { BenchWorkerOptions } from '../temporal/worker';
import { floorAwaitPause, floorResolve, floorRun } from './workflows';

export const FLOOR_NAME = 'floor (minimal workflow)';

export class FloorFlow implements Flow {
  readonly name = FLOOR_NAME;
  private readonly prefix = `floor-${Date.now().toString(36)}`;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly worker: BenchWorkerHandle,
  ) {}

  async begin(index: number): Promise<PausedRun> {
    const workflowId = `${this.prefix}-${index}`;
    const tStart = now();
    const startWorkflowOperation = new WithStartWorkflowOperation(floorRun, {
      workflowId,
      taskQueue: this.taskQueue,
      workflowIdConflictPolicy: 'FAIL',
    });
    const { actionId } = await this.client.workflow.executeUpdateWithStart(floorAwaitPause, {
      startWorkflowOperation,
    });
    return { key: workflowId, handle: actionId, tStart, tPaused: now() };
  }

  async finish(run: PausedRun): Promise<FinishedRun> {
    const toolStarted = this.worker.clock.expect(run.key);
    toolStarted.catch(() => undefined);
    const handle = this.client.workflow.getHandle<typeof floorRun>(run.key);
    const tResolve = now();
    const answer = await handle.executeUpdate(floorResolve, {
      args: [{ actionId: run.handle as string, approve: true }],
    });
    const tAck = now();
    if (!answer.ok) throw new Error(`floor resolve refused for ${run.key}`);
    const result = await handle.result();
    const tDone = now();
    if (!result.startsWith('Done')) throw new Error(`floor run ${run.key} ended with ${result}`);
    return { tResolve, tAck, tTool: await toolStarted, tDone };
  }
}

/** The floor's worker child on `server`, on a task queue of its own. */
export async function startFloorWorker(
  server: DevServer,
  taskQueue: string,
  options: BenchWorkerOptions = {},
): Promise<BenchWorkerHandle> {
  return startWorkerChild(
    { address: server.address, namespace: server.namespace, taskQueue, bundlePath: '', sandboxDir: '', options },
    path.join(__dirname, 'worker.ts'),
  );
}
