// What the figures were measured on: machine, versions, memory of a process, bytes of a SQLite file.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, resolveTemporalCliPath } from '../../src/dev/temporal-cli';
import { median, MIB, sleep } from './stats';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryMiB: number;
  node: string;
  platform: string;
  kernel: string;
  /** 1-minute load average when the benchmark started (other work on the machine skews the figures). */
  loadAverageAtStart: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryMiB: Math.round(os.totalmem() / MIB),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    loadAverageAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

function packageVersion(name: string): string | undefined {
  try {
    const file = path.join(REPO_ROOT, 'node_modules', name, 'package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    out['temporal CLI'] = execFileSync(resolveTemporalCliPath(), ['--version'], { encoding: 'utf8' }).trim();
  } catch (err) {
    out['temporal CLI'] = `unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
  for (const name of [
    '@temporalio/client',
    '@temporalio/worker',
    '@temporalio/workflow',
    '@langchain/langgraph',
    '@langchain/langgraph-checkpoint',
    '@langchain/langgraph-checkpoint-postgres',
    '@langchain/langgraph-checkpoint-sqlite',
    'pg',
    '@langchain/core',
    'better-sqlite3',
    'zod',
  ]) {
    out[name] = packageVersion(name) ?? 'not installed';
  }
  return out;
}

/** Resident set size of a process in MiB (VmRSS of /proc/<pid>/status); NaN when it cannot be read. */
export function rssMiB(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Median of a few RSS readings a moment apart (RSS moves with GC). */
export async function sampleRssMiB(pid: number, samples = 3, gapMs = 500): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(gapMs);
    values.push(rssMiB(pid));
  }
  return median(values);
}

/** Bytes of a SQLite database on disk: the main file plus its -wal and -shm files. */
export function sqliteFileBytes(file: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += fs.statSync(file + suffix).size;
    } catch {
      // absent
    }
  }
  return total;
}

export interface SqliteUsage {
  /** Pages in use × page size, as a reader sees the database (WAL included, free pages excluded). */
  usedBytes: number;
  /** Bytes per table and index (dbstat), largest first. */
  byTable: Record<string, number>;
}

type Db = {
  prepare(sql: string): { get(): unknown; all(): unknown[] };
  close(): void;
};

/**
 * What a SQLite database holds, read through better-sqlite3 (read-only, next to the live writer: WAL mode
 * allows it). Undefined when better-sqlite3 is not installed.
 */
export function sqliteUsage(file: string): SqliteUsage | undefined {
  let Database: new (file: string, options: { readonly: boolean; fileMustExist: boolean }) => Db;
  try {
    // Optional (native) dependency, loaded only when present.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Database = require('better-sqlite3') as typeof Database;
  } catch {
    return undefined;
  }
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const pageSize = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
    const pageCount = (db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;
    const freelist = (db.prepare('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count;
    const byTable: Record<string, number> = {};
    try {
      const rows = db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all();
      for (const row of rows as { name: string; bytes: number }[]) byTable[row.name] = row.bytes;
    } catch {
      // dbstat not compiled in
    }
    return { usedBytes: (pageCount - freelist) * pageSize, byTable };
  } finally {
    db.close();
  }
}

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat (getconf CLK_TCK; 100 on Linux unless told otherwise). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU time (user + system, every thread) a process has used so far, in ms, from /proc/<pid>/stat; NaN when
 * it cannot be read. Resolution: one clock tick (10 ms), so measure over many cycles.
 */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  if (!fields) return Number.NaN;
  return ownCpuMs(fields);
}

/** utime + stime of a stat file's fields, in ms. */
function ownCpuMs(fields: readonly string[]): number {
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
}

/**
 * CPU time (ms) of each thread of a process so far, summed by thread name (/proc/<pid>/task/<tid>/stat):
 * `node (main)` is the main thread, `node` the rest of Node's threads (the SDK's workflow thread, V8's
 * helpers), `tokio-runtime-w` the SDK core's Rust threads. Threads that exited in between are not counted.
 */
export function threadCpuMs(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tids) {
    const stat = readStat(`/proc/${pid}/task/${tid}/stat`);
    if (!stat) continue; // the thread ended
    // Node's own threads are all called `node`: tell the main thread apart.
    const name = tid === String(pid) ? `${stat.comm} (main)` : stat.comm;
    byName.set(name, (byName.get(name) ?? 0) + ownCpuMs(stat.fields));
  }
  return byName;
}

/**
 * A /proc stat file: the command name, and the fields after it (so index 0 is the state, 1 the ppid, 11
 * utime); undefined when it cannot be read (the process or thread ended).
 */
function readStat(file: string): { comm: string; fields: string[] } | undefined {
  try {
    const stat = fs.readFileSync(file, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    const end = stat.lastIndexOf(')');
    return { comm: stat.slice(stat.indexOf('(') + 1, end), fields: stat.slice(end + 2).split(' ') };
  } catch {
    return undefined;
  }
}

function statFields(pid: number): string[] | undefined {
  return readStat(`/proc/${pid}/stat`)?.fields;
}

/** True while `pid` runs; a zombie waiting for its parent to reap it counts as gone. */
export function isRunning(pid: number): boolean {
  const fields = statFields(pid);
  return fields !== undefined && fields[0] !== 'Z';
}

/** The processes `pid` started, and theirs, now (from /proc; empty when there are none). */
export function descendantPids(pid: number): number[] {
  const childrenOf = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  for (const entry of entries) {
    const fields = statFields(Number(entry));
    if (!fields) continue; // the process ended meanwhile
    const ppid = Number(fields[1]);
    childrenOf.set(ppid, [...(childrenOf.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [...(childrenOf.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift()!;
    found.push(next);
    queue.push(...(childrenOf.get(next) ?? []));
  }
  return found;
}

/**
 * CPU time (ms) of a process and its children, e.g. a PostgreSQL postmaster and its backends: the root's
 * own time plus the time of the children it has reaped (cutime + cstime), plus the time of each live
 * descendant. A backend that exits moves its time from the second part to the first, so a difference
 * over an interval counts it once. NaN when the root cannot be read.
 */
export function processTreeCpuMs(rootPid: number): number {
  const root = statFields(rootPid);
  if (!root) return Number.NaN;
  let ticks = Number(root[11]) + Number(root[12]) + Number(root[13]) + Number(root[14]);
  for (const pid of descendantPids(rootPid)) {
    const fields = statFields(pid);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / ticksPerSecond();
}
