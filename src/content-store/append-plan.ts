import type { TranscriptEntry } from './content-store';
import { TranscriptConflict, TranscriptGap } from './errors';
import type { ContentRef } from './refs';

// The transcript's write rule, shared by both stores so they cannot drift apart: appends never leave a hole,
// never change an entry, and repeating one is harmless (an activity retried after a lost completion).

/**
 * Whether a fork may copy the first `length` entries of `from` (`sourceRefs`: its entries below `length`) into
 * `to`, which already holds `to.refs` below `length` (a repeated fork finds its own entries there). Throws
 * {@link TranscriptGap} or {@link TranscriptConflict}.
 */
export function checkFork(
  from: { runId: string; length: number },
  to: { runId: string; refs: ReadonlyMap<number, string> },
  sourceRefs: ReadonlyMap<number, string>,
  length: number,
): void {
  if (from.length < length) throw new TranscriptGap(from.runId, length, from.length);
  for (const [seq, ref] of to.refs) {
    const source = sourceRefs.get(seq);
    if (source !== undefined && source !== ref) throw new TranscriptConflict(to.runId, seq, ref, source);
  }
}

/**
 * What an append writes, given the transcript's length and the entries already stored at the seqs it
 * covers. Throws {@link TranscriptGap} or {@link TranscriptConflict}; returns the entries to insert (none
 * for a repeated append) and the length afterwards.
 */
export function planAppend(
  runId: string,
  length: number,
  fromSeq: number,
  refs: readonly ContentRef[],
  existing: ReadonlyMap<number, string>,
): { insert: TranscriptEntry[]; length: number } {
  if (fromSeq > length) throw new TranscriptGap(runId, fromSeq, length);
  const insert: TranscriptEntry[] = [];
  refs.forEach((ref, i) => {
    const seq = fromSeq + i;
    const stored = existing.get(seq);
    if (stored === undefined) insert.push({ seq, ref });
    else if (stored !== ref) throw new TranscriptConflict(runId, seq, stored, ref);
  });
  return { insert, length: Math.max(length, fromSeq + refs.length) };
}
