// A private PostgreSQL server for the tests (the content store's) and the benchmark (LangGraph's PostgreSQL
// checkpointer): `initdb` + `pg_ctl` in a temp folder, on a free port of 127.0.0.1, with a random password,
// stopped (and its folder removed) by `stop()` or, failing that, when the process exits. Nothing of the
// machine's own PostgreSQL (a running cluster, /var/run/postgresql) is used. Not part of the product.
//
// Binaries: `HITL_PG_BIN` (a folder), else `initdb` and `pg_ctl` on PATH, else Debian's
// /usr/lib/postgresql/<version>/bin (Debian's `postgresql` package puts them there, not on PATH).
// As root, initdb and pg_ctl refuse to run ("cannot be run as root"): they then run as the `postgres` user
// (created by Debian's package; `HITL_PG_USER` names another) through spawn's uid/gid, without su or sudo.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';

export class PostgresUnavailableError extends Error {
  override readonly name = 'PostgresUnavailableError';
}

export const INSTALL_HINT = "install Debian's postgresql package (apt-get install -y postgresql)";

export interface PostgresBinaries {
  initdb: string;
  pgCtl: string;
}

export interface StartPostgresOptions {
  /**
   * Keep PostgreSQL's own durability settings (fsync, synchronous_commit, full_page_writes on), as a real
   * deployment runs: the benchmark measures with them. Default false: the tests throw the server away, so
   * they turn durability off for speed.
   */
  durable?: boolean;
  /** Environment for `HITL_PG_BIN` / `HITL_PG_USER` and PATH; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export interface PostgresServer {
  host: string;
  port: number;
  /** Process id of the postmaster (its backends are its children): for CPU and memory figures. */
  pid: number;
  /** Server settings in force, e.g. `fsync = off` lines appended to postgresql.conf (none when durable). */
  settings: string[];
  user: string;
  password: string;
  /** Connection string of `database` (default `postgres`, the maintenance database). */
  connectionString(database?: string): string;
  /** Creates an empty database (a fresh name when none is given); returns its connection string. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (fast shutdown) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

export function findPostgresBinaries(env: NodeJS.ProcessEnv = process.env): PostgresBinaries {
  const candidates: string[] = [];
  if (env.HITL_PG_BIN) {
    candidates.push(env.HITL_PG_BIN);
  } else {
    candidates.push(...(env.PATH ?? '').split(path.delimiter).filter(Boolean));
    candidates.push(...debianBinDirs());
  }
  for (const dir of candidates) {
    const initdb = path.join(dir, 'initdb');
    const pgCtl = path.join(dir, 'pg_ctl');
    if (isExecutable(initdb) && isExecutable(pgCtl)) return { initdb, pgCtl };
  }
  const where = env.HITL_PG_BIN ? `in HITL_PG_BIN=${env.HITL_PG_BIN}` : 'on PATH or in /usr/lib/postgresql/*/bin';
  throw new PostgresUnavailableError(
    `PostgreSQL server binaries (initdb, pg_ctl) not found ${where}: ${INSTALL_HINT} or set HITL_PG_BIN`,
  );
}

/** Debian's layout, newest major version first. */
function debianBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = fs.readdirSync(root);
  } catch {
    return [];
  }
  return versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => path.join(root, v, 'bin'));
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

interface RunAs {
  uid: number;
  gid: number;
}

/** Who runs the server: ourselves, or as root the `postgres` user (PostgreSQL refuses to run as root). */
function serverAccount(env: NodeJS.ProcessEnv): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = env.HITL_PG_USER ?? 'postgres';
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new PostgresUnavailableError(
      `running as root, and PostgreSQL refuses root: no user ${JSON.stringify(name)} to run it as; ${INSTALL_HINT} (it creates the postgres user) or set HITL_PG_USER`,
    );
  }
}

const live = new Set<() => void>();
let exitHookInstalled = false;

