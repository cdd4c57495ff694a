// `npm run bench:replay [-- --base <git revision>] [-- --rounds N] [-- --quick] [-- --only <fixture>[,<fixture>…]]
// [-- --counts-only]`: CPU time the worker spends to replay a run, which is what creating a workflow instance
// costs (every new run, every resume of an evicted run). Replays the recorded fixtures (test/replay-histories)
// with the current workflow bundle and, with `--base`, with the bundle of an earlier revision in the same
// process, rounds alternating; prints CPU per replay for each side and current ÷ base. Only fixtures that both
// revisions replay clean are counted; `--only` keeps the named ones (e.g. `run-features-v4`, a new run's
// approve cycle), with more copies per round.
// First it prints the promises the workflow code creates per replay and the stack frames the SDK captures for
// them: figures that, unlike CPU time on a shared machine, are the same on every run of the same code, so a
// small change to the workflow code can be priced; `--counts-only` prints only those.
// No server: `Worker.runReplayHistories` needs none.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { temporal } from '@temporalio/proto';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { workflowBundleOptions } from '../src/worker';
import { median } from './lib/stats';
import { countWorkflowPromises, type WorkflowPromiseCounts } from './lib/workflow-promises';

const ROOT = path.resolve(__dirname, '..');

interface Side {
  name: string;
  bundle: WorkflowBundleWithSourceMap;
  /** CPU ms per replay, one figure per round. */
  perReplay: number[];
}

function fixtures(dir: string): Map<string, temporal.api.history.v1.IHistory> {
  const found = new Map<string, temporal.api.history.v1.IHistory>();
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()) {
    found.set(file.replace(/\.json$/, ''), historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8'))));
  }
  return found;
}

async function bundle(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  const quiet = (): undefined => undefined;
  return bundleWorkflowCode({
    ...workflowBundleOptions(workflowsPath),
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: console.error },
  });
}

/** Fixtures listed one by one in the counts; more are summed. */
const MAX_FIXTURES_LISTED = 8;

/** Promises and stack frames of one replay of each history, on each side. */
async function printCounts(sides: Side[], histories: Map<string, temporal.api.history.v1.IHistory>): Promise<void> {
  const bySide = new Map<string, Map<string, WorkflowPromiseCounts>>();
  for (const side of sides) {
    const counts = new Map<string, WorkflowPromiseCounts>();
    for (const [name, history] of histories) {
      const stop = countWorkflowPromises();
      const failed = await replay(side, new Map([[name, history]]), 1);
      const counted = stop();
      if (failed.size > 0) throw new Error(`${side.name} failed to replay ${name}`);
      counts.set(name, counted);
    }
    bySide.set(side.name, counts);
  }
  const format = ({ promises, frames }: WorkflowPromiseCounts): string =>
    `${String(promises).padStart(6)} promises ${String(frames).padStart(7)} frames`;
  const sum = (counts: Iterable<WorkflowPromiseCounts>): WorkflowPromiseCounts => {
    const total = { promises: 0, frames: 0 };
    for (const { promises, frames } of counts) {
      total.promises += promises;
      total.frames += frames;
    }
    return total;
  };
  console.log('per replay (deterministic): promises the workflow code creates, stack frames the SDK captures for them');
  const rows: [string, (counts: Map<string, WorkflowPromiseCounts>) => WorkflowPromiseCounts][] =
    histories.size <= MAX_FIXTURES_LISTED
      ? [...histories.keys()].map((name) => [name, (counts) => counts.get(name)!])
      : [[`all ${histories.size} fixtures`, (counts) => sum(counts.values())]];
  for (const [label, pick] of rows) {
    const figures = sides.map((side) => pick(bySide.get(side.name)!));
    const ratio =
      figures.length === 2
        ? `   current ÷ base: ${(figures[0]!.promises / figures[1]!.promises).toFixed(2)} / ` +
          `${(figures[0]!.frames / figures[1]!.frames).toFixed(2)}`
        : '';
    console.log(`  ${label}`);
    sides.forEach((side, index) =>
      console.log(`    ${side.name.padEnd(22)} ${format(figures[index]!)}${index === 0 ? ratio : ''}`),
    );
  }
}

