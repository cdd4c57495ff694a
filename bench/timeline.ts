// `npm run bench:timeline [-- --cycles 60]`
//
// Where an idle approval cycle's time goes, step by step: ours beside the floor and the floor with the
// product's events, on one dev server, one run at a time, sides alternating cycle by cycle. Each cycle's
// history gives the server's timestamps of every workflow task (queued, then on the worker: the activation, the
// workflow code and the completion's round trip) and every activity (queued, running); the client's clock gives
// the start before the first event and the result after the last. Medians per step, in ms.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { temporal } from '@temporalio/proto';
import { checkShapes } from './floor/shape-check';
import { FloorFlow } from './floor/side';
import { startComparisonStack } from './lib/comparison-stack';
import type { Flow } from './lib/load';
import { median, now } from './lib/stats';
import { connectBenchClient, TemporalFlow, TUNED_WAIT, useBenchContentStore } from './temporal/side';

type Event = temporal.api.history.v1.IHistoryEvent;

const eventMs = (event: Event): number =>
  Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;

/** Client-side wall-clock times (ms since the epoch, fractional) of one cycle. */
export interface CycleWallClock {
  begin: number;
  paused: number;
  done: number;
}

/**
 * One cycle's steps in order, as [name, ms]: the client's start, each workflow task (queued, on the worker),
 * each activity (queued, running; named by its type), the result's way back to the client, and what is left of
 * the cycle (the server between events, the pause's way to the client, the resolve's round trip).
 */
export function cycleSteps(events: readonly Event[], wall: CycleWallClock): [string, number][] {
  const first = events[0];
  const last = events.at(-1);
  if (!first || !last) return [];
  const steps: [string, number][] = [['client: start → run started', eventMs(first) - wall.begin]];
  const byId = new Map(events.map((event) => [Number(event.eventId), event]));
  // A completed event names the started event it ends (workflow task or activity).
  const endOf = new Map<number, Event>();
  for (const event of events) {
    const ended =
      event.workflowTaskCompletedEventAttributes?.startedEventId ??
      event.activityTaskCompletedEventAttributes?.startedEventId;
    if (ended !== undefined && ended !== null) endOf.set(Number(ended), event);
  }
  /** `<label>: queued` (scheduled → started) and `<running>` (started → its completion), when recorded. */
  const span = (label: string, running: string, started: Event, scheduledEventId: unknown): void => {
    const scheduled = byId.get(Number(scheduledEventId));
    const completed = endOf.get(Number(started.eventId));
    if (scheduled) steps.push([`${label}: queued`, eventMs(started) - eventMs(scheduled)]);
    if (completed) steps.push([`${label}: ${running}`, eventMs(completed) - eventMs(started)]);
  };
  let task = 0;
  let activity = 0;
  for (const event of events) {
    const taskStarted = event.workflowTaskStartedEventAttributes;
    if (taskStarted) span(`workflow task ${++task}`, 'on the worker', event, taskStarted.scheduledEventId);
    const activityStarted = event.activityTaskStartedEventAttributes;
    if (activityStarted) {
      const name = byId.get(Number(activityStarted.scheduledEventId))?.activityTaskScheduledEventAttributes
        ?.activityType?.name;
      span(`activity ${++activity} (${name ?? '?'})`, 'running', event, activityStarted.scheduledEventId);
    }
  }
  steps.push(['client: run ended → result', wall.done - eventMs(last)]);
  const counted = steps.reduce((sum, [, ms]) => sum + ms, 0);
  steps.push([
    'the rest (server between tasks, the pause and the resolve on the wire)',
    wall.done - wall.begin - counted,
  ]);
  steps.push(['cycle: start → paused (client)', wall.paused - wall.begin]);
  steps.push(['cycle: start → completed (client)', wall.done - wall.begin]);
  return steps;
}

/** Activity names differ between sides; steps are compared by position within their kind. */
const stepKey = (name: string): string => name.replace(/ \([^)]*\)/, '');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { cycles: { type: 'string', default: '60' } } });
  const cycles = Number(values.cycles);
  if (!Number.isInteger(cycles) || cycles < 1) throw new Error('--cycles must be a positive integer');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hitl-timeline-'));
  useBenchContentStore(workDir);
  const stops: (() => Promise<void>)[] = [];
  try {
    const { server, ours, floor, shaped } = await startComparisonStack(workDir, 'timeline', stops, { shaped: true });
    const { client, close } = await connectBenchClient(server);
    stops.push(close);
    const sides: Flow[] = [
      new TemporalFlow(client, ours.queue, ours.worker.clock, TUNED_WAIT),
      new FloorFlow(client, floor.queue, floor.worker),
      new FloorFlow(client, shaped!.queue, shaped!.worker, {}),
    ];
    for (const line of await checkShapes(client, sides[0]!, [sides[2]!])) console.log(line);
    let index = 0;
    for (const side of sides) for (let i = 0; i < 10; i++) await side.finish(await side.begin(index++));
    const samples = sides.map(() => new Map<string, number[]>());
    const labels = new Map<string, string>();
    for (let i = 0; i < cycles; i++) {
      for (const [s, side] of sides.entries()) {
        const begin = now();
        const paused = await side.begin(index++);
        const pausedAt = now();
        await side.finish(paused);
        const wall = { begin, paused: pausedAt, done: now() };
        const history = await client.workflow.getHandle(paused.key).fetchHistory();
        for (const [name, ms] of cycleSteps(history.events ?? [], wall)) {
          const key = stepKey(name);
          if (s === 0 || !labels.has(key)) labels.set(key, name);
          const list = samples[s]!.get(key) ?? [];
          list.push(ms);
          samples[s]!.set(key, list);
        }
      }
      if ((i + 1) % 10 === 0) console.log(`${i + 1}/${cycles} cycles per side`);
    }
    const cell = (s: number, key: string) => {
      const list = samples[s]!.get(key);
      return list ? median(list) : Number.NaN;
    };
    console.log(`\nidle cycle, step by step (ms, medians of ${cycles} cycles per side; sides alternate)`);
    console.log(`| step | ${sides.map((side) => side.name).join(' | ')} | ours − shaped floor |`);
    console.log(`| --- | ${sides.map(() => '---:').join(' | ')} | ---: |`);
    for (const [key, label] of labels) {
      const figures = sides.map((_, s) => cell(s, key));
      console.log(
        `| ${label} | ${figures.map((v) => (Number.isFinite(v) ? v.toFixed(2) : '—')).join(' | ')} | ${(figures[0]! - figures[2]!).toFixed(2)} |`,
      );
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    fs.rmSync(workDir, { recursive: true, force: true });
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