/** Starts a private server; rejects with {@link PostgresUnavailableError} (one line) when it cannot. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const env = options.env ?? process.env;
  const bin = findPostgresBinaries(env);
  const account = serverAccount(env);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hitl-pg-'));
  const dataDir = path.join(root, 'data');
  const logFile = path.join(root, 'server.log');
  const password = randomBytes(18).toString('base64url');
  // The server's own account must own its folder; the cwd too must be one it can read (initdb resolves it).
  const run = (file: string, args: string[]) => runTool(file, args, { cwd: root, account });
  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    live.delete(stopNow);
    spawnSync(bin.pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w'], spawnOptions(root, account));
    fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    fs.writeFileSync(path.join(root, 'pwfile'), `${password}\n`, { mode: 0o600 });
    if (account) {
      fs.chownSync(root, account.uid, account.gid);
      fs.chownSync(path.join(root, 'pwfile'), account.uid, account.gid);
    }
    await run(bin.initdb, [
      '-D',
      dataDir,
      '-U',
      'postgres',
      `--pwfile=${path.join(root, 'pwfile')}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-locale',
      '--no-sync',
    ]);
    // TCP on 127.0.0.1 only; the socket in our folder (Debian's default /var/run/postgresql may not exist);
    // durability off unless asked for: a test server is thrown away.
    const settings = options.durable ? [] : ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off'];
    fs.appendFileSync(
      path.join(dataDir, 'postgresql.conf'),
      ['', "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${root}'`, ...settings, ''].join('\n'),
    );
    const port = await startOnFreePort(run, bin.pgCtl, dataDir, logFile);
    live.add(stopNow);
    installExitHook();
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return makeServer(port, pid, settings, password, async () => {
      if (stopped) return;
      stopped = true;
      live.delete(stopNow);
      await run(bin.pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60']).catch(() =>
        spawnSync(bin.pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w'], spawnOptions(root, account)),
      );
      fs.rmSync(root, { recursive: true, force: true });
    });
  } catch (error) {
    stopNow();
    throw error;
  }
}

/** A port can be taken between our probe and the server's bind: try a few. */
async function startOnFreePort(
  run: (file: string, args: string[]) => Promise<void>,
  pgCtl: string,
  dataDir: string,
  logFile: string,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await run(pgCtl, ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port}`]);
      return port;
    } catch (error) {
      const log = readTail(logFile);
      if (attempt < 5 && /could not bind|address already in use/i.test(log)) continue;
      throw new PostgresUnavailableError(
        `pg_ctl start failed: ${(error as Error).message.split('\n')[0]}; server log: ${log.replace(/\s+/g, ' ').slice(-500)}`,
      );
    }
  }
}

function makeServer(
  port: number,
  pid: number,
  settings: string[],
  password: string,
  stop: () => Promise<void>,
): PostgresServer {
  const host = '127.0.0.1';
  const user = 'postgres';
  const connectionString = (database = 'postgres') =>
    `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
  let databases = 0;
  return {
    host,
    port,
    pid,
    settings,
    user,
    password,
    connectionString,
    async createDatabase(name = `test_${process.pid}_${++databases}`) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      const client = new Client({ connectionString: connectionString() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return connectionString(name);
    },
    stop,
  };
}

function spawnOptions(cwd: string, account: RunAs | undefined) {
  // A clean environment: the caller's PGDATA/PGPORT/locale must not leak into the server.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', HOME: cwd };
  return { cwd, env, ...(account ?? {}) };
}

function runTool(file: string, args: string[], options: { cwd: string; account: RunAs | undefined }): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, spawnOptions(options.cwd, options.account), (error, _stdout, stderr) => {
      if (!error) return resolve();
      const detail = stderr.trim().split('\n').slice(-3).join(' | ');
      reject(new PostgresUnavailableError(`${path.basename(file)} failed: ${detail || error.message}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function readTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

/** Servers still running when the process exits (a failed hook, Ctrl-C through mocha) are stopped too. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const stop of [...live]) stop();
  });
}
