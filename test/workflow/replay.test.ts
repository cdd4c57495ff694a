import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { getWorkflowBundle } from '../hooks';
import { REPLAY_HISTORIES_DIR } from './harness';

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
