import type { ContentStore } from './content-store';
import { openContentStore } from './open';
import { closeOrphanedContent, type OrphanSweepResult, type RunLiveness } from './orphans';
import { deleteExpiredContent } from './retention';

// One content store per worker process (one SQLite connection, or one PostgreSQL pool), opened from
// `HITL_CONTENT_*` when an activity first needs it and closed when the worker stops.
let shared: ContentStore | undefined;

/** The process's content store. */
export function sharedContentStore(): ContentStore {
  shared ??= openContentStore();
  return shared;
}

/** Closes the process's content store, if it was opened. */
export async function closeSharedContentStore(): Promise<void> {
  const store = shared;
  shared = undefined;
  await store?.close();
}

/**
 * How often a worker closes the content of runs that ended without closing it, and deletes the content of runs
 * closed longer ago than the retention (and once at start).
 */
export const RETENTION_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export interface RetentionSweeperOptions {
  intervalMs?: number;
  /** When given, each sweep first closes content no running workflow uses (`closeOrphanedContent`). */
  liveness?: RunLiveness;
  onOrphans?: (result: OrphanSweepResult) => void;
  onSweep?: (deleted: number) => void;
  /** A failed part of a sweep; the other part still runs, and both run again at the next sweep. */
  onError?: (error: unknown, part: 'orphans' | 'expired') => void;
}

/**
 * Sweeps now and every `intervalMs`; returns a function that stops it. Several workers sweeping one store is
 * safe (closing is idempotent, each run is deleted once).
 */
export function startRetentionSweeper(
  store: ContentStore,
  retentionMs: number,
  options: RetentionSweeperOptions = {},
): () => void {
  const { liveness } = options;
  const sweepOnce = async (): Promise<void> => {
    if (liveness !== undefined) {
      await closeOrphanedContent(store, liveness).then(options.onOrphans, (error: unknown) =>
        options.onError?.(error, 'orphans'),
      );
    }
    await deleteExpiredContent(store, retentionMs).then(options.onSweep, (error: unknown) =>
      options.onError?.(error, 'expired'),
    );
  };
  let running: Promise<void> | undefined;
  const sweep = () => {
    running ??= sweepOnce().finally(() => {
      running = undefined;
    });
  };
  sweep();
  const timer = setInterval(sweep, options.intervalMs ?? RETENTION_SWEEP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
