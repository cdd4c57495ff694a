import { createHash } from 'node:crypto';
import { lstat, mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { LEDGER_DIR_NAME } from './idempotency';

/** A path a tool may not use; it becomes an error tool result. */
export class SandboxPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxPathError';
  }
}

/** Folder of the sandbox root that holds one folder per user. */
export const USERS_DIR_NAME = 'users';

/** Ids used as folder names as they are: no `.`, `/`, `\`, NUL or `~` can appear in them. */
const PLAIN_USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Hex digits of sha256 kept in a hashed folder name (128 bits). */
const HASHED_FOLDER_HEX = 32;

/**
 * The folder name of `userId` under `<sandbox>/users/`: the id itself when it is plain
 * (`/^[A-Za-z0-9_-]{1,64}$/`), else `~` + the first 32 hex digits of its sha256. `~` never appears in a
 * plain id, so the two forms cannot collide, and `.`, `..`, `/` or NUL never reach the file system.
 */
export function userSandboxFolder(userId: string): string {
  if (userId === '') throw new Error('userId must not be empty');
  if (PLAIN_USER_ID.test(userId)) return userId;
  return `~${createHash('sha256').update(userIdBytes(userId)).digest('hex').slice(0, HASHED_FOLDER_HEX)}`;
}

/** The sandbox of one user: `<sandboxRoot>/users/<userSandboxFolder(userId)>`. */
export function userSandboxDir(sandboxRoot: string, userId: string): string {
  return path.join(sandboxRoot, USERS_DIR_NAME, userSandboxFolder(userId));
}

/**
 * The bytes hashed for `userId`: its UTF-8. UTF-8 turns every lone surrogate into U+FFFD, so `"\ud800"`,
 * `"\udc00"` and `"\ufffd"` would share a folder; an ill-formed id is hashed as 0xFF (a byte UTF-8 never
 * contains) followed by its UTF-16 code units instead, which keeps every id apart.
 */
function userIdBytes(userId: string): Buffer {
  const utf8 = Buffer.from(userId, 'utf8');
  if (utf8.toString('utf8') === userId) return utf8;
  return Buffer.concat([Buffer.from([0xff]), Buffer.from(userId, 'utf16le')]);
}

export interface SandboxPath {
  /** Absolute path under the sandbox's real path. */
  absolute: string;
  /** Path relative to the sandbox root, `/`-separated; `.` for the root. */
  relative: string;
}

/**
 * Confines `input` to `sandboxDir`. Refused: NUL bytes, absolute paths (POSIX or Windows), paths that
 * resolve outside the sandbox (`..`), paths through or to a symlink whose target is outside (or that
 * dangles), and the idempotency ledger directory.
 *
 * This is a check-then-use confinement for demo tools in a directory the worker owns: a process that
 * swaps a directory for a symlink between the check and the use could still redirect one operation.
 */
export async function resolveSandboxPath(
  sandboxDir: string,
  input: string,
  options: { allowRoot?: boolean } = {},
): Promise<SandboxPath> {
  if (input.includes('\0')) throw new SandboxPathError('Path contains a NUL byte');
  if (path.posix.isAbsolute(input) || path.win32.isAbsolute(input)) {
    throw new SandboxPathError(`Absolute paths are not allowed: "${input}"`);
  }
  await mkdir(sandboxDir, { recursive: true });
  const root = await realpath(sandboxDir);
  const relative = path.relative(root, path.resolve(root, input));
  if (isOutside(relative)) throw new SandboxPathError(`Path escapes the sandbox: "${input}"`);
  if (relative === '') {
    if (options.allowRoot === true) return { absolute: root, relative: '.' };
    throw new SandboxPathError('Path must name a file inside the sandbox, not the sandbox itself');
  }
  const segments = relative.split(path.sep);
  if (segments[0] === LEDGER_DIR_NAME) throw new SandboxPathError(`Path is reserved: "${input}"`);

  const absolute = path.join(root, relative);
  // The deepest part of the path that exists must really be inside the sandbox (follows symlinks).
  for (let probe = absolute; ; probe = path.dirname(probe)) {
    const real = await realpathIfExists(probe);
    if (real === undefined) continue; // not there (yet): the parent decides
    if (real === DANGLING) throw new SandboxPathError(`Path goes through a dangling symlink: "${input}"`);
    const realRelative = path.relative(root, real);
    if (isOutside(realRelative)) throw new SandboxPathError(`Path leads outside the sandbox via a symlink: "${input}"`);
    if (realRelative.split(path.sep)[0] === LEDGER_DIR_NAME) {
      throw new SandboxPathError(`Path is reserved: "${input}"`);
    }
    break;
  }
  return { absolute, relative: segments.join('/') };
}

function isOutside(relative: string): boolean {
  return relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
}

const DANGLING = Symbol('dangling symlink');

/**
 * The real path of `file`; undefined when nothing is there; DANGLING for a symlink whose target is
 * missing. A file or folder that another tool call creates between the two look-ups is resolved
 * again rather than mistaken for a dangling symlink (concurrent writes into a new folder raced here).
 */
async function realpathIfExists(file: string): Promise<string | undefined | typeof DANGLING> {
  try {
    return await realpath(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  let stats;
  try {
    stats = await lstat(file);
  } catch {
    return undefined;
  }
  if (stats.isSymbolicLink()) return DANGLING;
  return realpath(file);
}
