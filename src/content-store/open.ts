import { ContentStoreConfigSchema, loadContentStoreConfig, type ContentStoreConfig } from './config';
import type { ContentStore } from './content-store';
import { ContentStoreConfigError } from './errors';
import { PostgresContentStore } from './postgres-store';
import { SqliteContentStore } from './sqlite-store';

export interface OpenContentStoreOptions {
  /** Reported when an idle PostgreSQL connection fails (the pool replaces it). */
  onIdleError?: (error: Error) => void;
}

/**
 * The store `config` describes (default: `loadContentStoreConfig()`, i.e. `HITL_CONTENT_STORE` and friends).
 * SQLite opens its file at once; PostgreSQL connects and creates its tables on first use.
 */
export function openContentStore(
  config: ContentStoreConfig = loadContentStoreConfig(),
  options: OpenContentStoreOptions = {},
): ContentStore {
  const parsed = ContentStoreConfigSchema.safeParse(config);
  if (!parsed.success) {
    // The issue names the key; the value is not echoed (it may be a connection string with a password).
    const issue = parsed.error.issues[0];
    throw new ContentStoreConfigError(`content store configuration: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const valid = parsed.data;
  if (valid.kind === 'sqlite') {
    return new SqliteContentStore({ path: valid.path, maxContentBytes: valid.maxContentBytes });
  }
  return new PostgresContentStore({
    connectionString: valid.connectionString,
    poolSize: valid.poolSize,
    maxContentBytes: valid.maxContentBytes,
    onIdleError: options.onIdleError,
  });
}
