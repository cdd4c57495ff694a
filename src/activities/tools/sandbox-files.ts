import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { appendFile, lstat, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { IdempotencyLedger, LEDGER_DIR_NAME, writeFileAtomic, type RunOnceInfo } from './idempotency';
import { defineTool, type JsonValue, type ToolContext, type ToolDefinition } from './registry';
import { resolveSandboxPath } from './sandbox-path';

/** Longest file `read_file` reads (bytes); the rest is cut. */
export const MAX_READ_BYTES = 1024 * 1024;
/** Longest content `write_file` / `append_file` accept (characters). */
export const MAX_WRITE_CHARS = 1_000_000;
/** Most entries `list_files` returns. */
export const MAX_LIST_ENTRIES = 1000;
/** Longest `sleep` (ms). */
export const MAX_SLEEP_MS = 10 * 60 * 1000;
const HEARTBEAT_EVERY_MS = 1000;

const PathArg = z.string().min(1).max(4096).describe('Path relative to the sandbox root, e.g. "notes/todo.txt"');
const ContentArg = z.string().max(MAX_WRITE_CHARS);

/** Runs a writing tool's effect at most once per idempotency key (see `IdempotencyLedger`). */
function once<T extends JsonValue>(
  ctx: ToolContext,
  tool: string,
  args: unknown,
  effect: (info: RunOnceInfo) => Promise<T>,
): Promise<T> {
  const fingerprint = `${tool}:${createHash('sha256').update(JSON.stringify(args)).digest('hex')}`;
  return IdempotencyLedger.forSandbox(ctx.sandboxDir).runOnce(ctx.idempotencyKey, effect, { fingerprint });
}

export const listFilesTool = defineTool({
  name: 'list_files',
  description: 'List the files and directories in a directory of the sandbox (the root if no path is given).',
  argsSchema: z.object({
    path: z.string().max(4096).optional().describe('Directory relative to the sandbox root; default: the root'),
  }),
  async execute(args, ctx) {
    const dir = await resolveSandboxPath(ctx.sandboxDir, args.path ?? '.', { allowRoot: true });
    const info = await stat(dir.absolute);
    if (!info.isDirectory()) throw new Error(`Not a directory: ${dir.relative}`);
    const dirents = await readdir(dir.absolute, { withFileTypes: true });
    const visible = dirents
      .filter((d) => !(dir.relative === '.' && d.name === LEDGER_DIR_NAME))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const entries: JsonValue[] = [];
    for (const d of visible.slice(0, MAX_LIST_ENTRIES)) {
      const type = d.isDirectory() ? 'directory' : d.isFile() ? 'file' : d.isSymbolicLink() ? 'symlink' : 'other';
      const entry: { [key: string]: JsonValue } = { name: d.name, type };
      if (type === 'file') entry.size = (await lstat(path.join(dir.absolute, d.name))).size;
      entries.push(entry);
    }
    return {
      path: dir.relative,
      entries,
      ...(visible.length > MAX_LIST_ENTRIES ? { truncated: true } : {}),
    };
  },
});

export const readFileTool = defineTool({
  name: 'read_file',
  description: 'Read a UTF-8 text file from the sandbox.',
  argsSchema: z.object({ path: PathArg }),
  async execute(args, ctx) {
    const file = await resolveSandboxPath(ctx.sandboxDir, args.path);
    const info = await statOrNull(file.absolute);
    if (info === null) throw new Error(`File not found: ${file.relative}`);
    if (!info.isFile()) throw new Error(`Not a file: ${file.relative}`);
    const handle = await open(file.absolute, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(info.size, MAX_READ_BYTES));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const text = buffer.subarray(0, bytesRead).toString('utf8');
      return info.size > MAX_READ_BYTES
        ? `${text}\n…[file is ${info.size} bytes; first ${MAX_READ_BYTES} shown]`
        : text;
    } finally {
      await handle.close();
    }
  },
});

