import { z } from 'zod';
import { ContentRefSchema, type ContentRef } from './refs';

// The one interface both stores implement, and the schemas of what crosses it. Both stores validate their
// arguments with these schemas, so a caller gets the same refusal from either.

/** Whose content it is: the generation run's workflow id (stable across continue-as-new). */
export const RunIdSchema = z.string().min(1).max(1000);

/** Position in a run's transcript, from 0, without holes. */
export const SeqSchema = z.number().int().min(0).max(2_147_483_647);

export const TranscriptEntrySchema = z.object({ seq: SeqSchema, ref: ContentRefSchema });
export type TranscriptEntry = z.infer<typeof TranscriptEntrySchema>;

/** Runs to mark closed, and when (`markClosed`'s arguments). */
export interface ClosingRuns {
  runIds: string | readonly string[];
  closedAt: Date;
}

/** Most entries one `readTranscript` returns, and the most refs one `appendTranscript` or `getMany` takes. */
export const MAX_BATCH = 10_000;
export const DEFAULT_TRANSCRIPT_PAGE = 1000;

export const ReadTranscriptOptionsSchema = z.object({
  fromSeq: SeqSchema.optional(),
  limit: z.number().int().min(1).max(MAX_BATCH).optional(),
});
export type ReadTranscriptOptions = z.infer<typeof ReadTranscriptOptionsSchema>;

export const TranscriptPageSchema = z.object({
  /** Entries from `fromSeq` on, at most `limit`, in seq order. */
  entries: z.array(TranscriptEntrySchema),
  /** The transcript's whole length when read (entries exist for every seq below it). */
  length: SeqSchema,
});
export type TranscriptPage = z.infer<typeof TranscriptPageSchema>;

export const AppendTranscriptArgsSchema = z.object({
  runId: RunIdSchema,
  fromSeq: SeqSchema,
  refs: z.array(ContentRefSchema).max(MAX_BATCH),
});

export const ForkTranscriptArgsSchema = z
  .object({ fromRunId: RunIdSchema, toRunId: RunIdSchema, length: SeqSchema })
  .refine((args) => args.fromRunId !== args.toRunId, { message: 'a transcript cannot fork into itself' });

export const RefListSchema = z.array(ContentRefSchema).max(MAX_BATCH);

export const DEFAULT_OPEN_RUNS_PAGE = 1000;
export const ListOpenRunsOptionsSchema = z.object({
  /** Only runs the store first heard of before this time. */
  createdBefore: z.date(),
  /** Only run ids after this one (the last id of the previous page). */
  after: RunIdSchema.optional(),
  limit: z.number().int().min(1).max(MAX_BATCH).optional(),
});
export type ListOpenRunsOptions = z.infer<typeof ListOpenRunsOptionsSchema>;

export type ContentStoreKind = 'sqlite' | 'postgres';

/**
 * Message contents, tool results and large tool arguments of generation runs, kept outside workflow history.
 * Used by activities only (never by workflow code: it does I/O). Every method is safe to retry.
 */
export interface ContentStore {
  readonly kind: ContentStoreKind;
  /** Largest content `put` accepts, in UTF-8 bytes. */
  readonly maxContentBytes: number;

  /** Stores `content` for the run; returns its reference. The same content twice is one row. */
  put(runId: string, content: string): Promise<ContentRef>;
  /** `put` of each, in one transaction; refs in the same order. Too large anywhere = nothing written. */
  putMany(runId: string, contents: readonly string[]): Promise<ContentRef[]>;
  /** Throws {@link ContentNotFound} when the run holds no such content. */
  get(runId: string, ref: string): Promise<string>;
  /** Contents in the order of `refs` (repeats allowed); {@link ContentNotFound} names every missing ref. */
  getMany(runId: string, refs: readonly string[]): Promise<string[]>;

  /**
   * Writes `refs` at seq `fromSeq`, `fromSeq + 1`, …, atomically. Entries that already hold the same ref are
   * left alone (a retried append is a no-op); a different ref at an existing seq is a {@link TranscriptConflict},
   * a `fromSeq` past the end a {@link TranscriptGap}, a ref the run does not hold a {@link ContentNotFound};
   * then nothing is written. Returns the transcript's length afterwards.
   */
  appendTranscript(runId: string, fromSeq: number, refs: readonly string[]): Promise<{ length: number }>;
  /**
   * Starts `toRunId` as a branch of `fromRunId`, in one transaction: every content `fromRunId` holds, and its
   * first `length` transcript entries. For a run that must go on differently from what the transcript holds
   * past that point (a Temporal reset). Repeating it is a no-op; entries `toRunId` already holds past
   * `length` stay. {@link TranscriptGap} when `fromRunId` has fewer than `length` entries,
   * {@link TranscriptConflict} when `toRunId` holds another entry below `length`; then nothing is written.
   */
  forkTranscript(fromRunId: string, toRunId: string, length: number): Promise<void>;
  /**
   * `putMany(contents)` and `appendTranscript` of their refs at `fromSeq`, in one transaction (one commit
   * instead of two): both are written or neither. Same rules and errors as the two calls. With `close`, also
   * `markClosed(close.runIds, close.closedAt)` in that transaction (a run's last answer and its closing).
   */
  putAndAppend(
    runId: string,
    fromSeq: number,
    contents: readonly string[],
    close?: ClosingRuns,
  ): Promise<{ refs: ContentRef[]; length: number }>;
  /** One page of the transcript; see `transcriptPages` for reading all of it. */
  readTranscript(runId: string, options?: ReadTranscriptOptions): Promise<TranscriptPage>;

  /**
   * Records that the run ended at `closedAt`: from then on retention may delete its content. Several runs
   * (a run's transcript and its staging key) are closed in one transaction.
   */
  markClosed(runIds: string | readonly string[], closedAt: Date): Promise<void>;
  /**
   * One page of the runs not marked closed that the store first heard of before `createdBefore`, in run id
   * order from after `after`: what a sweep checks for runs that ended without closing their content.
   */
  listOpenRuns(options: ListOpenRunsOptions): Promise<string[]>;
  /** Deletes content and transcript of every run closed before `before`; returns how many runs. */
  deleteClosedBefore(before: Date): Promise<number>;
  /**
   * Reads the store's tables once, for a readiness check: resolves when the database answers, throws its error
   * otherwise (`ContentStoreClosed` after `close()`).
   */
  ping(): Promise<void>;
  /** Releases the connection (or pool). Later calls throw `ContentStoreClosed`. Idempotent. */
  close(): Promise<void>;
}
