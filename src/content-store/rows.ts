import type { TranscriptPage } from './content-store';
import type { ContentRef } from './refs';

// Database rows into the interface's results, the same way for both stores.

/** Contents in the order asked for, from rows found; the refs not found (distinct, in order). */
export function orderContents(
  refs: readonly ContentRef[],
  found: ReadonlyMap<string, Buffer>,
): { contents: string[]; missing: ContentRef[] } {
  const missing = [...new Set(refs.filter((ref) => !found.has(ref)))];
  const decoded = new Map([...found].map(([ref, bytes]) => [ref, bytes.toString('utf8')]));
  return { contents: refs.map((ref) => decoded.get(ref) ?? ''), missing };
}

/** Rows of the length-and-entries join (one row with null entry columns when the page is empty). */
export function pageFromRows(
  rows: readonly { length: number | string; seq: number | null; ref: string | null }[],
): TranscriptPage {
  const length = Number(rows[0]?.length ?? 0);
  const entries = rows.flatMap((r) =>
    r.seq === null || r.ref === null ? [] : [{ seq: r.seq, ref: r.ref as ContentRef }],
  );
  return { entries, length };
}