export const writeFileTool = defineTool({
  name: 'write_file',
  description: 'Create or replace a text file in the sandbox (parent directories are created).',
  argsSchema: z.object({ path: PathArg, content: ContentArg }),
  async execute(args, ctx) {
    const file = await resolveSandboxPath(ctx.sandboxDir, args.path);
    // Naturally idempotent (atomic replace with the same content); the ledger also spares a rewrite.
    return once(ctx, 'write_file', args, async () => {
      const existing = await statOrNull(file.absolute);
      if (existing?.isDirectory()) throw new Error(`Is a directory: ${file.relative}`);
      await mkdir(path.dirname(file.absolute), { recursive: true });
      await writeFileAtomic(file.absolute, args.content, 0o644);
      return `Wrote ${Buffer.byteLength(args.content, 'utf8')} bytes to ${file.relative}`;
    });
  },
});

export const appendFileTool = defineTool({
  name: 'append_file',
  description: 'Append text to a file in the sandbox (the file is created if missing).',
  argsSchema: z.object({ path: PathArg, content: ContentArg }),
  async execute(args, ctx) {
    const file = await resolveSandboxPath(ctx.sandboxDir, args.path);
    // Deliberately not naturally idempotent: exactly-once comes from the ledger alone (its crash
    // window between the append and the result record is the one place it can happen twice).
    return once(ctx, 'append_file', args, async () => {
      await mkdir(path.dirname(file.absolute), { recursive: true });
      await appendFile(file.absolute, args.content, { encoding: 'utf8', mode: 0o644 });
      const size = (await stat(file.absolute)).size;
      return `Appended ${Buffer.byteLength(args.content, 'utf8')} bytes to ${file.relative} (now ${size} bytes)`;
    });
  },
});

export const deleteFileTool = defineTool({
  name: 'delete_file',
  description: 'Delete a file from the sandbox.',
  argsSchema: z.object({ path: PathArg }),
  async execute(args, ctx) {
    const file = await resolveSandboxPath(ctx.sandboxDir, args.path);
    return once(ctx, 'delete_file', args, async (info) => {
      const done = `Deleted ${file.relative}`;
      const existing = await lstatOrNull(file.absolute);
      if (existing === null) {
        // After an interrupted attempt (intent but no result) a missing file means that attempt deleted it.
        if (info.resumed) return done;
        throw new Error(`File not found: ${file.relative}`);
      }
      if (existing.isDirectory()) throw new Error(`Is a directory: ${file.relative}`);
      await unlink(file.absolute);
      return done;
    });
  },
});

export const noopTool = defineTool({
  name: 'noop',
  description: 'Do nothing and return "ok" (for tests and benchmarks).',
  argsSchema: z.object({}),
  async execute() {
    return 'ok';
  },
});

export const sleepTool = defineTool({
  name: 'sleep',
  description: `Wait for the given number of milliseconds (at most ${MAX_SLEEP_MS}), then return.`,
  argsSchema: z.object({ ms: z.number().int().min(0).max(MAX_SLEEP_MS).describe('Milliseconds to wait') }),
  async execute(args, ctx) {
    const until = Date.now() + args.ms;
    for (let left = args.ms; left > 0; left = until - Date.now()) {
      ctx.heartbeat?.();
      // Rejects with an AbortError when the activity is cancelled; the registry rethrows it.
      await delay(Math.min(left, HEARTBEAT_EVERY_MS), undefined, { signal: ctx.signal });
    }
    ctx.heartbeat?.();
    return `Slept ${args.ms} ms`;
  },
});

/** The demo tools: file tools confined to the sandbox, plus `noop` and `sleep`. */
export const SANDBOX_TOOLS: readonly ToolDefinition[] = [
  listFilesTool,
  readFileTool,
  writeFileTool,
  appendFileTool,
  deleteFileTool,
  noopTool,
  sleepTool,
];

async function statOrNull(file: string): Promise<Stats | null> {
  try {
    return await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function lstatOrNull(file: string): Promise<Stats | null> {
  try {
    return await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
