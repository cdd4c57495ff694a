// The floor side: the minimal same-shape workflow (bench/floor/workflows.ts) on our side's server, its own
// worker child on its own task queue, driven like ours: update-with-start until paused (as
// HitlClient.startRunAndWait), an update to approve, then the result.
import * as path from 'node:path';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { DevServer } from '../../src/dev/dev-server';
import type { Flow, FinishedRun, PausedRun } from '../lib/load';
import { now } from '../lib/stats';
import { startWorkerChild, type BenchWorkerHandle } from '../temporal/side';
import type { BenchWorkerOptions } from '../temporal/worker';
import { shapedStartAttributes } from './search-attributes';
import { floorAwaitPause, floorResolve, floorRun, floorShapedRun, type ShapedParts } from './workflows';

export const FLOOR_NAME = 'floor (minimal workflow)';
export const SHAPED_FLOOR_NAME = "floor + the product's events";

export class FloorFlow implements Flow {
  readonly name: string;
  private readonly prefix = `floor-${Date.now().toString(36)}`;

  /**
   * `shaped`: run the floor with the product's history shape ({@link floorShapedRun}) instead, with these
   * parts; started with the status search attributes as ours is, unless that part is left out.
   */
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly worker: BenchWorkerHandle,
    private readonly shaped?: ShapedParts,
  ) {
    const without = Object.entries(shaped ?? {})
      .filter(([, on]) => on === false)
      .map(([part]) => part);
    this.name = !shaped ? FLOOR_NAME : SHAPED_FLOOR_NAME + (without.length > 0 ? ` − ${without.join(', ')}` : '');
  }

  async begin(index: number): Promise<PausedRun> {
    const workflowId = `${this.prefix}-${index}`;
    const tStart = now();
    const common = { workflowId, taskQueue: this.taskQueue, workflowIdConflictPolicy: 'FAIL' } as const;
    const startWorkflowOperation = this.shaped
      ? new WithStartWorkflowOperation(floorShapedRun, {
          ...common,
          args: [this.shaped],
          ...(this.shaped.statusAttributes !== false
            ? { typedSearchAttributes: new TypedSearchAttributes(shapedStartAttributes(workflowId)) }
            : {}),
        })
      : new WithStartWorkflowOperation(floorRun, common);
    const { actionId } = await this.client.workflow.executeUpdateWithStart(floorAwaitPause, {
      startWorkflowOperation,
    });
    return { key: workflowId, handle: actionId, tStart, tPaused: now() };
  }

  async finish(run: PausedRun): Promise<FinishedRun> {
    const toolStarted = this.worker.clock.expect(run.key);
    toolStarted.catch(() => undefined);
    const handle = this.client.workflow.getHandle<typeof floorRun | typeof floorShapedRun>(run.key);
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
