// `npm run bench [-- --quick] [-- --parts main,waiting,tuning] [-- --trials N] [-- --out file.json]`
//
// Approval latency, throughput and the cost of a paused run for temporal-hitl, side by side with the
// platform floor (the minimal same-shape Temporal workflow on the same server: what Temporal itself costs),
// the floor writing the product's events (what the wire contract's writes cost the platform; checked to write
// the same events as ours before anything is measured) and with the same flow in LangGraph JS (PostgreSQL
// checkpointer — the durable peer —, SQLite checkpointer, and its in-memory saver for the price of
// durability), in one run on this machine. Starts its own Temporal
// dev server (free ports, SQLite file in a temp folder), worker child and PostgreSQL (initdb + pg_ctl in a
// temp folder; that side is skipped, with a line saying so, when PostgreSQL is not installed); never
// touches 7233/8233 or .temporal/dev.db. See docs/benchmarks.md.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Client as PgClient } from 'pg';
import type { DevServer, DevServerTuning } from '../src/dev/dev-server';
import { DEFAULT_WORKER_MAX_CACHED_WORKFLOWS } from '../src/worker';
import { startPostgres, type PostgresServer } from '../src/dev/private-postgres';
import { checkShapes } from './floor/shape-check';
import { FLOOR_NAME, FloorFlow, SHAPED_FLOOR_NAME, startFloorWorker } from './floor/side';
import {
  createLangGraphSide,
  LANGGRAPH_NAMES,
  loadSqliteSaver,
  type LangGraphSide,
  type SaverKind,
} from './langgraph/side';
import {
  alternatingIdle,
  closedLoop,
  interleavedClosedLoops,
  turnOrder,
  cyclesPerSecondOneAtATime,
  emptySamples,
  nextIndex,
  openLoop,
  pool,
  summarize,
  type Flow,
  type PausedRun,
  type SamplePercentiles,
} from './lib/load';
import { compileBenchWorker } from './lib/compiled';
import {
  cpuMs,
  machineInfo,
  processTreeCpuMs,
  rssMiB,
  type MachineInfo,
  sampleRssMiB,
  sqliteFileBytes,
  sqliteUsage,
  versions,
} from './lib/machine';
import { ratioTargetsText, renderTable, type Cell, type Row } from './lib/report';
import {
  medianOf,
  medianOfTrials,
  now,
  round,
  sleep,
  type Percentiles,
  pairedRatio,
  type TrialPercentiles,
  type TrialValues,
} from './lib/stats';
import {
  connectBenchClient,
  startBenchServer,
  startWorkerChild,
  startWorkerInProcess,
  TemporalFlow,
  workerConfig,
  workflowBundlePath,
  HISTORY_WAIT,
  TUNED_WAIT,
  TUNED_WORKER_OPTIONS,
  UPDATE_WAIT,
  useBenchContentStore,
  type BenchWorkerHandle,
  type TemporalFlowOptions,
} from './temporal/side';
import type { BenchWorkerOptions } from './temporal/worker';

// ---------------------------------------------------------------------------------------------------------
// Settings

/** Bigger slot and poller counts, compared in the tuning experiment. */
const MORE_SLOTS: BenchWorkerOptions = {
  maxConcurrentWorkflowTaskExecutions: 100,
  maxConcurrentWorkflowTaskPolls: 20,
  maxConcurrentActivityTaskExecutions: 200,
  maxConcurrentActivityTaskPolls: 20,
};

interface Settings {
  quick: boolean;
  trials: number;
  /** Measured seconds of a side's closed loop at one concurrency per trial, and each block's uncounted warm-up. */
  seconds: number;
  /**
   * The closed loops' measured seconds are split into this many blocks per side and trial, the sides taking
   * turns block by block (`interleavedClosedLoops`; absent in runs before 2026-11-27T21Z: one block).
   */
  loopBlocks: number;
  /**
   * A block's window lasts at least this many whole cycles of its warm-up (at 100 concurrent a cycle takes
   * ~10 s on this machine; absent in runs before 2026-11-27T22:30Z: the window was `seconds / loopBlocks`).
   */
  loopWindowCycles: number;
  warmupSeconds: number;
  /** Idle latencies: this many cycles per side and trial, the sides taking turns cycle by cycle. */
  idleCycles: number;
  concurrencies: number[];
  /** Steady offered load = this fraction of our saturation throughput, offered to every side. */
  steadyFraction: number;
  steadySeconds: number;
  /** Paused runs at once, for the cost of waiting. */
  waitingLevels: number[];
  /** maxCachedWorkflows of the waiting worker: small, so most paused runs are evicted and resumes replay. */
  waitingCacheSize: number;
  /** Runs resolved one at a time per trial while that many are paused. */
  resolveSamples: number;
  /** Starts in flight while filling. */
  fillConcurrency: number;
  tuningSeconds: number;
  /** CPU per cycle: this many cycles at `cpuConcurrency`, per side and trial. */
  cpuCycles: number;
  /**
   * The CPU cycles of a trial in this many blocks per side, the sides taking turns block by block (absent in
   * runs before 2026-11-27T21:38Z: one block).
   */
  cpuBlocks: number;
  cpuConcurrency: number;
  /** Concurrencies of the tuning experiments (throughput-bound ones use the last). */
  tuningConcurrencies: [number, number];
  parts: Set<Part>;
  /** Tuning experiments to run (undefined: all). */
  experiments: Set<string> | undefined;
}

type Part = 'main' | 'waiting' | 'tuning';

