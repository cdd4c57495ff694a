// Launches `temporal server start-dev` for local development (`npm start`): checks the ports, registers the
// Hitl* search attributes, waits until the namespace answers, and stops the server again.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { HITL_SEARCH_ATTRIBUTES } from '../contracts';
import { ensureSearchAttributes, searchAttributeCliArgs, SearchAttributeTypeMismatchError } from './search-attributes';
import { DevServerError } from './errors';
import { acquireStateLock, displayPath, processAlive, type StateLock } from './state-lock';
import { resolveTemporalCliPath, TEMPORAL_DIR } from './temporal-cli';

export const DEFAULT_DEV_SERVER_DB = path.join(TEMPORAL_DIR, 'dev.db');
/** Log of the dev server on `port` (one per instance: two instances never share a log). */
export function defaultDevServerLog(port: number): string {
  return path.join(TEMPORAL_DIR, `dev-server-${port}.log`);
}
/** What the launcher records about the dev server on `port`, for the port-in-use hint. */
function instanceFileOf(port: number): string {
  return path.join(TEMPORAL_DIR, `dev-server-${port}.json`);
}
const STDERR_TAIL_LINES = 40;

export interface DevServerOptions {
  /** IP the gRPC front end and the Web UI bind to. Default 127.0.0.1 (`TEMPORAL_DEV_IP`). */
  ip?: string;
  /** gRPC port. Default 7233 (`TEMPORAL_DEV_PORT`). */
  port?: number;
  /** Web UI port. Default 8233 (`TEMPORAL_UI_PORT`). */
  uiPort?: number;
  /** Start without the Web UI. */
  headless?: boolean;
  /** SQLite file that keeps the state across restarts; '' = in memory. Default `.temporal/dev.db` (`TEMPORAL_DEV_DB`). */
  dbFilename?: string;
  /** Namespace to create and wait for. Default "default" (`TEMPORAL_NAMESPACE`). */
  namespace?: string;
  /** Temporal CLI to run. Default: `resolveTemporalCliPath()`. */
  cliPath?: string;
  /** How long to wait for the namespace to answer. Default 60 s. */
  readyTimeoutMs?: number;
  /**
   * Each line the server writes while it is not being stopped. Default: lines at level ERROR (and lines
   * that are not log records, e.g. a panic) go to our stderr prefixed with "[temporal] "; the warnings
   * (dial errors while it starts, poll errors while it stops) only go to the log file.
   */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Everything the server writes, rewritten at each start. Default `.temporal/dev-server-<port>.log`; '' = none. */
  logFile?: string;
  /**
   * Stop the server on SIGINT/SIGTERM and exit (130/143). Default true; turn it off when the caller
   * handles the signals itself (and calls `stop()`).
   */
  handleSignals?: boolean;
  /**
   * Run the server in a process group of its own, so a Ctrl-C in the terminal reaches only us and we
   * decide the shutdown order (worker first, server last). Default false.
   */
  detached?: boolean;
  /** Environment for the defaults above; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The fast setup (see {@link devServerTuningArgs}); default: every part on. The benchmark turns parts off to measure them. */
  tuning?: DevServerTuning;
}

/**
 * What `npm start`, the tests and the benchmark change in `temporal server start-dev`'s defaults (README,
 * "Performance": what each one trades).
 */
export interface DevServerTuning {
  /**
   * `history.transferProcessorMaxPollRPS` (default 20 on the dev server's single history shard): how often
   * per second the transfer queue may read the database. Every workflow task that follows an activity
   * waits for it, so at 20 the dev server adds up to ~50 ms per step. Default true.
   */
  liftTransferLimiter?: boolean;
  /**
   * SQLite file only: `journal_mode=wal` and `synchronous=normal` instead of a rollback journal with a full
   * sync per commit. A power loss (not a process crash) can lose the last commits. Default true.
   */
  sqliteWal?: boolean;
}

/** The transfer queue's poll limit of the fast setup: high enough never to be the bottleneck. */
export const TRANSFER_PROCESSOR_MAX_POLL_RPS = 100_000;

