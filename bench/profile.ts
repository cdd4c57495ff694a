// `npm run bench:profile [-- --seconds 20] [-- --concurrency 10] [-- --cpu-prof [--top 30] [--out dir]]`
//
// Where the worker's time goes, ours beside the floor's: both worker children run with `--cpu-prof` on one
// dev server; each side then runs a closed loop of approve cycles, one side at a time. The summary counts only
// the samples taken inside each side's own measured window (V8 stamps samples with the monotonic clock that
// process.hrtime reads, so the harness's window applies to the children's profiles), per thread: the main
// thread (activities, the SDK's bridge, the content store) and the workflow thread (the sandboxed workflows).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { FloorFlow, startFloorWorker } from './floor/side';
import { closedLoop, type Flow } from './lib/load';
import { threadCpuMs } from './lib/machine';
import {
  connectBenchClient,
  startBenchServer,
  startWorkerChild,
  TemporalFlow,
  workerConfig,
  TUNED_WAIT,
  TUNED_WORKER_OPTIONS,
  workflowBundlePath,
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

interface Window {
  fromUs: number;
  toUs: number;
  cycles: number;
}

/** CPU ms per cycle by thread name between two readings, with a total. */
function perThread(before: Map<string, number>, after: Map<string, number>, cycles: number): Map<string, number> {
  const table = new Map<string, number>();
  let total = 0;
  for (const [name, ms] of after) {
    const used = (ms - (before.get(name) ?? 0)) / Math.max(1, cycles);
    table.set(name, used);
    total += used;
  }
  table.set('(total)', total);
  return table;
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Self time (ms) by function and by package inside the window; what the profile spent idle is left out. */
export function summarizeProfile(profile: CpuProfile, window: Pick<Window, 'fromUs' | 'toUs'>) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busyUs = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < window.fromUs || t > window.toUs) continue;
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
      const summary = summarizeProfile(profile, window);
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
  for (const [k, ms] of ranked) console.log(`${ms.toFixed(3).padStart(8)}  ${k}`);
}

/** Each side's hottest packages and functions per thread, then the first side minus the second. */
function report(
  sides: { name: string; summaries: ReturnType<typeof sideSummaries>; window: Window }[],
  top: number,
): void {
  for (const { name, summaries, window } of sides) {
    console.log(`\n## ${name}: ${window.cycles} cycles in ${((window.toUs - window.fromUs) / 1e6).toFixed(1)} s`);
    for (const [kind, summary] of summaries) {
      console.log(`\n### ${kind}: busy ${summary.busy.toFixed(3)} ms per cycle`);
      printTop('by package', summary.byPackage, top);
      printTop('by function', summary.byFunction, top);
    }
  }
  const [first, second] = sides;
  if (!first || !second) return;
  for (const kind of ['main thread', 'workflow thread'] as const) {
    const a = first.summaries.get(kind);
    const b = second.summaries.get(kind);
    if (!a || !b) continue;
    console.log(`\n## ${kind}: ${first.name} minus ${second.name}, busy ${(a.busy - b.busy).toFixed(3)} ms per cycle`);
    const minus = (x: Map<string, number>, y: Map<string, number>) =>
      new Map([...new Set([...x.keys(), ...y.keys()])].map((k) => [k, (x.get(k) ?? 0) - (y.get(k) ?? 0)] as const));
    printTop('by package', minus(a.byPackage, b.byPackage), top);
    printTop('by function', minus(a.byFunction, b.byFunction), top);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '10' },
      top: { type: 'string', default: '30' },
      out: { type: 'string' },
      /** Also record V8 CPU profiles of both workers (slows them; the thread table is without it). */
      'cpu-prof': { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const top = Number(values.top);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hitl-profile-'));
  const profileDir = values.out ?? path.join(workDir, 'profiles');
  const profiling = values['cpu-prof'] ?? false;
  if (profiling) {
    fs.mkdirSync(profileDir, { recursive: true });
    process.env.BENCH_WORKER_PROF = profileDir;
  }
  const sandboxDir = path.join(workDir, 'sandbox');
  fs.mkdirSync(sandboxDir);
  const stops: (() => Promise<void>)[] = [];
  try {
    const server = await startBenchServer(workDir, 'profile');
    stops.push(() => server.stop());
    const bundle = await workflowBundlePath(workDir);
    const oursQueue = `profile-ours-${Date.now().toString(36)}`;
    const oursWorker = await startWorkerChild(
      workerConfig(server, oursQueue, bundle, sandboxDir, TUNED_WORKER_OPTIONS),
    );
    stops.push(() => oursWorker.stop());
    const floorQueue = `profile-floor-${Date.now().toString(36)}`;
    const floorWorker = await startFloorWorker(server, floorQueue);
    stops.push(() => floorWorker.stop());
    const clients = [await connectBenchClient(server), await connectBenchClient(server)];
    for (const c of clients) stops.push(() => c.close());
    const sides: { flow: Flow; worker: BenchWorkerHandle }[] = [
      { flow: new TemporalFlow(clients[0]!.client, oursQueue, oursWorker.clock, TUNED_WAIT), worker: oursWorker },
      { flow: new FloorFlow(clients[1]!.client, floorQueue, floorWorker), worker: floorWorker },
    ];
    const windows: Window[] = [];
    const threadTables: Map<string, number>[] = [];
    for (const { flow, worker } of sides) {
      await closedLoop(flow, { concurrency, seconds: 3, warmupSeconds: 1 });
      const threads0 = threadCpuMs(worker.pid);
      const fromUs = monotonicUs();
      const result = await closedLoop(flow, { concurrency, seconds, warmupSeconds: 0, maxWarmupSeconds: 0 });
      windows.push({ fromUs, toUs: monotonicUs(), cycles: result.completed });
      threadTables.push(perThread(threads0, threadCpuMs(worker.pid), result.completed));
      console.log(
        `${flow.name}: ${result.cyclesPerSecond.toFixed(1)} cycles/s at ${concurrency} concurrent${profiling ? ' (profiled)' : ''}`,
      );
    }
    console.log('\n## worker CPU per cycle by thread (ms; /proc/<pid>/task)');
    const names = [...new Set(threadTables.flatMap((t) => [...t.keys()]))].sort(
      (a, b) => (threadTables[0]!.get(b) ?? 0) - (threadTables[0]!.get(a) ?? 0),
    );
    console.log(`${'thread'.padEnd(20)} ${sides.map(({ flow }) => flow.name.slice(0, 14).padStart(14)).join(' ')}`);
    for (const name of names)
      console.log(
        `${name.padEnd(20)} ${threadTables.map((t) => (t.get(name) ?? 0).toFixed(2).padStart(14)).join(' ')}`,
      );
    if (!profiling) return;
    // Stopping a child writes its profiles.
    await oursWorker.stop();
    await floorWorker.stop();
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