function settingsFrom(
  argv: string[],
): Settings & { out: string | undefined; keep: boolean; render: string | undefined } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      trials: { type: 'string' },
      parts: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      /** Re-print the table of an earlier run from its JSON file (measures nothing). */
      render: { type: 'string' },
      /** Only these tuning experiments (comma-separated names), e.g. sticky-cache. */
      experiments: { type: 'string' },
    },
    allowPositionals: false,
  });
  const quick = values.quick ?? false;
  const parts = new Set(
    (values.parts ?? (quick ? 'main,waiting' : 'main,waiting,tuning')).split(',').map((p) => p.trim()) as Part[],
  );
  for (const part of parts) {
    if (!['main', 'waiting', 'tuning'].includes(part))
      throw new Error(`unknown part "${part}" (main, waiting, tuning)`);
  }
  const trials = values.trials !== undefined ? Number(values.trials) : quick ? 1 : 3;
  if (!Number.isInteger(trials) || trials < 1) throw new Error('--trials must be a positive integer');
  const base = quick
    ? {
        concurrencies: [1, 10],
        idleCycles: 8,
        seconds: 1.5,
        loopBlocks: 1,
        loopWindowCycles: 0,
        warmupSeconds: 0.5,
        steadySeconds: 1.5,
        waitingLevels: [20, 60],
        waitingCacheSize: 10,
        resolveSamples: 5,
        cpuCycles: 30,
        cpuBlocks: 1,
        tuningSeconds: 1.5,
        tuningConcurrencies: [1, 10] as [number, number],
      }
    : {
        concurrencies: [1, 10, 100],
        idleCycles: 60,
        seconds: 12,
        loopBlocks: 2,
        loopWindowCycles: 3,
        warmupSeconds: 2,
        steadySeconds: 10,
        waitingLevels: [1000, 10_000],
        waitingCacheSize: 100,
        resolveSamples: 30,
        cpuCycles: 300,
        cpuBlocks: 3,
        tuningSeconds: 5,
        tuningConcurrencies: [1, 50] as [number, number],
      };
  return {
    quick,
    trials,
    steadyFraction: 0.5,
    fillConcurrency: 50,
    cpuConcurrency: 10,
    parts,
    experiments: values.experiments ? new Set(values.experiments.split(',').map((e) => e.trim())) : undefined,
    out: values.out,
    keep: values.keep ?? false,
    render: values.render,
    ...base,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Result shapes (the JSON file)

interface LatencyFigures {
  startToPaused: TrialPercentiles;
  resolveToAck?: TrialPercentiles;
  resolveToTool: TrialPercentiles;
  resolveToDone: TrialPercentiles;
}

interface SideMain {
  name: string;
  /**
   * Cycles per second by concurrency: closed loops, except at 1 from the idle cycles (`method`; before
   * 2026-11-27T16Z a closed loop of its own too).
   */
  throughput: Record<string, TrialValues & { errors: number; method?: 'idle cycles' }>;
  /** By concurrency: the closed-loop runs' latencies (the largest is "saturation"; c=1 was "idle" before `idle`). */
  closedLoop: Record<string, LatencyFigures>;
  /** Idle latencies, the sides taking turns cycle by cycle (absent before 2026-11-27T14Z: closedLoop['1']). */
  idle?: LatencyFigures & { cyclesPerTrial: number; errors: number };
  steady?: LatencyFigures & { ratePerSecond: number; maxInFlight: number[]; errors: number };
}

/** CPU time per approve cycle (ms), by process; medians over trials. */
interface SideCpu {
  cycles: number;
  concurrency: number;
  server?: TrialValues;
  worker?: TrialValues;
  /** The harness process: the client (and, for LangGraph, everything). */
  client: TrialValues;
}

interface WaitingLevel {
  paused: number;
  /** Starts that reached the pause per second while filling (fill concurrency in the settings). */
  fillPausesPerSecond: number;
  workerRssMiB?: number;
  serverRssMiB?: number;
  /** The harness process (LangGraph runs inside it). */
  processRssMiB?: number;
  /** V8 heap after GC per paused run (LangGraph MemorySaver keeps everything there). */
  heapBytesPerPausedRun?: number;
  dbBytesPerPausedRun?: number;
  dbFileBytesPerPausedRun?: number;
  dbLargestTablesBytes?: Record<string, number>;
  resolve: LatencyFigures;
}

interface SideWaiting {
  name: string;
  baseline: { workerRssMiB?: number; serverRssMiB?: number; processRssMiB?: number; dbBytes?: number };
  levels: WaitingLevel[];
}

interface TuningConfigResult {
  label: string;
  settings: unknown;
  throughput: Record<string, TrialValues>;
  latency: Record<string, { startToPaused: TrialPercentiles; resolveToDone: TrialPercentiles }>;
  /** Experiments that compare workers (compiled-worker): the worker process's own figures, medians of trials. */
  worker?: WorkerFigures;
}

interface WorkerFigures {
  /** From starting the worker child to its first poll ("ready"). */
  startMs: TrialValues;
  /** After the warm-up cycles, before the closed loops. */
  rssIdleMiB: TrialValues;
  /** After the closed loops and the CPU cycles. */
  rssAfterLoadMiB: TrialValues;
  /** The worker's CPU time (user + system) per approve cycle: `cycles` cycles at `concurrency`. */
  cpuMsPerCycle: TrialValues;
  cycles: number;
  concurrency: number;
}

interface TuningExperiment {
  name: string;
  question: string;
  configs: TuningConfigResult[];
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function figures(trials: SamplePercentiles[]): LatencyFigures {
  const acks = trials.map((t) => t.resolveToAck).filter((p): p is Percentiles => p !== undefined);
  return {
    startToPaused: medianOfTrials(trials.map((t) => t.startToPaused)),
    ...(acks.length ? { resolveToAck: medianOfTrials(acks) } : {}),
    resolveToTool: medianOfTrials(trials.map((t) => t.resolveToTool)),
    resolveToDone: medianOfTrials(trials.map((t) => t.resolveToDone)),
  };
}

/** Forced GC for heap figures (the flag can be set at run time; the function comes from a fresh context). */
function forceGc(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
}

function shuffleTake<T>(items: T[], count: number, from: number, to: number): T[] {
  const taken: T[] = [];
  for (let i = 0; i < count && to > from; i++) {
    const index = from + Math.floor(Math.random() * (to - from));
    taken.push(items.splice(index, 1)[0]!);
    to -= 1;
  }
  return taken;
}

// ---------------------------------------------------------------------------------------------------------
// Phases

interface Env {
  settings: Settings;
  workDir: string;
  bundle: string;
  sandboxDir: string;
  sqlite: { ok: true } | { ok: false; reason: string };
  /** The private PostgreSQL of LangGraph's PostgreSQL checkpointer, or why that side is skipped. */
  postgres: { ok: true; server: PostgresServer; version: string } | { ok: false; reason: string };
  cleanups: (() => Promise<void>)[];
}

/** What the run says of the PostgreSQL side (the JSON's `langGraphPostgres`). */
interface PostgresStatus {
  ok: boolean;
  reason?: string;
  version?: string;
  settings?: string;
}

function postgresStatus(env: Env): PostgresStatus {
  return env.postgres.ok
    ? {
        ok: true,
        version: env.postgres.version,
        settings:
          'PostgreSQL defaults (fsync, synchronous_commit, full_page_writes on); 127.0.0.1, private temp folder',
      }
    : { ok: false, reason: env.postgres.reason };
}

/** Starts the private PostgreSQL (durable settings) and reads its version; on any failure, says why. */
async function startBenchPostgres(): Promise<Env['postgres']> {
  let server: PostgresServer | undefined;
  try {
    server = await startPostgres({ durable: true });
    const client = new PgClient({ connectionString: server.connectionString() });
    await client.connect();
    try {
      const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
      return { ok: true, server, version: rows[0]?.server_version ?? 'unknown' };
    } finally {
      await client.end();
    }
  } catch (err) {
    await server?.stop().catch(() => undefined);
    return { ok: false, reason: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
  }
}

interface TemporalStack {
  server: DevServer;
  worker: BenchWorkerHandle;
  flow: TemporalFlow;
  stop(): Promise<void>;
}

async function startTemporalStack(
  env: Env,
  name: string,
  options: BenchWorkerOptions,
  flowOptions: TemporalFlowOptions,
  extra: {
    inProcess?: boolean;
    /** A worker child entry other than bench/temporal/worker.ts (a `.js` one runs without ts-node). */
    workerEntry?: string;
    server?: DevServer;
    taskQueue?: string;
    inMemoryServer?: boolean;
    serverTuning?: DevServerTuning;
  } = {},
): Promise<TemporalStack> {
  const server =
    extra.server ??
    (await startBenchServer(env.workDir, name, { inMemory: extra.inMemoryServer, tuning: extra.serverTuning }));
  const taskQueue = extra.taskQueue ?? `bench-${name}-${Date.now().toString(36)}`;
  const config = workerConfig(server, taskQueue, env.bundle, env.sandboxDir, options);
  const worker = extra.inProcess
    ? await startWorkerInProcess(config)
    : await startWorkerChild(config, ...(extra.workerEntry !== undefined ? [extra.workerEntry] : []));
  const { client, close } = await connectBenchClient(server, extra.inProcess ? worker : undefined);
  const flow = new TemporalFlow(client, taskQueue, worker.clock, flowOptions);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await close().catch(() => undefined);
      await worker.stop().catch(() => undefined);
      if (!extra.server) await server.stop().catch(() => undefined);
    })();
    return stopping;
  };
  env.cleanups.push(stop);
  return { server, worker, flow, stop };
}

/** A few cycles that are not measured: connections, JIT, caches. */
async function warmUp(flow: Flow, cycles: number): Promise<void> {
  await pool(
    Array.from({ length: cycles }, (_, i) => i),
    Math.min(10, cycles),
    async () => {
      const paused = await flow.begin(nextIndex());
      await flow.finish(paused);
    },
  );
}

