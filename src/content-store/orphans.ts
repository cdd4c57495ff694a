import type { ContentStore } from './content-store';

// A run marks its content closed when it ends, but a run can end without running its own code: an operator's
// terminate, a workflow execution timeout, the old run of a reset, a start that failed after the client
// staged its conversation. Their content would stay open, and so never be deleted. This sweep finds content
// whose workflow is no longer running and closes it; retention then deletes it as any other.

/** Whether workflows are running, as the sweep asks it (Temporal, in the worker: `temporalRunLiveness`). */
export interface RunLiveness {
  /**
   * Which of `workflowIds` (at most {@link LIVENESS_BATCH}) have a running generation run, from a listing that may
   * lag behind (visibility). Content of those is kept without asking further.
   */
  runningAmong(workflowIds: readonly string[]): Promise<ReadonlySet<string>>;
  /** Whether the workflow has a running execution now, of any type (strongly consistent); throws when unsure. */
  isRunning(workflowId: string): Promise<boolean>;
}

/** Most workflow ids one `runningAmong` gets. */
export const LIVENESS_BATCH = 100;

/**
 * Content the store first heard of less than this long ago is never closed by the sweep: a client stages a
 * large conversation just before it starts the run, and a run that has just started may not be listed yet.
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

/** How many workflows one sweep describes at a time. */
const CONCURRENT_CHECKS = 8;
/** Open keys per page: each page asks about its workflows in a few listings, so memory stays small. */
const KEYS_PER_PAGE = 200;

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
  const result: OrphanSweepResult = { checked: 0, closed: 0 };
  let after: string | undefined;
  for (;;) {
    const page = await store.listOpenRuns({
      createdBefore,
      limit: KEYS_PER_PAGE,
      ...(after !== undefined ? { after } : {}),
    });
    if (page.length === 0) break;
    after = page[page.length - 1];
    result.checked += page.length;
    const orphans = await keysOfNoRunningWorkflow(page, liveness);
    if (orphans.length > 0) await store.markClosed(orphans, now);
    result.closed += orphans.length;
    if (page.length < KEYS_PER_PAGE) break;
  }
  return result;
}

/**
 * The keys among `keys` none of whose workflow ids has a running execution: the listing first, then a
 * describe of each workflow it did not name.
 */
async function keysOfNoRunningWorkflow(keys: readonly string[], liveness: RunLiveness): Promise<string[]> {
  const ids = [...new Set(keys.flatMap(workflowIdsOfKey))];
  const running = new Set<string>();
  for (let i = 0; i < ids.length; i += LIVENESS_BATCH) {
    for (const id of await liveness.runningAmong(ids.slice(i, i + LIVENESS_BATCH))) running.add(id);
  }
  const isKept = (key: string) => workflowIdsOfKey(key).some((id) => running.has(id));
  const unlisted = [...new Set(keys.filter((key) => !isKept(key)).flatMap(workflowIdsOfKey))];
  for (let i = 0; i < unlisted.length; i += CONCURRENT_CHECKS) {
    const batch = unlisted.slice(i, i + CONCURRENT_CHECKS);
    const answers = await Promise.all(batch.map((id) => liveness.isRunning(id)));
    batch.forEach((id, n) => {
      if (answers[n]) running.add(id);
    });
  }
  return keys.filter((key) => !isKept(key));
}
