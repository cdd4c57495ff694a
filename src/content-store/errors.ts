// Typed errors of the content store. Each `name` is also the `ApplicationFailure` type an activity failure
// carries when an activity lets one through, so the workflow can tell them apart without string matching.
// All of them are deterministic: retrying the same call gives the same error (mark them non-retryable).

export class ContentStoreError extends Error {
  override readonly name: string = 'ContentStoreError';
}

/** A reference that this run's store does not hold (never stored, stored for another run, or deleted). */
export class ContentNotFound extends ContentStoreError {
  override readonly name = 'ContentNotFound';
  constructor(
    readonly runId: string,
    readonly refs: readonly string[],
  ) {
    super(
      `content not found for run ${JSON.stringify(runId)}: ${refs.slice(0, 3).join(', ')}` +
        (refs.length > 3 ? ` and ${refs.length - 3} more` : ''),
    );
  }
}

/** Content whose UTF-8 size exceeds the store's maximum; nothing of the call was written. */
export class ContentTooLarge extends ContentStoreError {
  override readonly name = 'ContentTooLarge';
  constructor(
    readonly sizeBytes: number,
    readonly maxBytes: number,
  ) {
    super(`content of ${sizeBytes} bytes exceeds the content store's maximum of ${maxBytes} bytes`);
  }
}

/** An append that would overwrite a transcript entry with a different reference; nothing was written. */
export class TranscriptConflict extends ContentStoreError {
  override readonly name = 'TranscriptConflict';
  constructor(
    readonly runId: string,
    readonly seq: number,
    readonly existingRef: string,
    readonly attemptedRef: string,
  ) {
    super(
      `transcript of run ${JSON.stringify(runId)} already has ${existingRef} at seq ${seq}; refusing ${attemptedRef}`,
    );
  }
}

/** An append that starts past the end of the transcript (it would leave a hole); nothing was written. */
export class TranscriptGap extends ContentStoreError {
  override readonly name = 'TranscriptGap';
  constructor(
    readonly runId: string,
    readonly fromSeq: number,
    readonly length: number,
  ) {
    super(`transcript of run ${JSON.stringify(runId)} has ${length} entries; cannot append at seq ${fromSeq}`);
  }
}

/** A call on a store after its `close()`. */
export class ContentStoreClosed extends ContentStoreError {
  override readonly name = 'ContentStoreClosed';
  constructor() {
    super('the content store is closed');
  }
}

/** `HITL_CONTENT_*` (or the options given instead) do not describe a usable store. */
export class ContentStoreConfigError extends ContentStoreError {
  override readonly name = 'ContentStoreConfigError';
}

/** The `ApplicationFailure` types above that the workflow may meet. */
export const CONTENT_STORE_ERROR_TYPES = [
  'ContentNotFound',
  'ContentTooLarge',
  'TranscriptConflict',
  'TranscriptGap',
  'InvalidContentStoreArgument',
] as const;

/** An argument that does not match the interface's schemas (a bad reference, an empty run id, …). */
export class InvalidContentStoreArgument extends ContentStoreError {
  override readonly name = 'InvalidContentStoreArgument';
}
