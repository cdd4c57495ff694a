// The content store (issue 13): message contents, tool results and large tool arguments of generation runs,
// kept outside workflow history. Activities use it; the workflow holds references. See README "Content store".
export * from './config';
export * from './content-store';
export * from './errors';
export { openContentStore, type OpenContentStoreOptions } from './open';
export { PostgresContentStore, type PostgresContentStoreOptions } from './postgres-store';
export { ContentRefSchema, contentRefOf, type ContentRef } from './refs';
export {
  closeOrphanedContent,
  LIVENESS_BATCH,
  ORPHAN_GRACE_MS,
  workflowIdsOfKey,
  type OrphanSweepOptions,
  type OrphanSweepResult,
  type RunLiveness,
} from './orphans';
export { deleteExpiredContent } from './retention';
export { SqliteContentStore, type SqliteContentStoreOptions } from './sqlite-store';
export {
  readTranscriptContents,
  transcriptPages,
  type TranscriptMessage,
  type TranscriptPagesOptions,
} from './transcript-pages';
export {
  closeSharedContentStore,
  sharedContentStore,
  startRetentionSweeper,
  RETENTION_SWEEP_INTERVAL_MS,
  type RetentionSweeperOptions,
} from './shared';
