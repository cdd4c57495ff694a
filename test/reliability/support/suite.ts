// Sizes, figures and small bounded helpers shared by the reliability scenarios.
import { appendFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../support/processes';

/** `HITL_RELIABILITY_FULL=1` (or `npm run test:reliability -- --full`): the sizes of issue 6. */
export const FULL = process.env.HITL_RELIABILITY_FULL === '1';

export const SIZES = FULL
  ? {
      crashPausedRuns: 200,
      crashToolRuns: 20,
      restartRuns: 200,
      raceActions: 50,
      raceApprovers: 8,
      expiryActions: 100,
      hostileInputs: 10_000,
    }
  : {
      crashPausedRuns: 24,
      crashToolRuns: 6,
      restartRuns: 24,
      raceActions: 10,
      raceApprovers: 4,
      expiryActions: 24,
      hostileInputs: 600,
    };

export const FIGURES_FILE = path.join(REPO_ROOT, 'test-results', 'reliability-figures.txt');

/** Prints the scenario's one figure line and keeps it in test-results/reliability-figures.txt. */
export function figure(line: string): void {
  console.log(`      figure  ${line}`);
  try {
    mkdirSync(path.dirname(FIGURES_FILE), { recursive: true });
    appendFileSync(FIGURES_FILE, `${new Date().toISOString()} ${FULL ? 'full' : 'ci'} ${line}\n`);
  } catch {
    // the console line is the figure; the file is a convenience
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Maps with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>) {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      results[index] = await fn(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Polls `probe` until it returns a truthy value; fails after `ms` with `what` (and the last value seen). */
export async function until<T>(
  probe: () => Promise<T | undefined | null | false>,
  what: string | (() => string),
  ms: number,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const label = typeof what === 'string' ? what : what();
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${ms} ms waiting for ${label}${cause}`);
    }
    await sleep(everyMs);
  }
}
