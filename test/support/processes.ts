// Child processes of the tests (reliability suite, worker processes, MCP servers over HTTP): spawned, watched,
// killed for real (SIGKILL), and never left behind — every child is SIGKILLed when this process exits, also
// after a failure or an uncaught error.
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { descendantPids } from '../../bench/lib/machine';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface ChildHandle {
  name: string;
  pid: number;
  /** Settles when the process has ended, for whatever reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the child wrote so far (stdout and stderr, capped), for failure messages. */
  output(): string;
  /** Resolves with the first match of `pattern` in the child's output (also one written before the call). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /**
   * SIGKILL (no clean shutdown) of the process and of every process it started (e.g. a worker's stdio MCP
   * servers, which do not all exit when their stdin closes), as a supervisor killing the worker's process group
   * or container would; waits until the process is gone. Idempotent.
   */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Runs on normal exit and on process.exit() (mocha --exit); signals end up here through mocha's handlers.
  process.on('exit', () => killAllChildren());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** SIGKILLs `child` and everything it started (synchronous: safe in an exit handler). */
function killTree(child: ChildProcess): void {
  // Read the tree first: once the child is dead its children belong to init.
  const descendants = child.pid !== undefined ? descendantPids(child.pid) : [];
  for (const target of [child.pid, ...descendants]) {
    if (target === undefined) continue;
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** SIGKILLs every child still alive, with what it started (synchronous: safe in an exit handler). */
export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) killTree(child);
  }
}

const OUTPUT_CAP = 64 * 1024;

/** Spawns `command args` with `env` added to ours, in the repository root; output is captured, not shown. */
export function spawnChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ChildHandle {
  installExitHook();
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let buffer = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    if (buffer.length > OUTPUT_CAP) buffer = buffer.slice(buffer.length - OUTPUT_CAP);
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
      for (const listener of [...listeners]) listener();
    });
    child.once('error', () => {
      children.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;

  const handle: ChildHandle = {
    name,
    pid: child.pid ?? -1,
    exited,
    output: () => buffer,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(buffer);
          if (match) return finish(() => resolve(match));
          if (!alive()) {
            return finish(() =>
              reject(new Error(`${name} exited before printing ${String(pattern)}; output:\n${buffer.slice(-4000)}`)),
            );
          }
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new Error(`${name} did not print ${String(pattern)} within ${timeoutMs} ms:\n${buffer.slice(-4000)}`),
              ),
            ),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async kill() {
      if (alive()) killTree(child);
      await exited;
    },
    async stop(timeoutMs = 10_000) {
      if (alive()) child.kill('SIGTERM');
      const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
      if ((await Promise.race([exited, timer])) === 'timeout') await handle.kill();
    },
  };
  return handle;
}

/** Spawns a TypeScript entry of this repository with ts-node (transpile only), as `npm run worker` would. */
export function spawnTsEntry(name: string, entry: string, env: NodeJS.ProcessEnv): ChildHandle {
  return spawnChild(name, process.execPath, ['-r', 'ts-node/register/transpile-only', entry], env);
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once something accepts TCP connections on 127.0.0.1:`port`. Rejects, with the child's output,
 * when `child` exits first or nothing listens within `timeoutMs`.
 */
export async function waitForPort(port: number, child: ChildHandle, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  for (;;) {
    if (exited)
      throw new Error(`${child.name} exited before listening on ${port}; output:\n${child.output().slice(-4000)}`);
    if (await accepts(port)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${child.name} did not listen on ${port} within ${timeoutMs} ms:\n${child.output().slice(-4000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Spawns a server process (`spawnChild`) and waits until it listens on `port` (see `waitForPort`); a server
 * that does not come up is killed and the call rejects with its output.
 */
export async function spawnServer(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
  timeoutMs = 60_000,
): Promise<ChildHandle> {
  const child = spawnChild(name, command, args, env);
  try {
    await waitForPort(port, child, timeoutMs);
  } catch (error) {
    await child.kill();
    throw error;
  }
  return child;
}
