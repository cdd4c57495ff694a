// bench:timeline splits a cycle into its workflow tasks and activities by the history's own timestamps, and
// what it does not attribute to a step is still counted (the steps add up to the cycle).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { cycleSteps } from '../../bench/timeline';

const history = historyFromJSON(
  JSON.parse(readFileSync(path.join(__dirname, '../replay-histories', 'run-features-v4.json'), 'utf8')),
);
const events = history.events ?? [];
const at = (i: number) => Number(events[i]!.eventTime!.seconds) * 1000 + events[i]!.eventTime!.nanos! / 1e6;

describe('bench: cycleSteps', () => {
  const wall = { begin: at(0) - 3, paused: at(0) + 20, done: at(events.length - 1) + 2 };
  const steps = cycleSteps(events, wall);
  const names = steps.map(([name]) => name);

  it('names each workflow task and activity of an approval cycle in order', () => {
    assert.equal(names.filter((n) => n.endsWith(': on the worker')).length, 5);
    assert.deepEqual(
      names.filter((n) => n.endsWith(': running')),
      ['activity 1 (callModel): running', 'activity 2 (executeTool): running', 'activity 3 (callModel): running'],
    );
    assert.equal(names[0], 'client: start → run started');
  });

  it('reads the durations from the events and the client clock', () => {
    const get = (name: string) => steps.find(([n]) => n === name)?.[1];
    assert.equal(get('client: start → run started'), 3);
    assert.equal(get('client: run ended → result'), 2);
    assert.equal(get('cycle: start → paused (client)'), 23);
    // The first workflow task is on the worker from its started event (id 3) to its completed one (id 4).
    assert.equal(get('workflow task 1: on the worker'), at(3) - at(2));
  });

  it('adds up to the cycle: what no step holds is the rest', () => {
    const total = steps.find(([n]) => n === 'cycle: start → completed (client)')![1];
    const counted = steps.filter(([n]) => !n.startsWith('cycle:')).reduce((sum, [, ms]) => sum + ms, 0);
    assert.ok(Math.abs(counted - total) < 1e-6, `${counted} vs ${total}`);
    assert.ok(steps.every(([, ms]) => Number.isFinite(ms)));
  });
});
