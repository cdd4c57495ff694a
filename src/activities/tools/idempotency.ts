import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { JsonValue } from './registry';

/**
 * Exactly-once side effects for retried activities: a file-backed ledger.
 *
 * `runOnce(key, fn)`:
 * 1. a `completed` record for the key exists → its stored result is returned, `fn` does not run;
 * 2. otherwise an `intent` record is written (atomically), `fn` runs, and its result is written as a
 *    `completed` record (temp file + fsync + rename, so a reader sees the old record or the new one,
 *    never half of one).
 *
 * The crash window, honestly: if the process dies after `fn`'s side effect and before the
 * `completed` record is on disk, the next attempt finds only the intent and runs `fn` again. `fn`
 * learns this through `info.resumed === true` and should make its effect idempotent for that case
 * (delete: a missing file after an intent means "already deleted"; write: writing the same content
 * again is harmless). An effect that cannot be checked (append) may happen twice in that window only;
 * a retry after a completed record never repeats it.
 *
 * `fn` throws only when its effect did not happen (or is safe to redo): the record is then marked
 * `failed` and the next attempt runs `fn` afresh with `resumed: false`.
 *
 * Concurrency: attempts with the same key are serialized within one process. Two worker processes
 * sharing a sandbox could both run `fn` for one key if Temporal ran two attempts at once (only after
 * a timeout); a production ledger would take a lease in a database instead of files.
 */

/** Directory name of the ledger inside the sandbox; the file tools refuse to touch it. */
export const LEDGER_DIR_NAME = '.hitl-ledger';

export interface RunOnceInfo {
  /** An earlier attempt wrote its intent and did not record a result: its side effect may be done. */
  resumed: boolean;
  /** 1 for the first attempt with this key, 2 for the next… */
  attempt: number;
}

export interface RunOnceOptions {
  /**
   * What the key is for (e.g. tool name + arguments). A key that comes back with another
   * fingerprint is refused: it would return a result that belongs to a different call.
   */
  fingerprint?: string;
}

export interface LedgerRecord {
  version: 1;
  key: string;
  fingerprint?: string;
  /** `failed`: `fn` threw, which it does only when its effect did not happen; the next attempt starts fresh. */
  state: 'intent' | 'completed' | 'failed';
  attempts: number;
  startedAt: string;
  completedAt?: string;
  result?: JsonValue;
}

const locks = new Map<string, Promise<unknown>>();

export class IdempotencyLedger {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  static forSandbox(sandboxDir: string): IdempotencyLedger {
    return new IdempotencyLedger(path.join(sandboxDir, LEDGER_DIR_NAME));
  }

  /** Path of the record of `key`: `<dir>/<sha256(key)>.json`. */
  recordPath(key: string): string {
    return path.join(this.dir, `${createHash('sha256').update(key, 'utf8').digest('hex')}.json`);
  }

  async get(key: string): Promise<LedgerRecord | undefined> {
    return readRecord(this.recordPath(key));
  }

  async runOnce<T extends JsonValue>(
    key: string,
    fn: (info: RunOnceInfo) => Promise<T>,
    options: RunOnceOptions = {},
  ): Promise<T> {
    if (key.length === 0) throw new Error('idempotency key must not be empty');
    const file = this.recordPath(key);
    return withLock(file, async () => {
      const existing = await readRecord(file);
      if (existing !== undefined) {
        if (existing.key !== key) throw new Error('idempotency ledger record does not match its key');
        if (
          options.fingerprint !== undefined &&
          existing.fingerprint !== undefined &&
          existing.fingerprint !== options.fingerprint
        ) {
          throw new Error('idempotency key was already used for a different call');
        }
        if (existing.state === 'completed') return existing.result as T;
      }

      const attempts = (existing?.attempts ?? 0) + 1;
      const startedAt = new Date().toISOString();
      const intent: LedgerRecord = {
        version: 1,
        key,
        ...(options.fingerprint !== undefined ? { fingerprint: options.fingerprint } : {}),
        state: 'intent',
        attempts,
        startedAt,
      };
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomic(file, JSON.stringify(intent));

      let result: T;
      try {
        result = await fn({ resumed: existing?.state === 'intent', attempt: attempts });
      } catch (error) {
        const failed: LedgerRecord = { ...intent, state: 'failed' };
        await writeFileAtomic(file, JSON.stringify(failed)).catch(() => undefined);
        throw error;
      }

      const completed: LedgerRecord = {
        ...intent,
        state: 'completed',
        completedAt: new Date().toISOString(),
        result,
      };
      await writeFileAtomic(file, JSON.stringify(completed));
      return result;
    });
  }
}

async function readRecord(file: string): Promise<LedgerRecord | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    throw new Error(`idempotency ledger record ${path.basename(file)} is corrupt`);
  }
  if (!isLedgerRecord(record)) throw new Error(`idempotency ledger record ${path.basename(file)} is corrupt`);
  return record;
}

function isLedgerRecord(value: unknown): value is LedgerRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<LedgerRecord>;
  return (
    record.version === 1 &&
    typeof record.key === 'string' &&
    (record.state === 'intent' || record.state === 'completed' || record.state === 'failed') &&
    typeof record.attempts === 'number'
  );
}

/** Serializes async work per file within this process. */
async function withLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  const previous = locks.get(file) ?? Promise.resolve();
  const current = previous.then(work, work);
  const settled = current.then(
    () => undefined,
    () => undefined,
  );
  locks.set(file, settled);
  try {
    return await current;
  } finally {
    if (locks.get(file) === settled) locks.delete(file);
  }
}

/** Writes `data` to a temp file next to `file`, fsyncs it, renames it over `file`, fsyncs the directory. */
export async function writeFileAtomic(file: string, data: string, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not every platform can fsync a directory; the rename is still atomic.
  }
}
