// The platform floor: the smallest Temporal workflow of the same shape as a generation run (model activity
// → pause on an update → tool activity → model activity → done), with nothing of the product in it: no
// contracts, no zod, no search attributes, no details. What it costs is what Temporal itself costs on this
// server; the benchmark prints ours ÷ floor.
import * as wf from '@temporalio/workflow';
import type { FloorActivities } from './activities';
import { expiresAt, pendingTools, status } from './search-attributes';

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

// The floor with the product's history shape: the same steps plus every event a generation run writes
// that the plain floor does not (a patch marker and the TemporalChangeVersion upsert the SDK adds to it,
// the waiter's bounded wait, the approval's expiry timer, the status search attributes at pause, resolution
// and end). Still none of the product's code: what the platform charges for those events, so the benchmark
// can tell the price of the product's history apart from the price of its code.

/** Bound of the waiter's wait and the approval's time to live, as the product's defaults. */
const WAITER_BOUND_MS = 60_000;
const APPROVAL_TTL_MS = 24 * 60 * 60 * 1000;

/** The parts of the product's history shape; each is on unless set to false (the benchmark leaves one out at a time). */
export interface ShapedParts {
  /** A patch marker, with the TemporalChangeVersion upsert the SDK adds to it. */
  patch?: boolean;
  /** The waiter's wait bounded by a timer (started, then cancelled when the run pauses). */
  waiter?: boolean;
  /** The approval's expiry timer (started at the pause, cancelled by the decision). */
  expiry?: boolean;
  /** The status search attributes: set at start, upserted at pause, resolution and end. */
  statusAttributes?: boolean;
}

export async function floorShapedRun(parts: ShapedParts = {}): Promise<string> {
  const on = (part: keyof ShapedParts): boolean => parts[part] !== false;
  const state: { pendingId?: string; approved?: boolean } = {};
  wf.setHandler(floorAwaitPause, async () => {
    await wf.CancellationScope.nonCancellable(() =>
      wf.condition(() => state.pendingId !== undefined, on('waiter') ? WAITER_BOUND_MS : undefined),
    );
    return { actionId: state.pendingId! };
  });
  wf.setHandler(floorResolve, ({ actionId, approve }) => {
    if (actionId !== state.pendingId || state.approved !== undefined) return { ok: false };
    state.approved = approve;
    return { ok: true };
  });
  if (on('patch')) wf.patched('floor-shaped-v1');
  const first = await floorModel(0);
  state.pendingId = `${wf.workflowInfo().workflowId}:${first.toolCallId}`;
  if (on('statusAttributes'))
    wf.upsertSearchAttributes([
      { key: status, value: 'requires_action' },
      { key: pendingTools, value: [first.toolName] },
      { key: expiresAt, value: new Date(Date.now() + APPROVAL_TTL_MS) },
    ]);
  await wf.condition(() => state.approved !== undefined, on('expiry') ? APPROVAL_TTL_MS : undefined);
  if (on('statusAttributes'))
    wf.upsertSearchAttributes([
      { key: pendingTools, value: [] },
      { key: expiresAt, value: null },
      { key: status, value: 'running' },
    ]);
  const output = state.approved ? await floorTool(first.toolName) : 'denied';
  const final = await floorModel(1, output);
  if (on('statusAttributes')) wf.upsertSearchAttributes([{ key: status, value: 'completed' }]);
  return final.content;
}
