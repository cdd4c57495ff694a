// `npm start`: the whole local stack in one terminal.
//   1. makes sure the pinned Temporal CLI is installed (scripts/install-temporal-cli, fast when it is)
//   2. starts the Temporal dev server (state kept in .temporal/dev.db) with the Hitl* search attributes
//   3. starts the worker as a child process (a crash is visible and ends the stack)
//   4. starts the later surfaces (see startSurfaces)
// Ctrl-C / SIGTERM stop everything in reverse order: surfaces, worker (drains), server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { assertPortFree, DevServerError, startDevServer } from './dev-server';
import { DEV_ENV_FILE, removeDevEnv, writeDevEnv } from './dev-env';
import { displayPath } from './state-lock';
import { REPO_ROOT, TemporalCliNotFoundError } from './temporal-cli';
import { apiListenAddress, ApiStartError, startApiSurface } from '../server';
import { ConfigError, configSourceFromEnv } from '../agent-config';
import { createDefaultToolRegistry } from '../activities';

/** Something `npm start` runs next to the worker (HTTP API, approver console, ...). */
export interface Surface {
  name: string;
  /** One line for the banner, e.g. `HTTP API  http://127.0.0.1:3000`. */
  banner?: string;
  /** Variables for the tools of another terminal (written to .temporal/dev.env), e.g. `HITL_API_URL`. */
  env?: Record<string, string>;
  stop(): Promise<void>;
}

export interface SurfaceContext {
  /** The dev server's gRPC address and namespace (also in TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE). */
  address: string;
  namespace: string;
  /** Called when a surface dies on its own: the stack stops and exits 1. */
  onCrash(name: string, reason: string): void;
}

/**
 * Hook for the surfaces that come later (the HTTP API first). Start them here and return them; they are
 * stopped before the worker and the server. `process.env` already points at the dev server.
 */
async function startSurfaces(_ctx: SurfaceContext): Promise<Surface[]> {
  return [await startApiSurface()];
}

const WORKER_STOP_TIMEOUT_MS = 15_000;

