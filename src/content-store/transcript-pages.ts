import { DEFAULT_TRANSCRIPT_PAGE, type ContentStore, type TranscriptEntry } from './content-store';

export interface TranscriptPagesOptions {
  fromSeq?: number;
  pageSize?: number;
}

/**
 * The transcript from `fromSeq` on, one page of entries at a time, up to the length it has when each page is
 * read (entries appended meanwhile are included). Memory stays one page whatever the transcript's size.
 */
export async function* transcriptPages(
  store: ContentStore,
  runId: string,
  options: TranscriptPagesOptions = {},
): AsyncGenerator<TranscriptEntry[]> {
  const limit = options.pageSize ?? DEFAULT_TRANSCRIPT_PAGE;
  let fromSeq = options.fromSeq ?? 0;
  for (;;) {
    const page = await store.readTranscript(runId, { fromSeq, limit });
    if (page.entries.length === 0) return;
    yield page.entries;
    fromSeq = page.entries[page.entries.length - 1]!.seq + 1;
    if (fromSeq >= page.length) return;
  }
}

export interface TranscriptMessage extends TranscriptEntry {
  content: string;
}

/** Entries with their contents, read page by page (`getMany` per page); what a model call needs. */
export async function readTranscriptContents(
  store: ContentStore,
  runId: string,
  options: TranscriptPagesOptions = {},
): Promise<TranscriptMessage[]> {
  const messages: TranscriptMessage[] = [];
  for await (const entries of transcriptPages(store, runId, options)) {
    const contents = await store.getMany(
      runId,
      entries.map((e) => e.ref),
    );
    entries.forEach((entry, i) => messages.push({ ...entry, content: contents[i]! }));
  }
  return messages;
}
