// bench:profile counts only the samples inside a side's own rounds, and never the idle ones; it compares
// the shaped floor's history with ours by event counts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { eventCounts, shapeDifferences } from '../../bench/floor/shape-check';
import { summarizeProfile } from '../../bench/profile';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

// Samples every 1 000 µs from t = 1 000: a (in our src), (idle), b (a package), a, b, a.
const profile = {
  nodes: [
    { id: 1, callFrame: frame('a', 'file:///work/main/src/content-store/sqlite-store.ts') },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('b', 'file:///x/node_modules/@temporalio/worker/lib/worker.js') },
  ],
  startTime: 0,
  samples: [1, 2, 3, 1, 3, 1],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
};

describe('bench: summarizeProfile', () => {
  it('counts busy samples inside the spans only, by function and by package', () => {
    // Spans cover t = 1 000–3 000 and 5 000–6 000: samples a, (idle), b, then b, a.
    const summary = summarizeProfile(profile, [
      { fromUs: 1000, toUs: 3000 },
      { fromUs: 5000, toUs: 6000 },
    ]);
    assert.equal(summary.busyMs, 4);
    assert.deepEqual(Object.fromEntries(summary.byPackage), { src: 2, '@temporalio/worker': 2 });
    assert.deepEqual(Object.fromEntries(summary.byFunction), {
      'a src/content-store/sqlite-store.ts:1': 2,
      'b @temporalio/worker/lib/worker.js:1': 2,
    });
  });

  it('counts nothing outside every span', () => {
    const summary = summarizeProfile(profile, [{ fromUs: 10_000, toUs: 20_000 }]);
    assert.equal(summary.busyMs, 0);
    assert.equal(summary.byFunction.size, 0);
  });
});

describe('bench: history shapes', () => {
  const fixture = (name: string) =>
    historyFromJSON(JSON.parse(readFileSync(path.join(__dirname, '../replay-histories', `${name}.json`), 'utf8')));

  it('counts the events of each type', () => {
    const counts = eventCounts(fixture('run-features-v4'));
    assert.equal(
      [...counts.values()].reduce((a, b) => a + b, 0),
      39,
    );
    assert.equal(counts.get('TIMER_STARTED'), 2);
    assert.equal(counts.get('TIMER_CANCELED'), 2);
    assert.equal(counts.get('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES'), 4);
    assert.equal(counts.get('MARKER_RECORDED'), 1);
    assert.equal(counts.get('ACTIVITY_TASK_COMPLETED'), 3);
  });

  it('names the types whose counts differ', () => {
    const v4 = eventCounts(fixture('run-features-v4'));
    assert.deepEqual(shapeDifferences(v4, eventCounts(fixture('run-features-v4'))), []);
    // approve-once is older: no waiter (so no bounded wait) and one more status write.
    assert.deepEqual(shapeDifferences(v4, eventCounts(fixture('approve-once'))), [
      'TIMER_CANCELED: 2 ≠ 1',
      'TIMER_STARTED: 2 ≠ 1',
      'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: 4 ≠ 5',
      'WORKFLOW_EXECUTION_UPDATE_ACCEPTED: 2 ≠ 1',
      'WORKFLOW_EXECUTION_UPDATE_COMPLETED: 2 ≠ 1',
    ]);
  });
});
