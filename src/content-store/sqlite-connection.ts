import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';

// One SQLite connection per database file per process, shared by every store opened on it: better-sqlite3
// is synchronous, so a second connection in the same process would only add lock contention with itself.
// Several processes on one host each hold their own; WAL mode and BEGIN IMMEDIATE make that safe.

/** How long a writer waits for another process's write transaction before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 30_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS hitl_content_runs (
  run_id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  closed_at INTEGER,
  transcript_length INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS hitl_content_runs_closed_at ON hitl_content_runs (closed_at) WHERE closed_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS hitl_content (
  run_id TEXT NOT NULL REFERENCES hitl_content_runs (run_id),
  ref TEXT NOT NULL,
  size INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY (run_id, ref)
);
CREATE TABLE IF NOT EXISTS hitl_transcript (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ref TEXT NOT NULL,
  PRIMARY KEY (run_id, seq),
  FOREIGN KEY (run_id, ref) REFERENCES hitl_content (run_id, ref)
) WITHOUT ROWID;
`;

/** Compiled statements per connection: compiling one costs more than running it. */
const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** `db.prepare(sql)`, compiled once per connection. */
export function prepared<P extends unknown[] = unknown[], R = unknown>(
  db: Database.Database,
  sql: string,
): Database.Statement<P, R> {
  let cache = statements.get(db);
  if (cache === undefined) statements.set(db, (cache = new Map<string, Database.Statement>()));
  let statement = cache.get(sql);
  if (statement === undefined) cache.set(sql, (statement = db.prepare(sql)));
  return statement as unknown as Database.Statement<P, R>;
}

interface Shared {
  db: Database.Database;
  users: number;
}

const open = new Map<string, Shared>();

/** The process's connection to `file` (created with its schema when new); pair with {@link releaseSqlite}. */
export function acquireSqlite(file: string): Database.Database {
  const key = path.resolve(file);
  const shared = open.get(key);
  if (shared) {
    shared.users += 1;
    return shared.db;
  }
  const db = openDatabase(key);
  open.set(key, { db, users: 1 });
  return db;
}

export function releaseSqlite(file: string): void {
  const key = path.resolve(file);
  const shared = open.get(key);
  if (!shared) return;
  shared.users -= 1;
  if (shared.users === 0) {
    open.delete(key);
    shared.db.close();
  }
}

function openDatabase(file: string): Database.Database {
  // Conversations and tool results are private: a new database (and its -wal/-shm files, which SQLite
  // creates with the main file's permissions) is readable by its owner only.
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    // Only takes effect on a file without tables; lets a sweep give deleted runs' pages back to the OS.
    db.pragma('auto_vacuum = INCREMENTAL');
    // WAL: readers never block the writer and other processes' writers wait (busy timeout) instead of failing.
    db.pragma('journal_mode = WAL');
    // FULL: a content the activity reported as stored survives a power cut; the workflow will hold its ref.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.transaction(() => db.exec(SCHEMA)).immediate();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
