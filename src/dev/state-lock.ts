// One dev server per state file: `npm start` holds `<db>.lock` while its server runs, so a second
// `npm start` (e.g. on other ports, following the port-in-use hint) cannot open the same SQLite database
// under the live one. The lock names its holder, which the refusal quotes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { DevServerError } from './errors';

/** What the lock file says about the instance that holds it. */
export const StateLockInfoSchema = z.object({
  /** The process that started the server and releases the lock (`npm start`'s node process). */
  ownerPid: z.number().int().positive(),
  /** gRPC address of its dev server. */
  address: z.string(),
  uiUrl: z.string().optional(),
  startedAt: z.string(),
});
export type StateLockInfo = z.infer<typeof StateLockInfoSchema>;

export interface StateLock {
  readonly file: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

export class StateInUseError extends DevServerError {
  override readonly name = 'StateInUseError';
  constructor(
    readonly dbFilename: string,
    readonly holder: StateLockInfo,
  ) {
    super(
      `${displayPath(dbFilename)} is in use by another npm start (pid ${holder.ownerPid}, Temporal at ${holder.address}, ` +
        `since ${holder.startedAt}) — stop it, or set TEMPORAL_DEV_DB=<another file> ('' keeps the state in memory) ` +
        'to run a second instance',
    );
  }
}

export function lockFileOf(dbFilename: string): string {
  return `${dbFilename}.lock`;
}

/** True while a process with this pid exists (also one of another user: EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The holder of a lock file, or undefined when there is none, it is unreadable, or its owner is gone. */
export function readLiveStateLock(dbFilename: string): StateLockInfo | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(lockFileOf(dbFilename), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = StateLockInfoSchema.safeParse(safeJson(raw));
  if (!parsed.success) return undefined;
  return processAlive(parsed.data.ownerPid) ? parsed.data : undefined;
}

/**
 * Takes `<dbFilename>.lock` for `info.ownerPid`, created exclusively. A lock whose owner is alive is a
 * {@link StateInUseError}; a lock left by a process that is gone (a crash, kill -9) is taken over.
 */
export function acquireStateLock(dbFilename: string, info: StateLockInfo): StateLock {
  const file = lockFileOf(dbFilename);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const body = `${JSON.stringify(info)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, body, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw error;
      const holder = readLiveStateLock(dbFilename);
      if (holder && holder.ownerPid !== info.ownerPid) throw new StateInUseError(dbFilename, holder);
      // Left behind by a process that is gone (or by ourselves): take it over.
      fs.rmSync(file, { force: true });
    }
  }
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      try {
        const current = StateLockInfoSchema.safeParse(safeJson(fs.readFileSync(file, 'utf8')));
        if (current.success && current.data.ownerPid === info.ownerPid && current.data.startedAt === info.startedAt) {
          fs.rmSync(file, { force: true });
        }
      } catch {
        // already gone
      }
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A path relative to the working directory when it is inside it (shorter in messages). */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