async function mainPhase(env: Env, sides: Flow[], results: Record<string, SideMain>): Promise<number> {
  const { settings } = env;
  const perSide = new Map<string, Map<number, { samples: SamplePercentiles[]; cps: number[]; errors: number }>>();
  for (const side of sides) {
    log(`warming up ${side.name}`);
    await warmUp(side, settings.quick ? 5 : 20);
    perSide.set(side.name, new Map(settings.concurrencies.map((c) => [c, { samples: [], cps: [], errors: 0 }])));
  }
  // Throughput at 1 concurrent comes from the idle cycles (the sides taking turns); closed loops for the rest.
  const loopConcurrencies = settings.concurrencies.filter((c) => c !== 1);
  // Trial-major, sides interleaved: noise on the machine spreads over every side alike.
  const idle = sides.map(() => ({ samples: [] as SamplePercentiles[], errors: 0 }));
  for (let trial = 1; trial <= settings.trials; trial++) {
    const idleResults = await alternatingIdle(sides, settings.idleCycles);
    for (const [i, result] of idleResults.entries()) {
      idle[i]!.samples.push(summarize(result.samples));
      idle[i]!.errors += result.errors;
      const oneAtATime = perSide.get(sides[i]!.name)!.get(1);
      oneAtATime?.cps.push(cyclesPerSecondOneAtATime(result));
      if (oneAtATime) oneAtATime.errors += result.errors;
      log(
        `trial ${trial} ${sides[i]!.name} idle (${settings.idleCycles} cycles, sides alternating): start → paused p50 ` +
          `${round(idle[i]!.samples.at(-1)!.startToPaused.p50)} ms, ${round(cyclesPerSecondOneAtATime(result))} cycles/s` +
          (result.errors ? `, ${result.errors} errors (${result.firstError})` : ''),
      );
    }
    for (const concurrency of loopConcurrencies) {
      const loopResults = await interleavedClosedLoops(
        sides,
        {
          concurrency,
          blocks: settings.loopBlocks,
          seconds: settings.seconds / settings.loopBlocks,
          warmupSeconds: settings.warmupSeconds,
          windowCycles: settings.loopWindowCycles,
        },
        (side, block, result) =>
          log(
            `trial ${trial} ${side.name} c=${concurrency} block ${block + 1}/${settings.loopBlocks}: ` +
              `${round(result.cyclesPerSecond)} cycles/s (${result.completed} cycles in ${round(result.seconds, 1)} s)` +
              (result.errors ? `, ${result.errors} errors (${result.firstError})` : ''),
          ),
      );
      for (const [i, result] of loopResults.entries()) {
        const slot = perSide.get(sides[i]!.name)!.get(concurrency)!;
        slot.samples.push(summarize(result.samples));
        slot.cps.push(result.cyclesPerSecond);
        slot.errors += result.errors;
        log(`trial ${trial} ${sides[i]!.name} c=${concurrency}: ${round(result.cyclesPerSecond)} cycles/s`);
      }
    }
  }
  for (const [i, side] of sides.entries()) {
    const bySide = perSide.get(side.name)!;
    results[side.name] = {
      name: side.name,
      throughput: Object.fromEntries(
        [...bySide].map(([c, slot]) => [
          String(c),
          { ...medianOf(slot.cps), errors: slot.errors, ...(c === 1 ? { method: 'idle cycles' as const } : {}) },
        ]),
      ),
      closedLoop: Object.fromEntries(
        [...bySide].filter(([c]) => c !== 1).map(([c, slot]) => [String(c), figures(slot.samples)]),
      ),
      idle: { ...figures(idle[i]!.samples), cyclesPerTrial: settings.idleCycles, errors: idle[i]!.errors },
    };
  }
  // Steady offered load: the same absolute rate for every side, a fraction of our saturation throughput.
  const ours = results[sides[0]!.name]!;
  const saturation = Math.max(...Object.values(ours.throughput).map((t) => t.median));
  const rate = Math.max(1, round(saturation * settings.steadyFraction, 1));
  const steady = new Map<string, { samples: SamplePercentiles[]; maxInFlight: number[]; errors: number }>();
  for (const side of sides) steady.set(side.name, { samples: [], maxInFlight: [], errors: 0 });
  for (let trial = 1; trial <= settings.trials; trial++) {
    for (const side of sides) {
      const result = await openLoop(side, {
        ratePerSecond: rate,
        seconds: settings.steadySeconds,
        warmupSeconds: settings.warmupSeconds,
      });
      const slot = steady.get(side.name)!;
      slot.samples.push(summarize(result.samples));
      slot.maxInFlight.push(result.maxInFlight);
      slot.errors += result.errors;
      log(
        `trial ${trial} ${side.name} steady ${rate}/s: ${result.completed}/${result.offered} completed, at most ${result.maxInFlight} in flight` +
          (result.errors ? `, ${result.errors} errors (${result.firstError})` : ''),
      );
    }
  }
  for (const side of sides) {
    const slot = steady.get(side.name)!;
    results[side.name]!.steady = {
      ...figures(slot.samples),
      ratePerSecond: rate,
      maxInFlight: slot.maxInFlight,
      errors: slot.errors,
    };
  }
  return rate;
}

interface CpuProbe {
  flow: Flow;
  /** CPU time (ms) so far of the server side: the Temporal server, or PostgreSQL with its backends. */
  serverCpuMs?: () => number;
  workerPid?: number;
}

/**
 * CPU per cycle by process: /proc/<pid>/stat of the server and the worker (and process.cpuUsage() of the
 * harness, i.e. the client) before and after each block of a fixed number of cycles per trial (`cpuBlocks` blocks,
 * the sides taking turns block by block, every other round in reverse), added up per side and trial. The
 * server and the harness also do a little idle work for the other sides meanwhile (pollers, timers): the
 * same for every side, and small against a cycle's cost.
 */
async function cpuPhase(env: Env, probes: CpuProbe[], results: Record<string, SideCpu>): Promise<void> {
  const { cpuCycles: cycles, cpuConcurrency: concurrency, cpuBlocks: blocks, trials } = env.settings;
  const acc = probes.map(() => ({ server: [] as number[], worker: [] as number[], client: [] as number[] }));
  for (let trial = 1; trial <= trials; trial++) {
    // The trial's cycles in blocks, the sides taking turns (every other round in reverse), as the closed loops.
    const used = probes.map(() => ({ server: 0, worker: 0, client: 0, done: 0, errors: 0 }));
    for (let block = 0; block < blocks; block++) {
      const blockCycles = Math.floor(cycles / blocks) + (block < cycles % blocks ? 1 : 0);
      for (const i of turnOrder(probes.length, block)) {
        const probe = probes[i]!;
        const server0 = probe.serverCpuMs ? probe.serverCpuMs() : Number.NaN;
        const worker0 = probe.workerPid !== undefined ? cpuMs(probe.workerPid) : Number.NaN;
        const client0 = process.cpuUsage();
        let errors = 0;
        await pool(
          Array.from({ length: blockCycles }, (_, n) => n),
          concurrency,
          async () => {
            try {
              await probe.flow.finish(await probe.flow.begin(nextIndex()));
            } catch {
              errors += 1;
            }
          },
        );
        const client = process.cpuUsage(client0);
        const into = used[i]!;
        if (probe.serverCpuMs) into.server += probe.serverCpuMs() - server0;
        if (probe.workerPid !== undefined) into.worker += cpuMs(probe.workerPid) - worker0;
        into.client += (client.user + client.system) / 1000;
        into.done += blockCycles - errors;
        into.errors += errors;
      }
    }
    for (const [i, probe] of probes.entries()) {
      const slot = acc[i]!;
      const { done, errors } = used[i]!;
      if (probe.serverCpuMs) slot.server.push(used[i]!.server / done);
      if (probe.workerPid !== undefined) slot.worker.push(used[i]!.worker / done);
      slot.client.push(used[i]!.client / done);
      log(
        `trial ${trial} ${probe.flow.name} CPU per cycle (${cycles} cycles in ${blocks} block(s), ${concurrency} concurrent): ` +
          [
            probe.serverCpuMs ? `server ${round(slot.server.at(-1)!)} ms` : '',
            probe.workerPid !== undefined ? `worker ${round(slot.worker.at(-1)!)} ms` : '',
            `client ${round(slot.client.at(-1)!)} ms`,
          ]
            .filter(Boolean)
            .join(', ') +
          (errors ? `, ${errors} errors` : ''),
      );
    }
  }
  for (const [i, probe] of probes.entries()) {
    const slot = acc[i]!;
    results[probe.flow.name] = {
      cycles,
      concurrency,
      ...(slot.server.length ? { server: medianOf(slot.server) } : {}),
      ...(slot.worker.length ? { worker: medianOf(slot.worker) } : {}),
      client: medianOf(slot.client),
    };
  }
}

interface WaitingProbe {
  name: string;
  flow: Flow;
  /** Memory and bytes at this moment. */
  measure(): Promise<
    Omit<WaitingLevel, 'paused' | 'fillPausesPerSecond' | 'resolve'> & { dbBytes?: number; dbFileBytes?: number }
  >;
  /** Runs started from this index on are the most recently touched (and so maybe cached). */
  recentlyTouched: number;
}

