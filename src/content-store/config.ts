import * as path from 'node:path';
import { z } from 'zod';
import { TEMPORAL_DIR } from '../dev/temporal-cli';
import { ContentStoreConfigError } from './errors';

/** Beside the dev server's `.temporal/dev.db`: local state of `npm start`, git-ignored. */
export const DEFAULT_SQLITE_PATH = path.join(TEMPORAL_DIR, 'content.db');
export const DEFAULT_RETENTION_MS = 30 * 24 * 3_600_000;
/** Far above any message or tool result a model can take, far below what either database allows (1 GB). */
export const DEFAULT_MAX_CONTENT_BYTES = 64 * 1024 * 1024;
/** A few connections per worker process: activities are short and several hosts share one server. */
export const DEFAULT_POSTGRES_POOL_SIZE = 4;

const CommonSchema = z.object({
  /** How long the content of a closed run is kept (`deleteExpiredContent`). */
  retentionMs: z.number().int().min(0),
  /**
   * Whether the worker's sweep closes content no running workflow uses (`closeOrphanedContent`). Off for a
   * store that workers of several Temporal namespaces share: each would see the others' runs as gone.
   */
  closeOrphans: z.boolean(),
  maxContentBytes: z.number().int().min(1).max(1_000_000_000),
});

export const ContentStoreConfigSchema = z.discriminatedUnion('kind', [
  CommonSchema.extend({ kind: z.literal('sqlite'), path: z.string().min(1) }),
  CommonSchema.extend({
    kind: z.literal('postgres'),
    /** Secret (it may hold a password): print {@link describeContentStoreConfig} instead. */
    connectionString: z.string().regex(/^postgres(ql)?:\/\//),
    poolSize: z.number().int().min(1).max(100),
  }),
]);
export type ContentStoreConfig = z.infer<typeof ContentStoreConfigSchema>;

/**
 * The store configuration from the environment:
 * - `HITL_CONTENT_STORE`: `sqlite:<path>` (relative to the working directory; default `.temporal/content.db`
 *   under the repository root) or a `postgres://…` / `postgresql://…` connection string;
 * - `HITL_CONTENT_RETENTION`: how long a closed run's content is kept, e.g. `30d` (default), `12h`, `0s`;
 * - `HITL_CONTENT_ORPHANS`: `close` (default) closes the content of runs that ended without closing it
 *   (terminated, timed out, reset), so retention deletes it; `keep` keeps it;
 * - `HITL_CONTENT_MAX_BYTES`: largest single content, e.g. `64MiB` (default), `1048576`;
 * - `HITL_CONTENT_POOL_SIZE`: PostgreSQL connections per process (default 4).
 * Empty values count as unset. Errors name the variable and never echo a connection string's password.
 */
export function loadContentStoreConfig(env: NodeJS.ProcessEnv = process.env): ContentStoreConfig {
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const common = {
    retentionMs: parseOr(value('HITL_CONTENT_RETENTION'), parseDurationMs, DEFAULT_RETENTION_MS, (raw) =>
      bad('HITL_CONTENT_RETENTION', 'a duration such as 30d, 12h, 90m or 0s', raw),
    ),
    closeOrphans: parseOrphans(value('HITL_CONTENT_ORPHANS')),
    maxContentBytes: parseOr(value('HITL_CONTENT_MAX_BYTES'), parseByteSize, DEFAULT_MAX_CONTENT_BYTES, (raw) =>
      bad('HITL_CONTENT_MAX_BYTES', 'a size from 1 byte to 1 GB such as 64MiB, 512KiB or 1048576', raw),
    ),
  };
  const store = value('HITL_CONTENT_STORE');
  if (store === undefined || /^sqlite:/i.test(store)) {
    const file = store === undefined ? '' : store.slice('sqlite:'.length).trim();
    if (store !== undefined && file === '') bad('HITL_CONTENT_STORE', 'sqlite:<path of the database file>', store);
    return { kind: 'sqlite', path: file === '' ? DEFAULT_SQLITE_PATH : path.resolve(file), ...common };
  }
  if (/^postgres(ql)?:\/\//i.test(store)) {
    const poolSize = parseOr(value('HITL_CONTENT_POOL_SIZE'), parsePoolSize, DEFAULT_POSTGRES_POOL_SIZE, (raw) =>
      bad('HITL_CONTENT_POOL_SIZE', 'a number of connections from 1 to 100', raw),
    );
    // The scheme is matched case-insensitively above; node-postgres wants it in lower case.
    const connectionString = store.replace(/^postgres(ql)?:/i, (scheme) => scheme.toLowerCase());
    return { kind: 'postgres', connectionString, poolSize, ...common };
  }
  return bad('HITL_CONTENT_STORE', 'sqlite:<path> or postgres://user:password@host:port/database', store);
}

/** One line for logs: `sqlite /abs/content.db` or `postgres postgres://hitl:***@db:5432/hitl` — no password. */
export function describeContentStoreConfig(config: ContentStoreConfig): string {
  return config.kind === 'sqlite'
    ? `sqlite ${config.path}`
    : `postgres ${redactConnectionString(config.connectionString)}`;
}

/** A connection string with its password (in the user info or a `password` parameter) replaced by `***`. */
export function redactConnectionString(connectionString: string): string {
  let url: URL | undefined;
  try {
    url = new URL(connectionString);
  } catch {
    url = undefined;
  }
  if (url === undefined || !connectionString.includes('://')) {
    // Not a URL we can take apart (a typo, a libpq key=value string): blank whatever looks like a password.
    return connectionString.replace(/:[^@\s]*@/g, ':***@').replace(/(pass[a-z]*\s*=\s*)('[^']*'|[^\s&]*)/gi, '$1***');
  }
  if (url.password !== '') url.password = '***';
  for (const key of [...url.searchParams.keys()]) {
    if (/pass/i.test(key)) url.searchParams.set(key, '***');
  }
  return url.toString();
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `90m`, `12h`, `30d` → milliseconds; undefined when it is none of these. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * DURATION_UNITS_MS[match[2]!]!);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
};

/** `1048576`, `512KiB`, `64MiB`, `1GB` → bytes, within 1 byte … 1 GB (what both databases store in one value). */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? 'none'];
  if (!match || unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return bytes >= 1 && bytes <= 1_000_000_000 ? bytes : undefined;
}

function parseOrphans(raw: string | undefined): boolean {
  if (raw === undefined || /^close$/i.test(raw)) return true;
  if (/^keep$/i.test(raw)) return false;
  return bad('HITL_CONTENT_ORPHANS', 'close (the default) or keep', raw);
}

function parsePoolSize(text: string): number | undefined {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  return n >= 1 && n <= 100 ? n : undefined;
}

function parseOr(
  raw: string | undefined,
  parseValue: (text: string) => number | undefined,
  fallback: number,
  onError: (raw: string) => never,
): number {
  if (raw === undefined) return fallback;
  return parseValue(raw) ?? onError(raw);
}

function bad(variable: string, expected: string, raw: string): never {
  // Whatever was meant, a value of HITL_CONTENT_STORE may hold a password: never echo one.
  throw new ContentStoreConfigError(
    `${variable}: expected ${expected}, got ${JSON.stringify(redactConnectionString(raw))}`,
  );
}