/** The `start-dev` arguments of the fast setup; the SQLite pragmas only when the state is in a file. */
export function devServerTuningArgs(fileBacked: boolean, tuning: DevServerTuning = {}): string[] {
  const args: string[] = [];
  if (tuning.liftTransferLimiter ?? true) {
    args.push('--dynamic-config-value', `history.transferProcessorMaxPollRPS=${TRANSFER_PROCESSOR_MAX_POLL_RPS}`);
  }
  if (fileBacked && (tuning.sqliteWal ?? true)) {
    args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  return args;
}

export interface DevServer {
  /** gRPC address for clients and workers, e.g. `127.0.0.1:7233`. */
  address: string;
  /** Web UI, e.g. `http://127.0.0.1:8233` (undefined when headless). */
  uiUrl: string | undefined;
  namespace: string;
  /** Absolute path of the SQLite file, undefined when in memory. */
  dbFilename: string | undefined;
  /** The server's log file, undefined when none. */
  logFile: string | undefined;
  pid: number;
  /** Search attributes the launcher had to add through the operator service (none when the CLI registered them). */
  addedSearchAttributes: string[];
  /** Settles when the server process ends, for whatever reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `timeoutMs` (default 10 s); resolves once the process is gone. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

export { DevServerError };

export class PortInUseError extends DevServerError {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly envVar: string,
    hint = '',
    what = 'another Temporal server',
  ) {
    super(`port ${port} is in use — is ${what} running? Set ${envVar}=<free port> to use another one${hint}`);
  }
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const env = options.env ?? process.env;
  const ip = options.ip ?? nonEmpty(env.TEMPORAL_DEV_IP) ?? '127.0.0.1';
  const port = options.port ?? portFromEnv(env, 'TEMPORAL_DEV_PORT') ?? 7233;
  const uiPort = options.uiPort ?? portFromEnv(env, 'TEMPORAL_UI_PORT') ?? 8233;
  const headless = options.headless ?? false;
  const namespace = options.namespace ?? nonEmpty(env.TEMPORAL_NAMESPACE) ?? 'default';
  const dbOption = options.dbFilename ?? env.TEMPORAL_DEV_DB ?? DEFAULT_DEV_SERVER_DB;
  const dbFilename = dbOption === '' ? undefined : path.resolve(dbOption);
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const cliPath = options.cliPath ?? resolveTemporalCliPath(env);
  const onOutput = options.onOutput ?? defaultOnOutput;
  const logFile = options.logFile ?? defaultDevServerLog(port);
  const connectHost = ip === '0.0.0.0' || ip === '::' ? '127.0.0.1' : ip;
  const address = hostPort(connectHost, port);
  const uiUrl = headless ? undefined : `http://${hostPort(connectHost, uiPort)}`;

  let lock: StateLock | undefined;
  if (dbFilename) {
    try {
      fs.mkdirSync(path.dirname(dbFilename), { recursive: true }); // the CLI does not create it
    } catch (err) {
      throw new DevServerError(
        `cannot create the folder of ${dbFilename} (TEMPORAL_DEV_DB): ${(err as Error).message}`,
      );
    }
    // One server per database: before the ports, so a second instance on other ports is refused too.
    lock = acquireStateLock(dbFilename, {
      ownerPid: process.pid,
      address,
      ...(uiUrl ? { uiUrl } : {}),
      startedAt: new Date().toISOString(),
    });
  }
  try {
    await assertPortFree(ip, port, 'TEMPORAL_DEV_PORT');
    if (!headless) await assertPortFree(ip, uiPort, 'TEMPORAL_UI_PORT');
  } catch (err) {
    lock?.release();
    throw err;
  }

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--namespace', namespace];
  args.push(...(headless ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (dbFilename) args.push('--db-filename', dbFilename);
  args.push(...devServerTuningArgs(dbFilename !== undefined, options.tuning));
  args.push('--log-level', 'warn', ...searchAttributeCliArgs(HITL_SEARCH_ATTRIBUTES));

  let log: fs.WriteStream | undefined;
  if (logFile) {
    fs.mkdirSync(path.dirname(path.resolve(logFile)), { recursive: true });
    log = fs.createWriteStream(logFile, { flags: 'w' });
    log.on('error', () => undefined); // the log is a convenience
    log.write(`$ ${cliPath} ${args.join(' ')}\n`);
  }
  const child = spawn(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  const tail: string[] = [];
  let stopRequested = false;
  forwardLines(child, (line, stream) => {
    log?.write(`${line}\n`);
    if (stream === 'stderr') {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
    }
    if (!stopRequested) onOutput(line, stream);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      log?.end();
      resolve({ code, signal });
    });
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new DevServerError(`cannot run ${cliPath}: ${err.message}`)));
  });

  // The server must not outlive us: SIGTERM it when this process exits (normally or through process.exit).
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.on('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (timeoutMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      stopRequested = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
        if ((await Promise.race([exited, timer])) === 'timeout') {
          child.kill('SIGKILL');
          await exited;
        }
      }
      process.removeListener('exit', killOnExit);
      removeSignalHandlers();
      removeInstanceFile(port, child.pid);
      lock?.release();
    })();
    return stopping;
  };

  let removeSignalHandlers = () => {};
  if (options.handleSignals ?? true) {
    const onSignal = (signal: NodeJS.Signals) => {
      void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    removeSignalHandlers = () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    };
  }

  try {
    await spawned;
    writeInstanceFile(port, { serverPid: child.pid, ownerPid: process.pid, address, dbFilename });
    const addedSearchAttributes = await waitUntilReady({ address, namespace, readyTimeoutMs, exited, tail });
    return {
      address,
      uiUrl,
      namespace,
      dbFilename,
      logFile: logFile ? path.resolve(logFile) : undefined,
      pid: child.pid as number,
      addedSearchAttributes,
      exited,
      stop,
    };
  } catch (err) {
    await stop(5_000);
    throw err;
  }
}

async function waitUntilReady(opts: {
  address: string;
  namespace: string;
  readyTimeoutMs: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  tail: string[];
}): Promise<string[]> {
  const deadline = Date.now() + opts.readyTimeoutMs;
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void opts.exited.then((info) => (exitInfo = info));
  const tailText = () => (opts.tail.length ? `\n--- server stderr (last lines) ---\n${opts.tail.join('\n')}` : '');
  let lastError: unknown;
  for (;;) {
    if (exitInfo) {
      const how = exitInfo.signal ? `signal ${exitInfo.signal}` : `code ${exitInfo.code}`;
      throw new DevServerError(`temporal server start-dev exited (${how}) before it was ready${tailText()}`);
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new DevServerError(
        `temporal server at ${opts.address} did not serve namespace ${opts.namespace} within ${opts.readyTimeoutMs} ms${why}${tailText()}`,
      );
    }
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address: opts.address, connectTimeout: '2s' });
      await connection.workflowService.describeNamespace({ namespace: opts.namespace });
      return await ensureSearchAttributes(connection, opts.namespace);
    } catch (err) {
      if (err instanceof SearchAttributeTypeMismatchError) throw err;
      lastError = err;
      await sleep(250);
    } finally {
      await connection?.close().catch(() => undefined);
    }
  }
}

/** Throws {@link PortInUseError} unless we can listen on ip:port right now. */
export async function assertPortFree(
  ip: string,
  port: number,
  envVar: string,
  what = 'another Temporal server',
): Promise<void> {
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ host: ip, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
  if (!error) return;
  if (error.code === 'EADDRINUSE') {
    throw new PortInUseError(port, envVar, what === 'another Temporal server' ? earlierServerHint(port) : '', what);
  }
  if (error.code === 'EACCES')
    throw new DevServerError(`port ${port} needs privileges; set ${envVar}=<port above 1024>`);
  if (error.code === 'EADDRNOTAVAIL') throw new DevServerError(`cannot bind ${ip}: no such local address`);
  throw new DevServerError(`cannot listen on ${hostPort(ip, port)}: ${error.message}`);
}

/** What `npm start` records about the dev server it runs on a port. */
interface InstanceRecord {
  serverPid: number | undefined;
  ownerPid: number;
  address: string;
  dbFilename: string | undefined;
}

/**
 * Who holds the port, when it is a dev server started from this repo: the server of a live launcher (not
 * a leftover, so the hint does not tell to kill it), or a leftover whose launcher is gone.
 */
function earlierServerHint(port: number): string {
  const record = readInstanceFile(port);
  if (record?.serverPid === undefined || !processAlive(record.serverPid)) return '';
  const state = record.dbFilename ? `, state in ${displayPath(record.dbFilename)}` : '';
  if (processAlive(record.ownerPid)) {
    return ` (the dev server of the npm start running as pid ${record.ownerPid}${state}; a second instance needs other ports and TEMPORAL_DEV_DB=<another file>)`;
  }
  return ` (a dev server left over from an npm start that is gone still runs as pid ${record.serverPid}: kill ${record.serverPid})`;
}

function writeInstanceFile(port: number, record: InstanceRecord): void {
  if (record.serverPid === undefined) return;
  try {
    fs.mkdirSync(TEMPORAL_DIR, { recursive: true });
    fs.writeFileSync(instanceFileOf(port), `${JSON.stringify(record)}\n`);
  } catch {
    // only used for a hint
  }
}

function readInstanceFile(port: number): InstanceRecord | undefined {
  try {
    const raw = JSON.parse(fs.readFileSync(instanceFileOf(port), 'utf8')) as Partial<InstanceRecord>;
    if (typeof raw.ownerPid !== 'number' || typeof raw.address !== 'string') return undefined;
    return {
      serverPid: typeof raw.serverPid === 'number' ? raw.serverPid : undefined,
      ownerPid: raw.ownerPid,
      address: raw.address,
      dbFilename: typeof raw.dbFilename === 'string' ? raw.dbFilename : undefined,
    };
  } catch {
    return undefined;
  }
}

function removeInstanceFile(port: number, serverPid: number | undefined): void {
  if (serverPid !== undefined && readInstanceFile(port)?.serverPid === serverPid) {
    fs.rmSync(instanceFileOf(port), { force: true });
  }
}

function forwardLines(child: ChildProcess, onLine: (line: string, stream: 'stdout' | 'stderr') => void): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    let buffered = '';
    const readable = child[stream];
    if (!readable) continue;
    readable.setEncoding('utf8');
    readable.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split(/\r?\n/);
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') onLine(line, stream);
    });
    readable.on('end', () => {
      if (buffered.trim() !== '') onLine(buffered, stream);
    });
  }
}

function defaultOnOutput(line: string, stream: 'stdout' | 'stderr'): void {
  // Log records look like `time=… level=WARN msg=…`; the start banner goes to stdout.
  if (stream === 'stderr' && !/\blevel=(DEBUG|INFO|WARN)\b/.test(line)) process.stderr.write(`[temporal] ${line}\n`);
}

function portFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DevServerError(`${name}=${raw} is not a port number (1-65535)`);
  }
  return port;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
