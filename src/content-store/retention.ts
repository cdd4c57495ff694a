import type { ContentStore } from './content-store';

/**
 * One retention sweep: deletes the content of every run closed more than `retentionMs` before `now`;
 * returns how many runs. Runs never marked closed are kept, whatever their age. Safe to run on several
 * hosts at once (each run is deleted once).
 */
export function deleteExpiredContent(
  store: ContentStore,
  retentionMs: number,
  now: Date = new Date(),
): Promise<number> {
  return store.deleteClosedBefore(new Date(now.getTime() - retentionMs));
}
