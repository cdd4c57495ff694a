// The platform floor: the smallest Temporal workflow of the same shape as a generation run (model activity
// → pause on an update → tool activity → model activity → done), with nothing of the product in it: no
// contracts, no zod, no search attributes, no details. What it costs is what Temporal itself costs on this
// server; the benchmark prints ours ÷ floor.
import * as wf from '@temporalio/workflow';
import type { FloorActivities } from './activities';

const { floorModel, floorTool } = wf.proxyActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });

/** Update-with-start target: answers once the run is paused, with the id to resolve it by. */
export const floorAwaitPause = wf.defineUpdate<{ actionId: string }>('floorAwaitPause');
/** The approver's decision. */
export const floorResolve = wf.defineUpdate<{ ok: boolean }, [{ actionId: string; approve: boolean }]>('floorResolve');

export async function floorRun(): Promise<string> {
  const state: { pendingId?: string; approved?: boolean } = {};
  wf.setHandler(floorAwaitPause, async () => {
    await wf.condition(() => state.pendingId !== undefined);
    return { actionId: state.pendingId! };
  });
  wf.setHandler(floorResolve, ({ actionId, approve }) => {
    if (actionId !== state.pendingId || state.approved !== undefined) return { ok: false };
    state.approved = approve;
    return { ok: true };
  });
  const first = await floorModel(0);
  state.pendingId = `${wf.workflowInfo().workflowId}:${first.toolCallId}`;
  await wf.condition(() => state.approved !== undefined);
  const output = state.approved ? await floorTool(first.toolName) : 'denied';
  const final = await floorModel(1, output);
  return final.content;
}
