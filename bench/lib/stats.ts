// Percentiles, medians over trials, and the clock every side of the benchmark uses.
import { performance } from 'node:perf_hooks';

/**
 * Wall-clock milliseconds with sub-millisecond resolution. `performance.timeOrigin` is the wall clock
 * at process start, so two processes on one machine (the harness and a worker child) share the scale.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => (ms <= 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));
}

export interface Percentiles {
  /** Number of samples. */
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentile of sorted values (q in 0..1). */
function rank(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((acc, v) => acc + v, 0);
  return {
    n: sorted.length,
    p50: rank(sorted, 0.5),
    p95: rank(sorted, 0.95),
    p99: rank(sorted, 0.99),
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  };
}

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/** Per-trial percentiles, and their medians across trials (the figure we report). */
export interface TrialPercentiles {
  trials: Percentiles[];
  median: Omit<Percentiles, 'n'> & { n: number };
}

export function medianOfTrials(trials: Percentiles[]): TrialPercentiles {
  return {
    trials,
    median: {
      n: trials.reduce((acc, t) => acc + t.n, 0),
      p50: median(trials.map((t) => t.p50)),
      p95: median(trials.map((t) => t.p95)),
      p99: median(trials.map((t) => t.p99)),
      mean: median(trials.map((t) => t.mean)),
      max: median(trials.map((t) => t.max)),
    },
  };
}

export interface TrialValues {
  trials: number[];
  median: number;
}

/**
 * The median over trials of `ours[i] ÷ base[i]`: the sides' trials are interleaved, so trial i of each ran under
 * the same conditions, and this ratio is fairer than the ratio of the two medians. Undefined without a pair.
 */
export function pairedRatio(ours: readonly number[] | undefined, base: readonly number[] | undefined): number | undefined {
  if (!ours || !base) return undefined;
  const ratios = ours.flatMap((value, i) => {
    const other = base[i];
    return other !== undefined && other > 0 && Number.isFinite(value) && Number.isFinite(other) ? [value / other] : [];
  });
  return ratios.length > 0 ? median(ratios) : undefined;
}

export function medianOf(trials: number[]): TrialValues {
  return { trials, median: median(trials) };
}

export const MIB = 1024 * 1024;

export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
