import type { ContentStore } from './content-store';
import { openContentStore } from './open';
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

/** How often a worker deletes the content of runs closed longer ago than the retention (and once at start). */
export const RETENTION_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Deletes expired content now and every `intervalMs`; returns a function that stops it. Several workers
 * sweeping one store is safe (each run is deleted once). A failed sweep is reported and tried again later.
 */
export function startRetentionSweeper(
  store: ContentStore,
  retentionMs: number,
  options: { intervalMs?: number; onSweep?: (deleted: number) => void; onError?: (error: unknown) => void } = {},
): () => void {
  let running: Promise<void> | undefined;
  const sweep = () => {
    running ??= deleteExpiredContent(store, retentionMs)
      .then((deleted) => options.onSweep?.(deleted), options.onError)
      .finally(() => {
        running = undefined;
      });
  };
  sweep();
  const timer = setInterval(sweep, options.intervalMs ?? RETENTION_SWEEP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