async function waitingPhase(env: Env, probe: WaitingProbe): Promise<SideWaiting> {
  const { settings } = env;
  await warmUp(probe.flow, settings.quick ? 3 : 10);
  await sleep(settings.quick ? 300 : 1000);
  const base = await probe.measure();
  const paused: PausedRun[] = [];
  let created = 0;
  const levels: WaitingLevel[] = [];
  for (const level of settings.waitingLevels) {
    const need = level - paused.length;
    log(`${probe.name}: pausing ${need} more runs (to ${level})`);
    const t0 = now();
    const more = await pool(
      Array.from({ length: need }, (_, i) => i),
      settings.fillConcurrency,
      () => probe.flow.begin(nextIndex()),
    );
    const fillSeconds = (now() - t0) / 1000;
    paused.push(...more);
    created += more.length;
    await sleep(settings.quick ? 500 : 2000);
    const at = await probe.measure();
    const trialSamples: SamplePercentiles[] = [];
    for (let trial = 1; trial <= settings.trials; trial++) {
      const samples = emptySamples();
      // Runs not touched lately: evicted from a small worker cache, so the resume replays their history.
      const picked = shuffleTake(
        paused,
        settings.resolveSamples,
        0,
        Math.max(0, paused.length - probe.recentlyTouched),
      );
      for (const run of picked) {
        const done = await probe.flow.finish(run);
        if (done.tAck !== undefined) samples.resolveToAck.push(done.tAck - done.tResolve);
        samples.resolveToTool.push(done.tTool - done.tResolve);
        samples.resolveToDone.push(done.tDone - done.tResolve);
        samples.startToPaused.push(Number.NaN);
      }
      trialSamples.push(summarize(samples));
    }
    const resolve = figures(trialSamples);
    delete (resolve as Partial<LatencyFigures>).startToPaused;
    levels.push({
      paused: level,
      fillPausesPerSecond: round(need / fillSeconds, 1),
      ...(at.workerRssMiB !== undefined ? { workerRssMiB: round(at.workerRssMiB, 1) } : {}),
      ...(at.serverRssMiB !== undefined ? { serverRssMiB: round(at.serverRssMiB, 1) } : {}),
      ...(at.processRssMiB !== undefined ? { processRssMiB: round(at.processRssMiB, 1) } : {}),
      ...(at.heapBytesPerPausedRun !== undefined && base.heapBytesPerPausedRun !== undefined
        ? { heapBytesPerPausedRun: Math.round((at.heapBytesPerPausedRun - base.heapBytesPerPausedRun) / created) }
        : {}),
      ...(at.dbBytes !== undefined && base.dbBytes !== undefined
        ? { dbBytesPerPausedRun: Math.round((at.dbBytes - base.dbBytes) / created) }
        : {}),
      ...(at.dbFileBytes !== undefined && base.dbFileBytes !== undefined
        ? { dbFileBytesPerPausedRun: Math.round((at.dbFileBytes - base.dbFileBytes) / created) }
        : {}),
      ...(at.dbLargestTablesBytes ? { dbLargestTablesBytes: at.dbLargestTablesBytes } : {}),
      resolve,
    });
    log(
      `${probe.name}: ${level} paused — ` +
        JSON.stringify({ ...levels[levels.length - 1], resolve: undefined }) +
        ` resolve→done p50 ${round(resolve.resolveToDone.median.p50)} ms`,
    );
  }
  return {
    name: probe.name,
    baseline: {
      ...(base.workerRssMiB !== undefined ? { workerRssMiB: round(base.workerRssMiB, 1) } : {}),
      ...(base.serverRssMiB !== undefined ? { serverRssMiB: round(base.serverRssMiB, 1) } : {}),
      ...(base.processRssMiB !== undefined ? { processRssMiB: round(base.processRssMiB, 1) } : {}),
      ...(base.dbBytes !== undefined ? { dbBytes: base.dbBytes } : {}),
    },
    levels,
  };
}

function largestTables(byTable: Record<string, number>, count = 6): Record<string, number> {
  return Object.fromEntries(Object.entries(byTable).slice(0, count));
}

async function temporalWaiting(env: Env): Promise<SideWaiting> {
  const cache = env.settings.waitingCacheSize;
  const options: BenchWorkerOptions = {
    ...TUNED_WORKER_OPTIONS,
    maxCachedWorkflows: cache,
    maxConcurrentWorkflowTaskExecutions: Math.min(
      TUNED_WORKER_OPTIONS.maxConcurrentWorkflowTaskExecutions ?? 40,
      cache,
    ),
    maxConcurrentWorkflowTaskPolls: Math.min(TUNED_WORKER_OPTIONS.maxConcurrentWorkflowTaskPolls ?? 10, cache),
  };
  const stack = await startTemporalStack(env, 'waiting', options, TUNED_WAIT);
  try {
    const db = stack.server.dbFilename!;
    return await waitingPhase(env, {
      name: 'temporal-hitl',
      flow: stack.flow,
      recentlyTouched: 2 * cache,
      async measure() {
        const usage = sqliteUsage(db);
        return {
          workerRssMiB: await sampleRssMiB(stack.worker.pid),
          serverRssMiB: await sampleRssMiB(stack.server.pid),
          ...(usage ? { dbBytes: usage.usedBytes, dbLargestTablesBytes: largestTables(usage.byTable) } : {}),
          dbFileBytes: sqliteFileBytes(db),
        };
      },
    });
  } finally {
    await stack.stop();
  }
}

