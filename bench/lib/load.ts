// The load drivers, shared by both sides: a side only has to say how to start a run until it is paused,
// and how to resolve it until it completes. Everything is timed here, with the same clock.
import { now, percentiles, sleep, type Percentiles } from './stats';

/** A run that is paused and whose pending action has been read. */
export interface PausedRun {
  key: string;
  /** Whatever the side needs to resolve it (action id, …). */
  handle: unknown;
  tStart: number;
  tPaused: number;
}

export interface FinishedRun {
  tResolve: number;
  /** When the resolution was acknowledged (Temporal: the update returned); undefined when the side has no ack. */
  tAck: number | undefined;
  /** When the tool started (recorded where it runs). */
  tTool: number;
  tDone: number;
}

/** One side of the comparison. */
export interface Flow {
  readonly name: string;
  /** Starts a run and returns once its pending action can be read by someone else. */
  begin(index: number): Promise<PausedRun>;
  /** Approves the pending tool call and returns once the run has completed. */
  finish(run: PausedRun): Promise<FinishedRun>;
}

export interface CycleSamples {
  startToPaused: number[];
  resolveToAck: number[];
  resolveToTool: number[];
  resolveToDone: number[];
  /** Whole cycle: start → completed (with the approver answering at once). */
  cycle: number[];
}

export function emptySamples(): CycleSamples {
  return { startToPaused: [], resolveToAck: [], resolveToTool: [], resolveToDone: [], cycle: [] };
}

function record(samples: CycleSamples, paused: PausedRun, done: FinishedRun): void {
  samples.startToPaused.push(paused.tPaused - paused.tStart);
  if (done.tAck !== undefined) samples.resolveToAck.push(done.tAck - done.tResolve);
  samples.resolveToTool.push(done.tTool - done.tResolve);
  samples.resolveToDone.push(done.tDone - done.tResolve);
  samples.cycle.push(done.tDone - paused.tStart);
}

export interface SamplePercentiles {
  startToPaused: Percentiles;
  resolveToAck: Percentiles | undefined;
  resolveToTool: Percentiles;
  resolveToDone: Percentiles;
  cycle: Percentiles;
}

export function summarize(samples: CycleSamples): SamplePercentiles {
  return {
    startToPaused: percentiles(samples.startToPaused),
    resolveToAck: samples.resolveToAck.length ? percentiles(samples.resolveToAck) : undefined,
    resolveToTool: percentiles(samples.resolveToTool),
    resolveToDone: percentiles(samples.resolveToDone),
    cycle: percentiles(samples.cycle),
  };
}

let counter = 0;
/** A process-wide index so every run of every phase gets its own id. */
export function nextIndex(): number {
  return counter++;
}

export interface ClosedLoopResult {
  concurrency: number;
  completed: number;
  errors: number;
  firstError?: string;
  seconds: number;
  cyclesPerSecond: number;
  samples: CycleSamples;
}

/** Options of {@link closedLoop}. */
export interface ClosedLoopOptions {
  concurrency: number;
  /** Measured window, at least. */
  seconds: number;
  warmupSeconds: number;
  maxWarmupSeconds?: number;
  /**
   * The window lasts at least this many cycles (the median whole cycle of the warm-up): at saturation a cycle
   * can take longer than `seconds`, and the loops, started together, complete in waves, so a shorter window
   * counts one wave or two by chance.
   */
  windowCycles?: number;
}

/**
 * `concurrency` loops, each doing full approve cycles back to back (start, pause, resolve, tool, final
 * answer). The measured window opens once the warm-up is over: at least `warmupSeconds`, and at least
 * `concurrency` cycles completed (so the pipeline is full), but at most `maxWarmupSeconds`. It lasts
 * `seconds`, or `windowCycles` of the warm-up's cycles if that is longer. The figures are the cycles that
 * completed inside the window.
 */
export async function closedLoop(flow: Flow, opts: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const samples = emptySamples();
  const tBegin = now();
  const minWarmEnd = tBegin + opts.warmupSeconds * 1000;
  const maxWarmEnd = tBegin + (opts.maxWarmupSeconds ?? Math.max(30, opts.warmupSeconds)) * 1000;
  let tMeasure: number | undefined;
  let tEnd = Number.POSITIVE_INFINITY;
  let windowSeconds = opts.seconds;
  /** Whole cycles completed during the warm-up (ms). */
  const warmCycles: number[] = [];
  let done = 0;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const maybeOpenWindow = (): void => {
    if (tMeasure !== undefined) return;
    const t = now();
    if ((t >= minWarmEnd && done >= opts.concurrency) || t >= maxWarmEnd) {
      tMeasure = t;
      const cycleMs = warmCycles.length > 0 ? percentiles(warmCycles).p50 : 0;
      windowSeconds = Math.max(opts.seconds, ((opts.windowCycles ?? 0) * cycleMs) / 1000);
      tEnd = t + windowSeconds * 1000;
    }
  };
  const ticker = setInterval(maybeOpenWindow, 50);
  const loop = async (): Promise<void> => {
    while (now() < tEnd) {
      try {
        const paused = await flow.begin(nextIndex());
        const finished = await flow.finish(paused);
        done += 1;
        if (tMeasure === undefined) warmCycles.push(finished.tDone - paused.tStart);
        maybeOpenWindow();
        if (tMeasure !== undefined && finished.tDone >= tMeasure && finished.tDone <= tEnd) {
          completed += 1;
          record(samples, paused, finished);
        }
      } catch (err) {
        errors += 1;
        firstError ??= err instanceof Error ? err.message : String(err);
        await sleep(50);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, loop));
  } finally {
    clearInterval(ticker);
  }
  return {
    concurrency: opts.concurrency,
    completed,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    seconds: windowSeconds,
    cyclesPerSecond: completed / windowSeconds,
    samples,
  };
}

