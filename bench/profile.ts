// `npm run bench:profile [-- --seconds 24] [-- --rounds 4] [-- --concurrency 10] [-- --shaped | --decompose]
//   [-- --cpu-prof [--top 30] [--out dir]]`
//
// Where the worker's time goes, ours beside the floor's, on one dev server: each side runs closed loops of
// approve cycles in rounds, sides alternating, and the CPU each worker thread used in its own rounds
// (/proc/<pid>/task) is printed per cycle. With `--cpu-prof` both worker children also record V8 CPU profiles;
// the summary counts only the samples taken inside each side's own rounds (V8 stamps samples with the
// monotonic clock that process.hrtime reads, so the harness's spans apply to the children's profiles), per
// thread: the main thread (activities, the SDK's bridge, the content store) and the workflow thread.
// The server's CPU per cycle is printed too (rounds alternate, so each side's rounds are its own). With
// `--shaped` a third side runs the floor with the product's history shape (bench/floor/workflows.ts,
// `floorShapedRun`): what the product's events cost without any of its code; `--decompose` adds that shape
// without each of its parts in turn, which prices the parts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { checkShapes } from './floor/shape-check';
import { FloorFlow } from './floor/side';
import type { ShapedParts } from './floor/workflows';
import { startComparisonStack } from './lib/comparison-stack';
import { closedLoop, turnOrder, type Flow } from './lib/load';
import { cpuMs, threadCpuMs } from './lib/machine';
import {
  connectBenchClient,
  TemporalFlow,
  TUNED_WAIT,
  useBenchContentStore,
  type BenchWorkerHandle,
} from './temporal/side';

const CpuProfileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
    }),
  ),
  startTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
type CpuProfile = z.infer<typeof CpuProfileSchema>;

interface Span {
  fromUs: number;
  toUs: number;
}

/** One side's measured rounds: when they ran, the cycles they completed, the CPU its threads used. */
interface Window {
  spans: Span[];
  cycles: number;
  seconds: number;
  threadMs: Map<string, number>;
  /** The Temporal server's CPU during the side's rounds. */
  serverMs: number;
}

/** Adds the CPU each thread used between two readings to `into`. */
function addThreadUse(into: Map<string, number>, before: Map<string, number>, after: Map<string, number>): void {
  for (const [name, ms] of after) into.set(name, (into.get(name) ?? 0) + ms - (before.get(name) ?? 0));
}