async function langGraphWaiting(env: Env, kind: SaverKind): Promise<SideWaiting> {
  const where =
    kind === 'postgres'
      ? env.postgres.ok
        ? await env.postgres.server.createDatabase('langgraph_waiting')
        : undefined
      : path.join(env.workDir, `langgraph-waiting.db`);
  const side = await createLangGraphSide(kind, where, env.sandboxDir);
  try {
    return await waitingPhase(env, {
      name: side.flow.name,
      flow: side.flow,
      recentlyTouched: 0,
      async measure() {
        forceGc();
        const usage = side.dbFile ? sqliteUsage(side.dbFile) : await side.dbUsage();
        return {
          processRssMiB: rssMiB(process.pid),
          // Absolute here; the level turns it into a delta per paused run. Only MemorySaver keeps runs on the heap.
          ...(kind === 'memory' ? { heapBytesPerPausedRun: process.memoryUsage().heapUsed } : {}),
          ...(usage ? { dbBytes: usage.usedBytes, dbLargestTablesBytes: largestTables(usage.byTable) } : {}),
          ...(side.dbFile ? { dbFileBytes: sqliteFileBytes(side.dbFile) } : {}),
        };
      },
    });
  } finally {
    await side.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tuning experiments: each compares configurations of our side, trials interleaved.

interface TuningConfig {
  label: string;
  settings: unknown;
  concurrencies: number[];
  /** `workerPid` and `startMs` for an experiment with `workerFigures`. */
  setup(): Promise<{ flow: Flow; teardown: () => Promise<void>; workerPid?: number; startMs?: number }>;
}

async function runExperiment(
  env: Env,
  name: string,
  question: string,
  configs: TuningConfig[],
  /** workerFigures: also the worker's start time, RSS and CPU per cycle (see WorkerFigures). */
  options: { workerFigures?: boolean } = {},
): Promise<TuningExperiment> {
  const { settings } = env;
  const acc = configs.map(() => ({
    cps: new Map<number, number[]>(),
    lat: new Map<number, SamplePercentiles[]>(),
    worker: { startMs: [] as number[], rssIdle: [] as number[], rssAfter: [] as number[], cpu: [] as number[] },
  }));
  for (let trial = 1; trial <= settings.trials; trial++) {
    for (const [i, config] of configs.entries()) {
      const { flow, teardown, workerPid, startMs } = await config.setup();
      const measureWorker = options.workerFigures === true && workerPid !== undefined;
      try {
        await warmUp(flow, settings.quick ? 3 : 10);
        if (measureWorker) {
          await sleep(settings.quick ? 300 : 1000);
          acc[i]!.worker.rssIdle.push(await sampleRssMiB(workerPid));
          if (startMs !== undefined) acc[i]!.worker.startMs.push(startMs);
        }
        for (const c of config.concurrencies) {
          const result = await closedLoop(flow, {
            concurrency: c,
            seconds: settings.tuningSeconds,
            warmupSeconds: settings.warmupSeconds,
          });
          const slot = acc[i]!;
          slot.cps.set(c, [...(slot.cps.get(c) ?? []), result.cyclesPerSecond]);
          slot.lat.set(c, [...(slot.lat.get(c) ?? []), summarize(result.samples)]);
          log(
            `tuning ${name} trial ${trial} [${config.label}] c=${c}: ${round(result.cyclesPerSecond)} cycles/s, start→paused p50 ` +
              `${round(percentileOf(result.samples.startToPaused, 0.5))} ms` +
              (result.errors ? `, ${result.errors} errors (${result.firstError})` : ''),
          );
        }
        if (measureWorker) {
          const slot = acc[i]!.worker;
          slot.cpu.push(await workerCpuPerCycle(flow, workerPid, settings.cpuCycles, settings.cpuConcurrency));
          slot.rssAfter.push(await sampleRssMiB(workerPid));
          log(
            `tuning ${name} trial ${trial} [${config.label}] worker: started in ${round(startMs ?? NaN, 0)} ms, RSS ` +
              `${round(slot.rssIdle.at(-1)!, 0)} MiB idle → ${round(slot.rssAfter.at(-1)!, 0)} MiB after load, ` +
              `CPU ${round(slot.cpu.at(-1)!)} ms per cycle (${settings.cpuCycles} cycles, ${settings.cpuConcurrency} concurrent)`,
          );
        }
      } finally {
        await teardown();
      }
    }
  }
  return {
    name,
    question,
    configs: configs.map((config, i) => ({
      label: config.label,
      settings: config.settings,
      ...(acc[i]!.worker.cpu.length
        ? {
            worker: {
              startMs: medianOf(acc[i]!.worker.startMs),
              rssIdleMiB: medianOf(acc[i]!.worker.rssIdle),
              rssAfterLoadMiB: medianOf(acc[i]!.worker.rssAfter),
              cpuMsPerCycle: medianOf(acc[i]!.worker.cpu),
              cycles: settings.cpuCycles,
              concurrency: settings.cpuConcurrency,
            },
          }
        : {}),
      throughput: Object.fromEntries([...acc[i]!.cps].map(([c, v]) => [String(c), medianOf(v)])),
      latency: Object.fromEntries(
        [...acc[i]!.lat].map(([c, v]) => [
          String(c),
          {
            startToPaused: medianOfTrials(v.map((s) => s.startToPaused)),
            resolveToDone: medianOfTrials(v.map((s) => s.resolveToDone)),
          },
        ]),
      ),
    })),
  };
}

/** The worker's CPU time (ms) per approve cycle over `cycles` cycles at `concurrency` (as the CPU phase). */
async function workerCpuPerCycle(flow: Flow, pid: number, cycles: number, concurrency: number): Promise<number> {
  const before = cpuMs(pid);
  let errors = 0;
  await pool(
    Array.from({ length: cycles }, (_, k) => k),
    concurrency,
    async () => {
      try {
        await flow.finish(await flow.begin(nextIndex()));
      } catch {
        errors += 1;
      }
    },
  );
  return (cpuMs(pid) - before) / Math.max(1, cycles - errors);
}

function percentileOf(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : Number.NaN;
}

const SDK_DEFAULTS: BenchWorkerOptions = {};

async function tuningPhase(env: Env, mainServer: DevServer | undefined): Promise<TuningExperiment[]> {
  const experiments: TuningExperiment[] = [];
  const ownServer = mainServer ?? (await startBenchServer(env.workDir, 'tuning'));
  if (!mainServer) env.cleanups.push(() => ownServer.stop());
  const onServer = (
    label: string,
    options: BenchWorkerOptions,
    wait: TemporalFlowOptions,
    concurrencies: number[],
    inProcess = false,
  ): TuningConfig => ({
    label,
    settings: { workerOptions: options, wait, inProcess },
    concurrencies,
    async setup() {
      const stack = await startTemporalStack(
        env,
        'tuning',
        options,
        { ...wait, label },
        { server: ownServer, inProcess },
      );
      return { flow: stack.flow, teardown: () => stack.stop() };
    },
  });

  const [cLow, cHigh] = env.settings.tuningConcurrencies;
  const want = (name: string): boolean => !env.settings.experiments || env.settings.experiments.has(name);
  // 1. How the client learns that a run is paused.
  if (want('wait-for-pending'))
    experiments.push(
      await runExperiment(
        env,
        'wait-for-pending',
        'Polling getPendingAction vs long-polling the history vs the awaitPendingAction update',
        [
          onServer('poll every 100 ms', TUNED_WORKER_OPTIONS, { wait: 'poll', pollMs: 100 }, [cLow, cHigh]),
          onServer('poll every 10 ms', TUNED_WORKER_OPTIONS, { wait: 'poll', pollMs: 10 }, [cLow, cHigh]),
          onServer('history long-poll + 1 query', TUNED_WORKER_OPTIONS, HISTORY_WAIT, [cLow, cHigh]),
          onServer('awaitPendingAction (update-with-start)', TUNED_WORKER_OPTIONS, UPDATE_WAIT, [cLow, cHigh]),
        ],
      ),
    );

  // 2. Worker options.
  if (want('worker-options'))
    experiments.push(
      await runExperiment(env, 'worker-options', 'Shipped options vs more slots and pollers vs two workflow threads', [
        onServer('shipped (our figures)', TUNED_WORKER_OPTIONS, TUNED_WAIT, [cLow, cHigh]),
        onServer('100 WFT slots, 20+20 pollers', { ...TUNED_WORKER_OPTIONS, ...MORE_SLOTS }, TUNED_WAIT, [cLow, cHigh]),
        onServer('workflowThreadPoolSize 2', { ...TUNED_WORKER_OPTIONS, workflowThreadPoolSize: 2 }, TUNED_WAIT, [
          cLow,
          cHigh,
        ]),
      ]),
    );

  // 3. Eager workflow start: the first workflow task comes back in the start response (worker in-process).
  if (want('eager-start'))
    experiments.push(
      await runExperiment(env, 'eager-start', 'Eager workflow start (in-process worker sharing the NativeConnection)', [
        // Update-with-start cannot be eager: both rows wait by history long-poll.
        onServer('in-process, normal start', TUNED_WORKER_OPTIONS, HISTORY_WAIT, [cLow], true),
        onServer(
          'in-process, requestEagerStart',
          TUNED_WORKER_OPTIONS,
          { ...HISTORY_WAIT, eagerStart: true },
          [cLow],
          true,
        ),
      ]),
    );

  // 4. The dev server's SQLite file vs its in-memory store: what durable persistence costs on this disk.
  const withServer = (label: string, inMemory: boolean): TuningConfig => ({
    label,
    settings: { devServerDb: inMemory ? 'in memory' : 'SQLite file' },
    concurrencies: [cLow, cHigh],
    async setup() {
      const stack = await startTemporalStack(
        env,
        inMemory ? 'tuning-mem' : 'tuning-file',
        TUNED_WORKER_OPTIONS,
        {
          ...TUNED_WAIT,
          label,
        },
        { inMemoryServer: inMemory },
      );
      return { flow: stack.flow, teardown: () => stack.stop() };
    },
  });
  // 5. The fast setup of the dev server (src/dev/dev-server.ts devServerTuningArgs), one flag at a time.
  const withSetup = (label: string, tuning: DevServerTuning): TuningConfig => ({
    label,
    settings: { devServerTuning: tuning },
    concurrencies: [cLow, cHigh],
    async setup() {
      const stack = await startTemporalStack(
        env,
        'tuning-setup',
        TUNED_WORKER_OPTIONS,
        { ...TUNED_WAIT, label },
        { serverTuning: tuning },
      );
      return { flow: stack.flow, teardown: () => stack.stop() };
    },
  });
  if (want('server-setup'))
    experiments.push(
      await runExperiment(env, 'server-setup', 'start-dev defaults vs each flag of the fast setup vs both (shipped)', [
        withSetup('start-dev defaults', { liftTransferLimiter: false, sqliteWal: false }),
        withSetup('transfer limiter lifted only', { liftTransferLimiter: true, sqliteWal: false }),
        withSetup('SQLite WAL + synchronous=normal only', { liftTransferLimiter: false, sqliteWal: true }),
        withSetup('both (shipped, our figures)', { liftTransferLimiter: true, sqliteWal: true }),
      ]),
    );
  if (want('server-db'))
    experiments.push(
      await runExperiment(env, 'server-db', 'Dev server state in a SQLite file (our figures) vs in memory', [
        withServer('SQLite file', false),
        withServer('in memory', true),
      ]),
    );
  // 6. The worker compiled by tsc (npm run build; production) vs under ts-node (npm run worker, npm start): the
  // benchmark's worker child (createWorker + the real activities) either way, the same workflow bundle file
  // (built once by the harness with workflowBundleOptions()), the same server and options.
  if (want('compiled-worker')) {
    const compiledEntry = compileBenchWorker(log);
    const withWorker = (label: string, entry: string | undefined): TuningConfig => ({
      label,
      settings: {
        worker: entry
          ? `node ${path.relative(process.cwd(), entry)} (tsc -p bench/tsconfig.worker.json)`
          : 'node -r ts-node/register/transpile-only bench/temporal/worker.ts',
        workerOptions: TUNED_WORKER_OPTIONS,
        wait: TUNED_WAIT,
      },
      concurrencies: [cLow, cHigh],
      async setup() {
        const t0 = now();
        const stack = await startTemporalStack(
          env,
          'tuning',
          TUNED_WORKER_OPTIONS,
          { ...TUNED_WAIT, label },
          { server: ownServer, ...(entry !== undefined ? { workerEntry: entry } : {}) },
        );
        return { flow: stack.flow, teardown: () => stack.stop(), workerPid: stack.worker.pid, startMs: now() - t0 };
      },
    });
    experiments.push(
      await runExperiment(
        env,
        'compiled-worker',
        'The worker under ts-node (npm run worker, npm start) vs compiled by tsc (npm run build, node dist/worker.js)',
        [withWorker('ts-node (transpile-only)', undefined), withWorker('compiled (tsc, plain node)', compiledEntry)],
        { workerFigures: true },
      ),
    );
  }
  // 7. The sticky cache: the SDK's default (from the heap size) vs the worker's bounded default, where runs
  // in flight are many (a cache smaller than the runs in flight makes their next task replay).
  const cMax = Math.max(...env.settings.concurrencies);
  if (want('sticky-cache') && DEFAULT_WORKER_MAX_CACHED_WORKFLOWS !== undefined) {
    const concurrencies = [...new Set([cHigh, cMax])];
    experiments.push(
      await runExperiment(env, 'sticky-cache', "SDK default sticky cache vs the worker's default (shipped)", [
        onServer('SDK default maxCachedWorkflows', SDK_DEFAULTS, TUNED_WAIT, concurrencies),
        onServer(
          `maxCachedWorkflows ${DEFAULT_WORKER_MAX_CACHED_WORKFLOWS} (shipped)`,
          TUNED_WORKER_OPTIONS,
          TUNED_WAIT,
          concurrencies,
        ),
      ]),
    );
  }
  return experiments;
}

// ---------------------------------------------------------------------------------------------------------
// Table

function latencyCell(f: TrialPercentiles | undefined): Cell | undefined {
  return f && Number.isFinite(f.median.p50) ? { kind: 'latency', value: f.median } : undefined;
}

function numberCell(value: number | undefined, digits = 1): Cell | undefined {
  return value !== undefined && Number.isFinite(value) ? { kind: 'number', value, digits } : undefined;
}

type SideNames = { ours: string; floor: string; shaped: string; pg: string; theirs: string; memory: string };

function buildRows(
  main: Record<string, SideMain>,
  waiting: Record<string, SideWaiting>,
  cpu: Record<string, SideCpu>,
  names: SideNames,
  settings: Pick<Settings, 'concurrencies' | 'waitingLevels'>,
): Row[] {
  const rows: Row[] = [];
  const ours = main[names.ours];
  const floor = main[names.floor];
  const shaped = main[names.shaped];
  const pg = main[names.pg];
  const theirs = main[names.theirs];
  const memory = main[names.memory];
  const cMax = String(Math.max(...settings.concurrencies));
  const loads: { section: string; idle?: true; pick: (s: SideMain | undefined) => LatencyFigures | undefined }[] = [
    {
      // Runs before 2026-11-27T14Z measured idle as a block of cycles per side (closed loop at 1 concurrent).
      section: ours?.idle ? 'idle (1 run at a time, sides taking turns)' : 'idle (1 run at a time)',
      idle: true,
      pick: (s) => s?.idle ?? s?.closedLoop['1'],
    },
    {
      section: `steady load (${ours?.steady?.ratePerSecond ?? '?'} runs/s offered)`,
      pick: (s) => s?.steady,
    },
    { section: `saturation (${cMax} concurrent)`, pick: (s) => s?.closedLoop[cMax] },
  ];
  if (ours) {
    for (const load of loads) {
      const [o, f, s, p, t, m] = [ours, floor, shaped, pg, theirs, memory].map(load.pick);
      // Issue 16 bounds ours ÷ floor at idle only.
      const idleTarget = load.idle ? { max: 1.2 } : undefined;
      const latencyRow = (
        metric: string,
        pick: (l: LatencyFigures | undefined) => TrialPercentiles | undefined,
        ratioTarget?: Row['ratioTarget'],
      ): Row => {
        const p50s = (l: LatencyFigures | undefined) => pick(l)?.trials.map((trial) => trial.p50);
        return {
          section: load.section,
          metric,
          unit: 'ms',
          ours: latencyCell(pick(o)),
          floor: latencyCell(pick(f)),
          shaped: latencyCell(pick(s)),
          pg: latencyCell(pick(p)),
          theirs: latencyCell(pick(t)),
          memory: latencyCell(pick(m)),
          pairedFloor: pairedRatio(p50s(o), p50s(f)),
          pairedShaped: pairedRatio(p50s(o), p50s(s)),
          ...(ratioTarget ? { ratioTarget } : {}),
        };
      };
      rows.push(
        latencyRow('start → paused (p50 / p95 / p99)', (l) => l?.startToPaused, idleTarget),
        latencyRow('resolve → accepted (update returned)', (l) => l?.resolveToAck),
        latencyRow('resolve → tool started', (l) => l?.resolveToTool, idleTarget),
        latencyRow('resolve → run completed', (l) => l?.resolveToDone, idleTarget),
      );
    }
    for (const c of settings.concurrencies) {
      rows.push({
        section: 'throughput',
        metric:
          ours.throughput[String(c)]?.method === 'idle cycles'
            ? `approve cycles/s, 1 at a time (the idle cycles)`
            : `approve cycles/s, ${c} concurrent`,
        unit: 'cycles/s',
        ours: numberCell(ours.throughput[String(c)]?.median),
        floor: numberCell(floor?.throughput[String(c)]?.median),
        shaped: numberCell(shaped?.throughput[String(c)]?.median),
        pg: numberCell(pg?.throughput[String(c)]?.median),
        theirs: numberCell(theirs?.throughput[String(c)]?.median),
        memory: numberCell(memory?.throughput[String(c)]?.median),
        pairedFloor: pairedRatio(ours.throughput[String(c)]?.trials, floor?.throughput[String(c)]?.trials),
        pairedShaped: pairedRatio(ours.throughput[String(c)]?.trials, shaped?.throughput[String(c)]?.trials),
        ratioTarget: { min: 0.9 },
        higherIsBetter: true,
      });
    }
  }
  const oc = cpu[names.ours];
  if (oc) {
    const [fc, sc, pc, tc, mc] = [names.floor, names.shaped, names.pg, names.theirs, names.memory].map((n) => cpu[n]);
    const section = `CPU per cycle (${oc.cycles} cycles, ${oc.concurrency} concurrent)`;
    rows.push(
      {
        section,
        metric: 'server (Temporal; PostgreSQL with its backends)',
        unit: 'ms',
        ours: numberCell(oc.server?.median),
        floor: numberCell(fc?.server?.median),
        shaped: numberCell(sc?.server?.median),
        pairedFloor: pairedRatio(oc.server?.trials, fc?.server?.trials),
        pairedShaped: pairedRatio(oc.server?.trials, sc?.server?.trials),
        pg: numberCell(pc?.server?.median),
      },
      {
        section,
        metric: 'worker',
        unit: 'ms',
        ours: numberCell(oc.worker?.median),
        floor: numberCell(fc?.worker?.median),
        shaped: numberCell(sc?.worker?.median),
        pairedFloor: pairedRatio(oc.worker?.trials, fc?.worker?.trials),
        pairedShaped: pairedRatio(oc.worker?.trials, sc?.worker?.trials),
        ratioTarget: { max: 1.3 },
      },
      {
        section,
        metric: 'client (harness process; LangGraph runs in it)',
        unit: 'ms',
        ours: numberCell(oc.client.median),
        floor: numberCell(fc?.client.median),
        shaped: numberCell(sc?.client.median),
        pairedFloor: pairedRatio(oc.client.trials, fc?.client.trials),
        pairedShaped: pairedRatio(oc.client.trials, sc?.client.trials),
        pg: numberCell(pc?.client.median),
        theirs: numberCell(tc?.client.median),
        memory: numberCell(mc?.client.median),
      },
    );
  }
  const ow = waiting[names.ours];
  const pw = waiting[names.pg];
  const tw = waiting[names.theirs];
  const mw = waiting[names.memory];
  if (ow || pw || tw || mw) {
    const section = 'nothing paused (baseline)';
    rows.push(
      { section, metric: 'worker RSS', unit: 'MiB', ours: numberCell(ow?.baseline.workerRssMiB, 0) },
      {
        section,
        metric: 'harness process RSS (LangGraph runs in it; not comparable)',
        unit: 'MiB',
        pg: numberCell(pw?.baseline.processRssMiB, 0),
        theirs: numberCell(tw?.baseline.processRssMiB, 0),
        memory: numberCell(mw?.baseline.processRssMiB, 0),
      },
      { section, metric: 'Temporal server RSS', unit: 'MiB', ours: numberCell(ow?.baseline.serverRssMiB, 0) },
    );
  }
  for (const [i, level] of settings.waitingLevels.entries()) {
    const [o, p, t, m] = [ow?.levels[i], pw?.levels[i], tw?.levels[i], mw?.levels[i]];
    if (!o && !p && !t && !m) continue;
    const section = `${level} paused at once`;
    const kib = (bytes: number | undefined) => (bytes === undefined ? undefined : bytes / 1024);
    rows.push(
      { section, metric: 'worker RSS', unit: 'MiB', ours: numberCell(o?.workerRssMiB, 0) },
      {
        section,
        metric: 'harness process RSS (LangGraph runs in it; not comparable)',
        unit: 'MiB',
        pg: numberCell(p?.processRssMiB, 0),
        theirs: numberCell(t?.processRssMiB, 0),
        memory: numberCell(m?.processRssMiB, 0),
      },
      { section, metric: 'Temporal server RSS', unit: 'MiB', ours: numberCell(o?.serverRssMiB, 0) },
      {
        section,
        metric: 'database per paused run (pages in use; PostgreSQL: database size)',
        unit: 'KiB',
        ours: numberCell(kib(o?.dbBytesPerPausedRun)),
        pg: numberCell(kib(p?.dbBytesPerPausedRun)),
        theirs: numberCell(kib(t?.dbBytesPerPausedRun)),
      },
      { section, metric: 'V8 heap per paused run', unit: 'KiB', memory: numberCell(kib(m?.heapBytesPerPausedRun)) },
      {
        section,
        metric: 'pausing rate while filling',
        unit: 'runs/s',
        ours: numberCell(o?.fillPausesPerSecond),
        pg: numberCell(p?.fillPausesPerSecond),
        theirs: numberCell(t?.fillPausesPerSecond),
        memory: numberCell(m?.fillPausesPerSecond),
        higherIsBetter: true,
      },
      {
        section,
        metric: 'resolve → tool started (evicted: replay)',
        unit: 'ms',
        ours: latencyCell(o?.resolve.resolveToTool),
        pg: latencyCell(p?.resolve.resolveToTool),
        theirs: latencyCell(t?.resolve.resolveToTool),
        memory: latencyCell(m?.resolve.resolveToTool),
      },
      {
        section,
        metric: 'resolve → run completed',
        unit: 'ms',
        ours: latencyCell(o?.resolve.resolveToDone),
        pg: latencyCell(p?.resolve.resolveToDone),
        theirs: latencyCell(t?.resolve.resolveToDone),
        memory: latencyCell(m?.resolve.resolveToDone),
      },
    );
  }
  return rows;
}

/** Issue 16's absolute targets and the one against LangGraph, as lines of the printout (not assertions). */
function targetText(main: Record<string, SideMain>, names: SideNames, concurrencies: number[], quick: boolean): string {
  const c = String(Math.max(...concurrencies));
  const ours = main[names.ours];
  if (!ours) return '';
  const lines: string[] = [];
  const idle = ours.idle ?? ours.closedLoop['1'];
  if (idle) {
    const together = idle.startToPaused.median.p50 + idle.resolveToDone.median.p50;
    lines.push(
      `target (issue 16): idle start → paused + resolve → completed ≤ 40 ms together (p50): ${together <= 40 ? 'PASS' : 'FAIL'} — ${round(together, 1)} ms`,
    );
  }
  const at10 = ours.throughput['10']?.median;
  if (at10 !== undefined)
    lines.push(
      `target (issue 16): ≥ 40 cycles/s at 10 concurrent: ${at10 >= 40 ? 'PASS' : 'FAIL'} — ${round(at10, 1)}`,
    );
  const throughput = ours.throughput[c]?.median;
  const pg = main[names.pg]?.throughput[c]?.median;
  const head = `target (issue 16): throughput at ${c} concurrent ≥ LangGraph + PostgreSQL, same run`;
  const note = quick ? ' (quick run: the target is stated at 100 concurrent; a full run measures it)' : '';
  if (throughput === undefined) return lines.join('\n');
  if (pg === undefined) lines.push(`${head}: NOT MEASURED (no LangGraph + PostgreSQL side in this run)`);
  else
    lines.push(
      `${head}: ${throughput >= pg ? 'PASS' : 'FAIL'} — ${round(throughput, 1)} vs ${round(pg, 1)} cycles/s${note}`,
    );
  return lines.join('\n');
}

function tuningText(experiments: TuningExperiment[]): string {
  const lines: string[] = [];
  for (const exp of experiments) {
    lines.push(`\n${exp.name}: ${exp.question}`);
    for (const config of exp.configs) {
      const parts = Object.entries(config.throughput).map(([c, v]) => {
        const lat = config.latency[c];
        return `c=${c}: ${round(v.median, 1)} cycles/s, start→paused p50 ${round(lat?.startToPaused.median.p50 ?? NaN, 1)} ms, resolve→done p50 ${round(lat?.resolveToDone.median.p50 ?? NaN, 1)} ms`;
      });
      lines.push(`  ${config.label.padEnd(34)} ${parts.join(' | ')}`);
      const w = config.worker;
      if (w) {
        lines.push(
          `  ${''.padEnd(34)} worker: start ${round(w.startMs.median, 0)} ms, RSS ${round(w.rssIdleMiB.median, 0)} MiB idle → ` +
            `${round(w.rssAfterLoadMiB.median, 0)} MiB after load, CPU ${round(w.cpuMsPerCycle.median, 2)} ms per cycle ` +
            `(${w.cycles} cycles, ${w.concurrency} concurrent)`,
        );
      }
    }
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------

const NAMES: SideNames = {
  ours: 'temporal-hitl',
  floor: FLOOR_NAME,
  shaped: SHAPED_FLOOR_NAME,
  pg: LANGGRAPH_NAMES.postgres,
  theirs: LANGGRAPH_NAMES.sqlite,
  memory: LANGGRAPH_NAMES.memory,
};

function headerText(report: {
  quick: boolean;
  settings: { trials: number };
  machine: MachineInfo & { loadAverageAtEnd: number[] };
  langGraphSqlite: { ok: boolean; reason?: string };
  /** Absent in runs before issue 16's item 4. */
  langGraphPostgres?: PostgresStatus;
  startedAt: string;
}): string {
  const m = report.machine;
  return [
    `temporal-hitl benchmark, ${report.startedAt} — ${report.quick ? 'QUICK smoke check (1 short trial: not for comparison)' : `full, medians of ${report.settings.trials} trials`}`,
    `machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryMiB} MiB, node ${m.node}; load average at start ${m.loadAverageAtStart.join(' ')}, at end ${m.loadAverageAtEnd.join(' ')}`,
    `flow: scripted model → tool call "noop" (policy asks) → pause → approve → noop → final answer`,
    report.langGraphPostgres?.ok
      ? `LangGraph + PostgreSQL: PostgreSQL ${report.langGraphPostgres.version} (${report.langGraphPostgres.settings})`
      : '',
    report.langGraphPostgres && !report.langGraphPostgres.ok
      ? `LangGraph + PostgreSQL SKIPPED: ${report.langGraphPostgres.reason}`
      : '',
    report.langGraphSqlite.ok ? '' : `LangGraph SQLite checkpointer unavailable: ${report.langGraphSqlite.reason}`,
  ]
    .filter(Boolean)
    .join('\n');
}

function printReport(report: {
  quick: boolean;
  settings: Pick<Settings, 'trials' | 'concurrencies' | 'waitingLevels'>;
  machine: MachineInfo & { loadAverageAtEnd: number[] };
  langGraphSqlite: { ok: boolean; reason?: string };
  langGraphPostgres?: PostgresStatus;
  startedAt: string;
  main: Record<string, SideMain>;
  waiting: Record<string, SideWaiting>;
  /** Absent in runs before issue 16. */
  cpu?: Record<string, SideCpu>;
  tuning: TuningExperiment[];
}): Row[] {
  const rows = buildRows(report.main, report.waiting, report.cpu ?? {}, NAMES, report.settings);
  const theirsColumn = report.langGraphSqlite.ok ? 'LangGraph + SQLite' : 'LangGraph + SQLite (NOT INSTALLED)';
  const pgColumn =
    report.langGraphPostgres === undefined || report.langGraphPostgres.ok
      ? 'LangGraph + PostgreSQL'
      : 'LangGraph + PostgreSQL (SKIPPED)';
  const columns = {
    ours: 'temporal-hitl',
    floor: 'floor (minimal workflow)',
    shaped: "floor + the product's events",
    pg: pgColumn,
    theirs: theirsColumn,
    memory: 'LangGraph + MemorySaver',
  };
  const table = renderTable(rows, columns);
  const targets = [
    ratioTargetsText(rows, { floor: 'floor', shaped: 'shaped floor' }),
    targetText(report.main, NAMES, report.settings.concurrencies, report.quick),
  ].filter(Boolean);
  console.log(`\n${headerText(report)}\n\n${rows.length ? table : '(no comparison rows: only the tuning part ran)'}`);
  if (targets.length > 0) console.log(`\n${targets.join('\n')}`);
  if (report.tuning.length) console.log(`\nTuning (ours only)${tuningText(report.tuning)}`);
  return rows;
}

async function main(): Promise<void> {
  const settings = settingsFrom(process.argv.slice(2));
  if (settings.render) {
    printReport(JSON.parse(fs.readFileSync(settings.render, 'utf8')) as Parameters<typeof printReport>[0]);
    return;
  }
  const started = new Date();
  const machine = machineInfo();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hitl-bench-'));
  useBenchContentStore(workDir);
  const sandboxDir = path.join(workDir, 'sandbox');
  fs.mkdirSync(sandboxDir, { recursive: true });
  const sqliteLoaded = loadSqliteSaver();
  const env: Env = {
    settings,
    workDir,
    bundle: '',
    sandboxDir,
    sqlite: sqliteLoaded.ok ? { ok: true } : { ok: false, reason: sqliteLoaded.reason },
    postgres: { ok: false, reason: 'not started (only the tuning part runs)' },
    cleanups: [],
  };
  let interrupted = false;
  const cleanup = async () => {
    for (const fn of env.cleanups.reverse()) await fn().catch(() => undefined);
    env.cleanups = [];
    if (!settings.keep) fs.rmSync(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: stopping what the benchmark started');
    void cleanup().finally(() => process.exit(130));
  });

  log(
    `${settings.quick ? 'quick (smoke check: one short trial, not for comparison)' : 'full'} run; work dir ${workDir}`,
  );
  log(
    `machine: ${machine.cores} cores, ${machine.memoryMiB} MiB, node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`,
  );
  if (!env.sqlite.ok) {
    log(
      `LangGraph SQLite checkpointer NOT available (${env.sqlite.reason}); LangGraph is measured with MemorySaver only`,
    );
  }
  if (settings.parts.has('main') || settings.parts.has('waiting')) {
    log('starting a private PostgreSQL (initdb + pg_ctl) for LangGraph + PostgreSQL');
    env.postgres = await startBenchPostgres();
    if (env.postgres.ok) {
      const pgServer = env.postgres.server;
      env.cleanups.push(() => pgServer.stop());
      log(`PostgreSQL ${env.postgres.version} on 127.0.0.1:${pgServer.port} (durable settings)`);
    } else {
      const line = `LangGraph + PostgreSQL SKIPPED: ${env.postgres.reason}`;
      log(line);
      console.log(line);
    }
  }
  env.bundle = await workflowBundlePath(workDir);

  const main: Record<string, SideMain> = {};
  const waiting: Record<string, SideWaiting> = {};
  const cpu: Record<string, SideCpu> = {};
  let tuning: TuningExperiment[] = [];
  let steadyRate: number | undefined;
  const names = NAMES;
  let mainServer: DevServer | undefined;

  try {
    if (settings.parts.has('main')) {
      log('main: starting our dev server and worker');
      const stack = await startTemporalStack(env, 'main', TUNED_WORKER_OPTIONS, { ...TUNED_WAIT, label: names.ours });
      mainServer = stack.server;
      // The floor: its own worker child and task queue, on the same server; a client of its own.
      const floorQueue = `bench-floor-${Date.now().toString(36)}`;
      const floorWorker = await startFloorWorker(stack.server, floorQueue);
      env.cleanups.push(() => floorWorker.stop());
      const floorClient = await connectBenchClient(stack.server);
      env.cleanups.push(() => floorClient.close());
      const floorFlow = new FloorFlow(floorClient.client, floorQueue, floorWorker);
      // The floor with the product's events: its own worker child too, so each side's CPU is its own process's.
      const shapedQueue = `bench-shaped-${Date.now().toString(36)}`;
      const shapedWorker = await startFloorWorker(stack.server, shapedQueue);
      env.cleanups.push(() => shapedWorker.stop());
      const shapedFlow = new FloorFlow(floorClient.client, shapedQueue, shapedWorker, {});
      // Stops here unless it writes the same events as ours (and the floor with them is a fair comparison).
      for (const line of await checkShapes(floorClient.client, stack.flow, [shapedFlow])) log(line);
      const sides: Flow[] = [stack.flow, floorFlow, shapedFlow];
      const langGraphSides: LangGraphSide[] = [];
      if (env.postgres.ok) {
        const database = await env.postgres.server.createDatabase('langgraph_main');
        langGraphSides.push(await createLangGraphSide('postgres', database, sandboxDir));
      }
      if (env.sqlite.ok)
        langGraphSides.push(await createLangGraphSide('sqlite', path.join(workDir, 'langgraph-main.db'), sandboxDir));
      langGraphSides.push(await createLangGraphSide('memory', undefined, sandboxDir));
      sides.push(...langGraphSides.map((s) => s.flow));
      const pgPid = env.postgres.ok ? env.postgres.server.pid : undefined;
      try {
        steadyRate = await mainPhase(env, sides, main);
        log(
          `CPU per cycle: ${settings.cpuCycles} cycles at ${settings.cpuConcurrency} concurrent per side and trial, ` +
            `in ${settings.cpuBlocks} block(s), the sides taking turns`,
        );
        await cpuPhase(
          env,
          [
            { flow: stack.flow, serverCpuMs: () => cpuMs(stack.server.pid), workerPid: stack.worker.pid },
            { flow: floorFlow, serverCpuMs: () => cpuMs(stack.server.pid), workerPid: floorWorker.pid },
            { flow: shapedFlow, serverCpuMs: () => cpuMs(stack.server.pid), workerPid: shapedWorker.pid },
            ...langGraphSides.map((s) => ({
              flow: s.flow,
              ...(s.saverKind === 'postgres' && pgPid !== undefined
                ? { serverCpuMs: () => processTreeCpuMs(pgPid) }
                : {}),
            })),
          ],
          cpu,
        );
      } finally {
        for (const s of langGraphSides) await s.close();
      }
      if (settings.parts.has('tuning')) tuning = await tuningPhase(env, mainServer);
    } else if (settings.parts.has('tuning')) {
      tuning = await tuningPhase(env, undefined);
    }

    if (settings.parts.has('waiting')) {
      log('waiting: a fresh dev server (SQLite file) and a worker with a small cache');
      waiting[names.ours] = await temporalWaiting(env);
      if (env.postgres.ok) waiting[names.pg] = await langGraphWaiting(env, 'postgres');
      if (env.sqlite.ok) waiting[names.theirs] = await langGraphWaiting(env, 'sqlite');
      waiting[names.memory] = await langGraphWaiting(env, 'memory');
    }
  } finally {
    if (!interrupted) await cleanup();
  }

  const finished = new Date();
  const report = {
    benchmark: 'temporal-hitl approval flow vs LangGraph JS',
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSeconds: round((finished.getTime() - started.getTime()) / 1000, 1),
    quick: settings.quick,
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((v) => round(v)) },
    versions: versions(),
    langGraphSqlite: env.sqlite,
    langGraphPostgres: postgresStatus(env),
    settings: {
      ...settings,
      parts: [...settings.parts],
      workerOptions: TUNED_WORKER_OPTIONS,
      wait: TUNED_WAIT,
      steadyRatePerSecond: steadyRate,
      temporalServer:
        'temporal server start-dev (headless, free ports, SQLite file in a temp folder, fast setup: transfer limiter lifted, WAL + synchronous=normal)',
      floor:
        'minimal same-shape workflow (bench/floor), own worker child and task queue, same server, update-with-start wait',
      shapedFloor:
        "the floor writing the product's events (floorShapedRun: status search attributes, patch marker, waiter's bounded wait, expiry timer; checked to write ours's event types and counts), own worker child and task queue",
      langGraph: {
        durability: 'async (default)',
        sqliteFile: 'temp folder',
        postgres:
          'PostgresSaver.fromConnString (pg.Pool defaults: at most 10 connections), private server, its defaults',
      },
      units: { latency: 'ms', memory: 'MiB', db: 'bytes' },
    },
    main,
    waiting,
    cpu,
    tuning,
  };
  const rows = printReport(report);
  const outFile =
    settings.out ??
    path.join(
      'bench-results',
      `bench-${settings.quick ? 'quick-' : ''}${started.toISOString().replace(/[:.]/g, '-')}.json`,
    );
  fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  fs.writeFileSync(outFile, `${JSON.stringify({ ...report, table: rows }, null, 2)}\n`);
  console.log(`\nwrote ${outFile}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
