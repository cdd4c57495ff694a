// Is the shaped floor a fair comparison? Its history must hold the same events as a generation run's, type by
// type; each variant that leaves a part out must hold fewer. Used by `npm run bench` and `bench:profile`.
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { eventTypeName } from '../../src/dev/history';
import type { Flow } from '../lib/load';

/** How many events of each type a history has (`EVENT_TYPE_` left off). */
export function eventCounts(history: temporal.api.history.v1.IHistory): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of history.events ?? []) {
    const type = eventTypeName(event);
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return counts;
}

/** The event types whose counts differ, as `TYPE: a ≠ b`; empty when the two shapes match. */
export function shapeDifferences(a: Map<string, number>, b: Map<string, number>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])]
    .sort()
    .filter((type) => (a.get(type) ?? 0) !== (b.get(type) ?? 0))
    .map((type) => `${type}: ${a.get(type) ?? 0} ≠ ${b.get(type) ?? 0}`);
}

/**
 * One cycle of ours and of each shaped side; throws unless the first shaped side (the full shape) writes the
 * same events as ours and every other one writes fewer (it leaves its part out). Returns one line per side.
 */
export async function checkShapes(client: Client, ours: Flow, shaped: readonly Flow[]): Promise<string[]> {
  const shapeOf = async (flow: Flow): Promise<Map<string, number>> => {
    const paused = await flow.begin(1_000_000);
    await flow.finish(paused);
    return eventCounts(await client.workflow.getHandle(paused.key).fetchHistory());
  };
  const [full, ...variants] = shaped;
  if (!full) return [];
  const expected = await shapeOf(ours);
  const fullShape = await shapeOf(full);
  const differences = shapeDifferences(expected, fullShape);
  if (differences.length > 0)
    throw new Error(`${full.name} does not write ${ours.name}'s events: ${differences.join(', ')}`);
  const lines = [`${full.name}: the same ${[...expected.values()].reduce((a, b) => a + b, 0)} events as ours`];
  for (const variant of variants) {
    const missing = shapeDifferences(fullShape, await shapeOf(variant));
    if (missing.length === 0) throw new Error(`${variant.name} writes the full shape's events: it leaves nothing out`);
    lines.push(`${variant.name}: ${missing.join(', ')}`);
  }
  return lines;
}