/** Replays every history `copies` times; returns the ids that failed. */
async function replay(
  side: Side,
  histories: Map<string, temporal.api.history.v1.IHistory>,
  copies: number,
): Promise<Set<string>> {
  async function* all() {
    for (let copy = 0; copy < copies; copy += 1) {
      for (const [workflowId, history] of histories) yield { workflowId: `${workflowId}#${copy}`, history };
    }
  }
  const failed = new Set<string>();
  for await (const result of Worker.runReplayHistories({ workflowBundle: side.bundle }, all())) {
    if (result.error) failed.add(result.workflowId.split('#')[0]!);
  }
  return failed;
}

/** CPU per replay of each side, rounds alternating (every other round in reverse), and current ÷ base. */
async function printCpuPerReplay(
  sides: Side[],
  histories: Map<string, temporal.api.history.v1.IHistory>,
  rounds: number,
  copies: number,
): Promise<void> {
  const replays = histories.size * copies;
  console.log(`${histories.size} fixtures × ${copies} copies per round, ${rounds} rounds, sides alternating`);
  for (let round = 0; round < rounds; round += 1) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const before = process.cpuUsage();
      const failed = await replay(side, histories, copies);
      if (failed.size > 0) throw new Error(`${side.name} failed to replay ${[...failed].join(', ')}`);
      const used = process.cpuUsage(before);
      side.perReplay.push((used.user + used.system) / 1000 / replays);
    }
  }
  for (const side of sides) {
    const sorted = [...side.perReplay].sort((a, b) => a - b);
    console.log(
      `${side.name.padEnd(24)} CPU per replay: median ${median(side.perReplay).toFixed(2)} ms ` +
        `(rounds ${sorted[0]!.toFixed(2)}–${sorted[sorted.length - 1]!.toFixed(2)})`,
    );
  }
  if (sides.length === 2) {
    console.log(`current ÷ base: ${(median(sides[0]!.perReplay) / median(sides[1]!.perReplay)).toFixed(2)}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'counts-only': { type: 'boolean', default: false },
    },
  });
  const rounds = Number(values.rounds ?? (values.quick ? 3 : 10));
  const only = values.only === undefined ? undefined : new Set(values.only.split(',').filter((name) => name !== ''));
  // A round of a few fixtures replays each more often, so a round still lasts long enough to measure.
  const copies = (values.quick ? 5 : 20) * (only === undefined ? 1 : 10);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  let histories = fixtures(path.join(ROOT, 'test/replay-histories'));
  if (only !== undefined) {
    const unknown = [...only].filter((name) => !histories.has(name));
    if (unknown.length > 0) throw new Error(`--only: no fixture named ${unknown.join(', ')} in test/replay-histories`);
    histories = new Map([...histories].filter(([name]) => only.has(name)));
  }
  const sides: Side[] = [{ name: 'current', bundle: await bundle(path.join(ROOT, 'src/workflows')), perReplay: [] }];
  let baseDir: string | undefined;
  if (values.base !== undefined) {
    baseDir = mkdtempSync(path.join(tmpdir(), 'hitl-bench-replay-'));
    // The base's sources and fixtures as committed, with this checkout's node_modules.
    const archive = execFileSync('git', ['-C', ROOT, 'archive', values.base, 'src', 'test/replay-histories'], {
      maxBuffer: 512 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', baseDir], { input: archive });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(baseDir, 'node_modules'), 'dir');
    const baseFixtures = fixtures(path.join(baseDir, 'test/replay-histories'));
    histories = new Map([...histories].filter(([name]) => baseFixtures.has(name)));
    sides.push({
      name: `base ${values.base}`,
      bundle: await bundle(path.join(baseDir, 'src/workflows')),
      perReplay: [],
    });
  }
  // Warm-up, and the fixtures every side replays clean.
  for (const side of sides) {
    for (const name of await replay(side, histories, 1)) {
      console.log(`skipped ${name}: ${side.name} does not replay it`);
      histories.delete(name);
    }
  }
  await printCounts(sides, histories);
  if (!values['counts-only']) await printCpuPerReplay(sides, histories, rounds, copies);
  if (baseDir !== undefined) rmSync(baseDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