/**
 * The order in which `count` sides take their turn in round `round` (0-based): as listed, every other round in
 * reverse. Each side's mean place in the order is the same, and sides listed next to each other (the ones
 * compared most) stay next to each other in time.
 */
export function turnOrder(count: number, round: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  return round % 2 === 0 ? order : order.reverse();
}

/**
 * Closed loops of every side in short blocks, the sides taking turns block by block (every other round in
 * reverse order): at saturation a side's figure swings with the shared machine's minute, and one block per side puts
 * each side into a different minute. Each block is a {@link closedLoop} of its own (warm-up, measured window,
 * drain); a side's result adds up its blocks: cycles per second = cycles completed in its windows ÷ their
 * length.
 */
export async function interleavedClosedLoops(
  flows: readonly Flow[],
  opts: ClosedLoopOptions & { blocks: number },
  onBlock?: (flow: Flow, block: number, result: ClosedLoopResult) => void,
): Promise<ClosedLoopResult[]> {
  if (!Number.isInteger(opts.blocks) || opts.blocks < 1) throw new Error('blocks must be a positive integer');
  const results: ClosedLoopResult[] = flows.map(() => ({
    concurrency: opts.concurrency,
    completed: 0,
    errors: 0,
    seconds: 0,
    cyclesPerSecond: 0,
    samples: emptySamples(),
  }));
  const { blocks: _blocks, ...loop } = opts;
  for (let block = 0; block < opts.blocks; block++) {
    for (const i of turnOrder(flows.length, block)) {
      const result = await closedLoop(flows[i]!, loop);
      onBlock?.(flows[i]!, block, result);
      const into = results[i]!;
      into.completed += result.completed;
      into.errors += result.errors;
      if (result.firstError !== undefined) into.firstError ??= result.firstError;
      into.seconds += result.seconds;
      into.cyclesPerSecond = into.completed / into.seconds;
      for (const key of Object.keys(into.samples) as (keyof CycleSamples)[])
        into.samples[key].push(...result.samples[key]);
    }
  }
  return results;
}

/** One side's share of {@link alternatingIdle}. */
export interface AlternatingResult {
  samples: CycleSamples;
  errors: number;
  firstError?: string;
  /** Wall time (ms) the side's cycles took, failed ones included: its throughput one run at a time. */
  busyMs: number;
}

/**
 * One run at a time, the sides taking turns cycle by cycle (each round in a rotated order, so no side always
 * follows the same one): every side meets the machine's moods alike, which a block of cycles per side does not
 * guarantee on a shared machine. `cycles` per side; a failed cycle is counted and not recorded.
 */
export async function alternatingIdle(flows: readonly Flow[], cycles: number): Promise<AlternatingResult[]> {
  const results: AlternatingResult[] = flows.map(() => ({ samples: emptySamples(), errors: 0, busyMs: 0 }));
  for (let round = 0; round < cycles; round++) {
    for (let k = 0; k < flows.length; k++) {
      const i = (round + k) % flows.length;
      const result = results[i]!;
      const tBegin = now();
      try {
        const paused = await flows[i]!.begin(nextIndex());
        record(result.samples, paused, await flows[i]!.finish(paused));
      } catch (err) {
        result.errors += 1;
        result.firstError ??= err instanceof Error ? err.message : String(err);
      } finally {
        result.busyMs += now() - tBegin;
      }
    }
  }
  return results;
}

/**
 * Completed cycles per second of a side taking its turns one run at a time: the same quantity as a closed loop
 * at 1 concurrent, but measured while the sides alternate, so a busy minute on the machine weighs on them alike.
 */
export function cyclesPerSecondOneAtATime(result: AlternatingResult): number {
  return result.busyMs > 0 ? (result.samples.cycle.length * 1000) / result.busyMs : 0;
}

export interface OpenLoopResult {
  ratePerSecond: number;
  offered: number;
  completed: number;
  errors: number;
  firstError?: string;
  /** Runs in flight at most at once (a sign the side kept up, or did not). */
  maxInFlight: number;
  samples: CycleSamples;
}

/**
 * Steady offered load: a new run every 1/rate seconds for `seconds` (after `warmupSeconds` at the same
 * rate, not counted), whatever the runs in flight; each run is resolved as soon as it is paused.
 */
export async function openLoop(
  flow: Flow,
  opts: { ratePerSecond: number; seconds: number; warmupSeconds: number },
): Promise<OpenLoopResult> {
  const samples = emptySamples();
  const interval = 1000 / opts.ratePerSecond;
  const warmupCount = Math.round(opts.warmupSeconds * opts.ratePerSecond);
  const total = warmupCount + Math.round(opts.seconds * opts.ratePerSecond);
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  const runs: Promise<void>[] = [];
  const tBegin = now();
  for (let i = 0; i < total; i++) {
    const due = tBegin + i * interval;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    const counted = i >= warmupCount;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    runs.push(
      (async () => {
        try {
          const paused = await flow.begin(nextIndex());
          const done = await flow.finish(paused);
          if (counted) {
            completed += 1;
            record(samples, paused, done);
          }
        } catch (err) {
          errors += 1;
          firstError ??= err instanceof Error ? err.message : String(err);
        } finally {
          inFlight -= 1;
        }
      })(),
    );
  }
  await Promise.all(runs);
  return {
    ratePerSecond: opts.ratePerSecond,
    offered: total - warmupCount,
    completed,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    maxInFlight,
    samples,
  };
}

/** Runs `task` over `items` with at most `concurrency` at once; returns the results in order. */
export async function pool<T, R>(items: readonly T[], concurrency: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
