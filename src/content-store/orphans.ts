import { DEFAULT_OPEN_RUNS_PAGE, type ContentStore } from './content-store';

// A run marks its content closed when it ends, but a run can end without running its own code: an operator's
// terminate, a workflow execution timeout, the old run of a reset, a start that failed after the client
// staged its conversation. Their content would stay open, and so never be deleted. This sweep finds content
// whose workflow is no longer running and closes it; retention then deletes it as any other.

/** Whether workflows are running, as the sweep asks it (Temporal, in the worker: `temporalRunLiveness`). */
export interface RunLiveness {
  /**
   * Workflow ids with a running generation run, from a listing that may lag behind (visibility). Content of
   * a listed workflow is kept without asking further.
   */
  runningWorkflowIds(): Promise<ReadonlySet<string>>;
  /** Whether the workflow has a running execution now, of any type (strongly consistent); throws when unsure. */
  isRunning(workflowId: string): Promise<boolean>;
}

/**
 * Content the store first heard of less than this long ago is never closed by the sweep: a client stages a
 * large conversation just before it starts the run, and a run that has just started may not be listed yet.
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

/** How many workflows one sweep asks about at a time. */
const CONCURRENT_CHECKS = 8;

export interface OrphanSweepOptions {
  /** Default {@link ORPHAN_GRACE_MS}. */
  graceMs?: number;
  now?: Date;
}

export interface OrphanSweepResult {
  /** Open keys the sweep looked at. */
  checked: number;
  /** Keys it closed: no running workflow uses them. */
  closed: number;
}

/**
 * The workflow ids a content key may belong to. Keys are `<workflowId>` (a conversation staged before the
 * start), `<workflowId>/<firstRunId>` (the transcript) and `<workflowId>/<runId>` (a reset's fork). A
 * workflow id may hold '/' itself, so a key with one is read both ways.
 */
export function workflowIdsOfKey(key: string): string[] {
  const slash = key.lastIndexOf('/');
  return slash > 0 ? [key.slice(0, slash), key] : [key];
}

/**
 * One sweep: closes (at `now`) every open key older than the grace whose workflow has no running execution.
 * A key of a running workflow is kept, whichever of its runs wrote it. Throws when the store or `liveness`
 * fails; keys closed until then stay closed, the rest wait for the next sweep.
 */
export async function closeOrphanedContent(
  store: ContentStore,
  liveness: RunLiveness,
  options: OrphanSweepOptions = {},
): Promise<OrphanSweepResult> {
  const now = options.now ?? new Date();
  const createdBefore = new Date(now.getTime() - (options.graceMs ?? ORPHAN_GRACE_MS));
  const listed = await liveness.runningWorkflowIds();
  const result: OrphanSweepResult = { checked: 0, closed: 0 };
  let after: string | undefined;
  for (;;) {
    const page = await store.listOpenRuns({ createdBefore, ...(after !== undefined ? { after } : {}) });
    if (page.length === 0) break;
    after = page[page.length - 1];
    result.checked += page.length;
    const orphans = await keysOfNoRunningWorkflow(
      page.filter((key) => !workflowIdsOfKey(key).some((id) => listed.has(id))),
      liveness,
    );
    if (orphans.length > 0) await store.markClosed(orphans, now);
    result.closed += orphans.length;
    if (page.length < DEFAULT_OPEN_RUNS_PAGE) break;
  }
  return result;
}

/** The keys among `keys` none of whose workflow ids has a running execution, asking each workflow once. */
async function keysOfNoRunningWorkflow(keys: readonly string[], liveness: RunLiveness): Promise<string[]> {
  const ids = [...new Set(keys.flatMap(workflowIdsOfKey))];
  const running = new Set<string>();
  for (let i = 0; i < ids.length; i += CONCURRENT_CHECKS) {
    const batch = ids.slice(i, i + CONCURRENT_CHECKS);
    const answers = await Promise.all(batch.map((id) => liveness.isRunning(id)));
    batch.forEach((id, n) => {
      if (answers[n]) running.add(id);
    });
  }
  return keys.filter((key) => !workflowIdsOfKey(key).some((id) => running.has(id)));
}