/** CPU ms per cycle by thread name, with a total. */
function perCycleByThread(window: Window): Map<string, number> {
  const table = new Map<string, number>();
  let total = 0;
  for (const [name, ms] of window.threadMs) {
    const used = ms / Math.max(1, window.cycles);
    table.set(name, used);
    total += used;
  }
  table.set('(total)', total);
  return table;
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Self time (ms) by function and by package inside the spans; what the profile spent idle is left out. */
export function summarizeProfile(profile: CpuProfile, spans: readonly Span[]) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busyUs = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (!spans.some((span) => t >= span.fromUs && t <= span.toUs)) continue;
    const frame = byId.get(profile.samples[i]!);
    if (!frame || frame.functionName === '(idle)') continue;
    // A sample stands for the time until the next one.
    const us = profile.timeDeltas[i + 1] ?? delta;
    busyUs += us;
    const where = frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|bench)\//, '$1/');
    const fn = `${frame.functionName || '(anonymous)'} ${where}${where ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us / 1000);
    const pkg = where
      ? where
          .split('/')
          .slice(0, where.startsWith('@') ? 2 : 1)
          .join('/')
      : frame.functionName;
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us / 1000);
  }
  return { busyMs: busyUs / 1000, byFunction, byPackage };
}

function profilesOf(dir: string, pid: number): { file: string; profile: CpuProfile }[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && f.split('.')[3] === String(pid))
    .sort()
    .map((f) => ({
      file: path.join(dir, f),
      profile: CpuProfileSchema.parse(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))),
    }));
}

type ThreadKind = 'main thread' | 'workflow thread';

/** Per-cycle summaries of one side's profiles, by thread. */
function sideSummaries(pid: number, dir: string, window: Window) {
  const perCycle = (m: Map<string, number>) =>
    new Map([...m].map(([k, ms]) => [k, ms / Math.max(1, window.cycles)] as const));
  return new Map(
    profilesOf(dir, pid).map(({ file, profile }) => {
      const summary = summarizeProfile(profile, window.spans);
      const kind: ThreadKind = file.endsWith('.0.001.cpuprofile') ? 'main thread' : 'workflow thread';
      return [
        kind,
        {
          busy: summary.busyMs / Math.max(1, window.cycles),
          byFunction: perCycle(summary.byFunction),
          byPackage: perCycle(summary.byPackage),
        },
      ] as const;
    }),
  );
}

function printTop(title: string, m: Map<string, number>, top: number): void {
  console.log(`-- ${title} (ms per cycle)`);
  const ranked = [...m].sort((x, y) => Math.abs(y[1]) - Math.abs(x[1])).slice(0, top);
  // V8 names a RegExp's samples by its source, which can run to hundreds of characters.
  for (const [k, ms] of ranked)
    console.log(`${ms.toFixed(3).padStart(8)}  ${k.length > 120 ? `${k.slice(0, 119)}…` : k}`);
}

/** Each side's hottest packages and functions per thread, then the first side minus each other side. */
function report(
  sides: { name: string; summaries: ReturnType<typeof sideSummaries>; window: Window }[],
  top: number,
): void {
  for (const { name, summaries, window } of sides) {
    console.log(`\n## ${name}: ${window.cycles} cycles in ${window.seconds} s`);
    for (const [kind, summary] of summaries) {
      console.log(`\n### ${kind}: busy ${summary.busy.toFixed(3)} ms per cycle`);
      printTop('by package', summary.byPackage, top);
      printTop('by function', summary.byFunction, top);
    }
  }
  const minus = (x: Map<string, number>, y: Map<string, number>) =>
    new Map([...new Set([...x.keys(), ...y.keys()])].map((k) => [k, (x.get(k) ?? 0) - (y.get(k) ?? 0)] as const));
  const [first, ...others] = sides;
  if (!first) return;
  for (const other of others) {
    for (const kind of ['main thread', 'workflow thread'] as const) {
      const a = first.summaries.get(kind);
      const b = other.summaries.get(kind);
      if (!a || !b) continue;
      console.log(`\n## ${kind}: ${first.name} minus ${other.name}, busy ${(a.busy - b.busy).toFixed(3)} ms per cycle`);
      printTop('by package', minus(a.byPackage, b.byPackage), top);
      printTop('by function', minus(a.byFunction, b.byFunction), top);
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '24' },
      /** Each side's seconds are split into this many rounds, sides alternating (they share the machine's mood). */
      rounds: { type: 'string', default: '4' },
      concurrency: { type: 'string', default: '10' },
      top: { type: 'string', default: '30' },
      out: { type: 'string' },
      /** Also record V8 CPU profiles of both workers (slows them; the thread table is without it). */
      'cpu-prof': { type: 'boolean', default: false },
      /** Add the floor with the product's history shape as a third side. */
      shaped: { type: 'boolean', default: false },
      /** As --shaped, plus that shape without each of its parts. */
      decompose: { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  if (!(seconds > 0) || !Number.isInteger(rounds) || rounds < 1) throw new Error('--seconds > 0 and --rounds ≥ 1');
  const concurrency = Number(values.concurrency);
  const top = Number(values.top);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hitl-profile-'));
  useBenchContentStore(workDir);
  const profileDir = values.out ?? path.join(workDir, 'profiles');
  const profiling = values['cpu-prof'] ?? false;
  if (profiling) {
    fs.mkdirSync(profileDir, { recursive: true });
    process.env.BENCH_WORKER_PROF = profileDir;
  }
  const stops: (() => Promise<void>)[] = [];
  try {
    const withShaped = (values.shaped ?? false) || (values.decompose ?? false);
    const { server, ours, floor, shaped } = await startComparisonStack(workDir, 'profile', stops, {
      shaped: withShaped,
    });
    const clients = [await connectBenchClient(server), await connectBenchClient(server)];
    for (const c of clients) stops.push(() => c.close());
    const sides: { flow: Flow; worker: BenchWorkerHandle }[] = [
      { flow: new TemporalFlow(clients[0]!.client, ours.queue, ours.worker.clock, TUNED_WAIT), worker: ours.worker },
      { flow: new FloorFlow(clients[1]!.client, floor.queue, floor.worker), worker: floor.worker },
    ];
    if (shaped) {
      // One worker for every shaped variant: rounds alternate, so each variant's CPU is still its own.
      const shapedClient = await connectBenchClient(server);
      stops.push(() => shapedClient.close());
      const variants: ShapedParts[] = values.decompose
        ? [{}, { statusAttributes: false }, { patch: false }, { waiter: false }, { expiry: false }]
        : [{}];
      for (const parts of variants)
        sides.push({
          flow: new FloorFlow(shapedClient.client, shaped.queue, shaped.worker, parts),
          worker: shaped.worker,
        });
    }
    for (const { flow } of sides) await closedLoop(flow, { concurrency, seconds: 3, warmupSeconds: 1 });
    const shapes = await checkShapes(
      clients[0]!.client,
      sides[0]!.flow,
      sides.slice(2).map((side) => side.flow),
    );
    for (const line of shapes) console.log(line);
    const windows: Window[] = sides.map(() => ({ spans: [], cycles: 0, seconds: 0, threadMs: new Map(), serverMs: 0 }));
    for (let round = 1; round <= rounds; round++) {
      // Every other round in reverse: what a side leaves for the server to finish (visibility writes, timer
      // deletions) lands in the next side's round, so no side should always follow the same one.
      for (const i of turnOrder(sides.length, round - 1)) {
        const { flow, worker } = sides[i]!;
        const window = windows[i]!;
        const threads0 = threadCpuMs(worker.pid);
        const server0 = cpuMs(server.pid);
        const fromUs = monotonicUs();
        const result = await closedLoop(flow, {
          concurrency,
          seconds: seconds / rounds,
          warmupSeconds: 0,
          maxWarmupSeconds: 0,
        });
        window.spans.push({ fromUs, toUs: monotonicUs() });
        addThreadUse(window.threadMs, threads0, threadCpuMs(worker.pid));
        window.serverMs += cpuMs(server.pid) - server0;
        window.cycles += result.completed;
        window.seconds += result.seconds;
        console.log(
          `round ${round}/${rounds} ${flow.name}: ${result.cyclesPerSecond.toFixed(1)} cycles/s at ${concurrency} concurrent${profiling ? ' (profiled)' : ''}`,
        );
      }
    }
    console.log('\n## worker CPU per cycle by thread (ms; /proc/<pid>/task; all rounds)');
    const threadTables = windows.map(perCycleByThread);
    const names = [...new Set(threadTables.flatMap((t) => [...t.keys()]))].sort(
      (a, b) => (threadTables[0]!.get(b) ?? 0) - (threadTables[0]!.get(a) ?? 0),
    );
    // Columns are numbered; the names can be long.
    sides.forEach(({ flow }, i) => console.log(`[${i + 1}] ${flow.name}`));
    console.log(`${'thread'.padEnd(20)} ${sides.map((_, i) => `[${i + 1}]`.padStart(14)).join(' ')}`);
    for (const name of names)
      console.log(
        `${name.padEnd(20)} ${threadTables.map((t) => (t.get(name) ?? 0).toFixed(2).padStart(14)).join(' ')}`,
      );
    console.log(
      `${'cycles/s'.padEnd(20)} ${windows.map((w) => (w.cycles / w.seconds).toFixed(1).padStart(14)).join(' ')}`,
    );
    console.log(
      `${'server CPU/cycle'.padEnd(20)} ${windows.map((w) => (w.serverMs / Math.max(1, w.cycles)).toFixed(2).padStart(14)).join(' ')}`,
    );
    if (!profiling) return;
    // Stopping a child writes its profiles.
    for (const worker of new Set(sides.map((side) => side.worker))) await worker.stop();
    report(
      sides.map(({ flow, worker }, i) => ({
        name: flow.name,
        summaries: sideSummaries(worker.pid, profileDir, windows[i]!),
        window: windows[i]!,
      })),
      top,
    );
    console.log(`\nprofiles (open in Chrome DevTools): ${profileDir}`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    // The server's database, the content store and the sandbox go; profiles written here stay.
    for (const entry of fs.readdirSync(workDir))
      if (path.join(workDir, entry) !== profileDir)
        fs.rmSync(path.join(workDir, entry), { recursive: true, force: true });
    if (fs.readdirSync(workDir).length === 0) fs.rmdirSync(workDir);
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