async function main(): Promise<void> {
  // The demo agents use the scripted model, which a worker accepts only when asked to.
  process.env.HITL_ENABLE_SCRIPTED ??= '1';
  // A bad configuration file stops here, in one line, before anything starts.
  const agents = configSourceFromEnv({
    knownTools: new Set(
      createDefaultToolRegistry()
        .list()
        .map((tool) => tool.name),
    ),
  });
  // The API's port is checked before anything starts, so a clash is one line and nothing to clean up.
  const api = apiListenAddress();
  if (api.port !== 0) await assertPortFree(api.host, api.port, 'HITL_API_PORT', 'another npm start (its HTTP API)');
  installTemporalCli();

  const server = await startDevServer({ handleSignals: false, detached: true });
  // Everything started from here on talks to this server, whatever a shell profile says.
  for (const key of Object.keys(process.env)) {
    if (/^TEMPORAL_(API_KEY|TLS|GRPC_META_|PROFILE|CONFIG_FILE)/.test(key)) delete process.env[key];
  }
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_NAMESPACE = server.namespace;
  if (server.uiUrl) process.env.HITL_WEB_UI_URL ??= server.uiUrl;

  const db = server.dbFilename ? `state in ${path.relative(process.cwd(), server.dbFilename)}` : 'in memory';
  console.log(`Temporal dev server  ${server.address}  (namespace ${server.namespace}, ${db})`);
  const agentIds = agents.current().config.agents.map((agent) => agent.id);
  console.log(`Agents               ${agentIds.join(', ') || 'none'}  (from ${agents.description})`);
  if (server.uiUrl) {
    console.log(`Temporal Web UI      ${server.uiUrl}`);
    // The list view has no summary column; a query in the address filters it (save it as a view there).
    const paused = encodeURIComponent('HitlStatus="requires_action"');
    console.log(
      `  paused runs        ${server.uiUrl}/namespaces/${encodeURIComponent(server.namespace)}/workflows?query=${paused}`,
    );
  }
  if (server.addedSearchAttributes.length > 0) {
    console.log(`registered search attributes: ${server.addedSearchAttributes.join(', ')}`);
  }

  process.on('exit', () => removeDevEnv());
  let shuttingDown: Promise<void> | undefined;
  let surfaces: Surface[] = [];
  const worker = startWorker();

  const shutdown = (exitCode: number, why?: string): Promise<void> => {
    shuttingDown ??= (async () => {
      if (why) console.error(why);
      console.log('stopping…');
      for (const surface of [...surfaces].reverse()) {
        await surface.stop().catch((err: unknown) => console.error(`stopping ${surface.name} failed: ${String(err)}`));
      }
      await stopChild(worker, WORKER_STOP_TIMEOUT_MS);
      removeDevEnv();
      await server.stop();
      console.log('stopped');
      process.exit(exitCode);
    })();
    return shuttingDown;
  };

  let lastSignalAt = 0;
  const onSignal = () => {
    const now = Date.now();
    // npm forwards the terminal's SIGINT too, so one Ctrl-C can arrive twice: only a later one forces.
    if (shuttingDown && now - lastSignalAt > 2_000) {
      console.error('stopping at once');
      worker.kill('SIGKILL');
      process.exit(1); // the 'exit' hook of the dev server sends it SIGTERM
    }
    lastSignalAt = now;
    void shutdown(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  // npm does not pass a SIGTERM on to us (it dies, and its `sh -c` with it): when our parent goes away
  // we are re-parented, and stop instead of running on unseen.
  const parentPid = process.ppid;
  setInterval(() => {
    if (process.ppid !== parentPid) void shutdown(0, 'the parent process went away; stopping the stack');
  }, 1_000).unref();

  worker.once('exit', (code, signal) => {
    if (!shuttingDown) void shutdown(1, `worker exited unexpectedly (${signal ?? `code ${code}`}); stopping the stack`);
  });
  void server.exited.then(({ code, signal }) => {
    if (!shuttingDown) {
      void shutdown(
        1,
        `Temporal dev server exited unexpectedly (${signal ?? `code ${code}`})${server.logFile ? `; see ${displayPath(server.logFile)}` : ''}`,
      );
    }
  });

  await waitForWorkerReady(worker);
  if (shuttingDown) return;
  surfaces = await startSurfaces({
    address: server.address,
    namespace: server.namespace,
    onCrash: (name, reason) => void shutdown(1, `${name} stopped unexpectedly: ${reason}; stopping the stack`),
  });
  for (const surface of surfaces) if (surface.banner) console.log(surface.banner);
  // Another terminal finds this stack through .temporal/dev.env: `hitl` reads it by itself, a shell sources it.
  writeDevEnv({
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: server.namespace,
    ...(server.uiUrl ? { HITL_WEB_UI_URL: server.uiUrl } : {}),
    ...surfaces.reduce<Record<string, string>>((all, surface) => ({ ...all, ...surface.env }), {}),
  });
  console.log(
    `Other terminals      npx hitl … finds this stack by itself; for the Temporal CLI and curl: source ${displayPath(DEV_ENV_FILE)}`,
  );
  console.log(`                     (or: export TEMPORAL_ADDRESS=${server.address})`);
  console.log('ready — Ctrl-C to stop');
}

function installTemporalCli(): void {
  const script = path.join(REPO_ROOT, 'scripts', 'install-temporal-cli');
  const result = spawnSync('bash', [script, '--quiet-if-present'], { stdio: 'inherit', cwd: REPO_ROOT });
  if (result.status !== 0) {
    throw new DevServerError(`${path.relative(process.cwd(), script)} failed; the Temporal CLI is needed`);
  }
}

/** The worker entry, run by Node (through ts-node when we run from the TypeScript sources). */
function startWorker(): ChildProcess {
  const entry = require.resolve('../worker');
  const args = entry.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only', entry] : [entry];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: Ctrl-C reaches us, and we stop it in order
  });
  prefixLines(child, '[worker] ');
  // It must not outlive us, also when we fail or exit without the orderly shutdown.
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.on('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  return child;
}

/** Resolves when the worker logs that it polls, or when it exits. */
function waitForWorkerReady(worker: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      if (chunk.toString('utf8').includes('worker polling task queue')) done();
    };
    const done = () => {
      worker.stdout?.removeListener('data', onData);
      worker.removeListener('exit', done);
      resolve();
    };
    worker.stdout?.on('data', onData);
    worker.once('exit', done);
  });
}

function prefixLines(child: ChildProcess, prefix: string): void {
  for (const [readable, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    if (!readable) continue;
    let buffered = '';
    readable.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) out.write(`${prefix}${line}\n`);
    });
    readable.on('end', () => {
      if (buffered) out.write(`${prefix}${buffered}\n`);
    });
  }
}

/** SIGTERM (the worker drains), SIGKILL after the timeout. */
async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    console.error(`worker did not stop within ${timeoutMs} ms; killing it`);
    child.kill('SIGKILL');
    await exited;
  }
}

main().catch((err: unknown) => {
  if (
    err instanceof DevServerError ||
    err instanceof TemporalCliNotFoundError ||
    err instanceof ConfigError ||
    err instanceof ApiStartError
  ) {
    console.error(err.message);
  } else {
    console.error(err);
  }
  process.exit(1);
});
