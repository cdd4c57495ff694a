import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import {
  CONTENT_STORE_PATCH,
  CONTINUE_WHILE_PAUSED_PATCH,
  MCP_TOOLS_PATCH,
  MODEL_RETRY_PATCH,
  RUN_FEATURES_PATCH,
  RUN_FEATURES_V3_PATCH,
  RUN_FEATURES_V4_PATCH,
} from '../../src/workflows/generation-run';
import { getWorkflowBundle } from '../hooks';
import { call, REPLAY_HISTORIES_DIR, scriptedInput, startHarness, waitForPending } from './harness';

// Histories recorded from the workflow scenarios (RECORD_HISTORIES=1 npm run test:workflow) replay
// against today's workflow code: a non-deterministic change fails here, before it reaches a server
// that holds paused runs.
describe('replay of recorded histories', function () {
  this.timeout(120_000);

  it('every checked-in history replays without a non-determinism error', async () => {
    const files = (await readdir(REPLAY_HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();
    assert.ok(files.length >= 5, `expected recorded histories in ${REPLAY_HISTORIES_DIR}, found ${files.length}`);
    const histories = await Promise.all(
      files.map(async (file) => ({
        workflowId: file.replace(/\.json$/, ''),
        history: historyFromJSON(JSON.parse(await readFile(join(REPLAY_HISTORIES_DIR, file), 'utf8'))),
      })),
    );
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: await getWorkflowBundle() }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, []);
  });
});

/** The patch ids of a history's core_patch markers, in order. */
function patchMarkers(history: ReturnType<typeof historyFromJSON>): string[] {
  return (history.events ?? []).flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });
}

// A patch marker recorded later in a run (at the first pause, right after the local activity that reads
// grants) can fall into another workflow task on replay than the one where the code asks for it: under
// load the CI's reliability suite failed paused runs with "patch marker encountered … but there is no
// corresponding change command" on a new worker. Patches are decided in the run's first workflow task.
// A new run records one marker, RUN_FEATURES_V4_PATCH, for every behaviour the older patches switched on.
describe('patch markers of generationRun', function () {
  this.timeout(60_000);

  it('a new run records one, run-features-v4, in the first workflow task, before any activity', async () => {
    const h = await startHarness();
    try {
      const { runId } = await h.client.startRun(
        scriptedInput([{ tool_calls: [call('call_1', 'append_file', { path: 'p.txt', content: 'x' })] }]),
      );
      await waitForPending(h.client, runId);
      const history = await h.env.client.workflow.getHandle(runId).fetchHistory();
      const events = history.events ?? [];
      const firstCompleted = events.findIndex((e) => e.workflowTaskCompletedEventAttributes);
      const firstActivity = events.findIndex((e) => e.activityTaskScheduledEventAttributes);
      assert.deepEqual(patchMarkers(history), [RUN_FEATURES_V4_PATCH]);
      const markers = events
        .map((e, index) => ({ index, name: e.markerRecordedEventAttributes?.markerName }))
        .filter((m) => m.name === 'core_patch');
      for (const marker of markers) {
        assert.ok(marker.index > firstCompleted && marker.index < firstActivity, `marker at event ${marker.index}`);
      }
      // The SDK core writes TemporalChangeVersion once per marker: once.
      const changeVersions = events.filter(
        (e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.TemporalChangeVersion,
      );
      assert.equal(changeVersions.length, 1);
      // No local-activity marker (a local activity's result could be recorded one workflow task before the run
      // saw it; test/workflow/local-activity-update-race.test.ts), and no grants read of its own: the model call
      // brought them (test/workflow/model-call-extras.test.ts).
      assert.deepEqual(
        markers.map((m) => m.name),
        events.flatMap((e) => (e.markerRecordedEventAttributes ? [e.markerRecordedEventAttributes.markerName] : [])),
      );
      assert.ok(!events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'loadGrants'));
      await h.client.abort(runId);
    } finally {
      await h.stop();
    }
  });

  // Each way a run decides its behaviour must stay replay-tested: a run recorded before any patch, one with the
  // four older markers, one with run-features-v2 (test/replay-histories/run-features-v2.json: local activities),
  // one with run-features-v3 (run-features-v3.json: grants read and transcript closed by activities of their
  // own) and one with run-features-v4 (run-features-v4.json); all three recorded by
  // search-attribute-writes.test.ts, each before the next existed. Re-recording every fixture with today's
  // code would lose all but the last.
  it('the fixtures replay runs recorded before any patch, with the four older ones, and with run-features-v2, -v3 and -v4', async () => {
    const files = (await readdir(REPLAY_HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();
    const byMarkers = new Map<string, string[]>();
    for (const file of files) {
      const history = historyFromJSON(JSON.parse(await readFile(join(REPLAY_HISTORIES_DIR, file), 'utf8')));
      if (history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name !== 'generationRun')
        continue;
      const key = patchMarkers(history).join(' ');
      byMarkers.set(key, [...(byMarkers.get(key) ?? []), file]);
    }
    for (const markers of [
      '',
      [CONTINUE_WHILE_PAUSED_PATCH, MODEL_RETRY_PATCH, CONTENT_STORE_PATCH, MCP_TOOLS_PATCH].join(' '),
      RUN_FEATURES_PATCH,
      RUN_FEATURES_V3_PATCH,
      RUN_FEATURES_V4_PATCH,
    ]) {
      assert.ok(byMarkers.has(markers), `no fixture with the markers [${markers}]: ${JSON.stringify([...byMarkers])}`);
    }
  });
});
