// An update that arrives while a run reads its grants (or closes its transcript), in a workflow task that
// also answers queries: the run's history must replay.
//
// Runs started with run-features-v4 usually do neither: the model call brings the grants and closes the
// transcript with a final answer; the run still does them itself when the model call could not, and that is
// what this test makes it do.
//
// Runs recorded before run-features-v3 did both with a local activity. The SDK core (1.24.0) can complete
// such a workflow task with the local activity's marker while the workflow has not seen the result yet: a
// query answered while the local activity was finishing completes the task and asks for a new one. That new
// task delivers the update and the result together, updates first, so the run accepts the update and then
// pauses (or completes); a replay gets the result at the marker, one task earlier, and pauses before the
// update: "UpsertWorkflowSearchAttributesMachine does not handle WorkflowExecutionUpdateAccepted". The race
// test (test/reliability/races.test.ts, resolution-race) hit it about one run in two; this test builds the
// interleaving on purpose:
//  1. the first model call is held while the only workflow worker stops, so the workflow task that follows
//     waits on the queue, and queries sent meanwhile are attached to it;
//  2. a new workflow worker takes that task; when the activity starts, a process of its own (the Temporal
//     CLI) sends a `resolveAction` update, and the test holds the worker's event loop, so the queries are
//     answered only once the activity's result is on its way to the SDK core.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createWorkerActivities, loadActivitiesConfigFromEnv } from '../../src/activities';
import { HitlClient } from '../../src/client';
import { sharedContentStore } from '../../src/content-store';
import {
  resolveActionUpdate,
  type CallModelRequest,
  type CloseTranscriptRequest,
  type LoadGrantsRequest,
} from '../../src/contracts';
import { resolveTemporalCliPath } from '../../src/dev/temporal-cli';
import { getTestEnv, getWorkflowBundle } from '../hooks';
import { call, eventually, scriptedInput, waitForPending } from './harness';

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

/** Queries attached to the task that starts the activity. */
const QUERIES = 8;
/** How long the worker's event loop is held when the activity starts: the CLI's update reaches the server. */
const HOLD_MS = 2500;
/** Runs in which the update must arrive while the activity runs, and at most how many runs to try for them. */
const RUNS = 2;
const MAX_ATTEMPTS = 6;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Blocks this thread (every worker of this process) for `ms`. */
function holdEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function indexOf(history: History, found: (event: HistoryEvent) => boolean): number {
  return (history.events ?? []).findIndex(found);
}

function isPause(event: HistoryEvent): boolean {
  const status = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.HitlStatus;
  return Buffer.from(status?.data ?? []).toString('utf8') === '"requires_action"';
}

interface Scenario {
  /** The activity the update races with. */
  activity: 'loadGrants' | 'closeTranscript';
  script: Parameters<typeof scriptedInput>[0];
  /** What the run does after the activity (the update must come before it). */
  after: (event: HistoryEvent) => boolean;
  /** Lets the run end once it has done that. */
  settle: (hitl: HitlClient, runId: string) => Promise<void>;
}

const SCENARIOS: Record<string, Scenario> = {
  'reads its grants (before it pauses)': {
    activity: 'loadGrants',
    script: [{ tool_calls: [call('call_1', 'append_file', { path: 'race.txt', content: 'x' })] }],
    after: isPause,
    async settle(hitl, runId) {
      await waitForPending(hitl, runId);
      await hitl.abort(runId);
    },
  },
  'closes its transcript (before it completes)': {
    activity: 'closeTranscript',
    script: [{ content: 'Nothing to do.' }],
    after: (event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    async settle(hitl, runId) {
      await hitl.result(runId);
    },
  },
};

describe('an update while a run waits for a grants read or a transcript close (real dev server)', function () {
  this.timeout(240_000);

  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    it(`${name}: the run takes the update and its history replays`, async () => {
      const env = await getTestEnv();
      const taskQueue = `test-${randomUUID()}`;
      const sandboxDir = await mkdtemp(join(tmpdir(), 'hitl-sandbox-'));
      const real = createWorkerActivities(env.client, taskQueue, { ...loadActivitiesConfigFromEnv(), sandboxDir });
      const hitl = new HitlClient(env.client, taskQueue, () => sharedContentStore());
      const workflowBundle = await getWorkflowBundle();

      let modelCalled = deferred();
      let releaseModel = deferred();
      let updateSent: Promise<number> | undefined;
      let current = { runId: '', userId: '' };
      /**
       * Sends the update from another process and holds the event loop; no await before the activity's value
       * is returned, so the worker answers the queries only after it.
       */
      function raceTheUpdate(): void {
        // A late resolution (an unknown action): the run accepts the update and its handler refuses it.
        const resolution = {
          actionId: 'no-such-action',
          approver: current.userId,
          decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
        };
        const cli = spawn(
          resolveTemporalCliPath(),
          [
            ...['workflow', 'update', 'execute', '--address', env.address, '--namespace', 'default'],
            ...['--workflow-id', current.runId, '--name', resolveActionUpdate.name],
            ...['--input', JSON.stringify(resolution)],
          ],
          { stdio: 'ignore' },
        );
        updateSent = new Promise((resolve) => cli.on('exit', (code) => resolve(code ?? -1)));
        holdEventLoop(HOLD_MS);
      }
      const activities = {
        ...real,
        async callModel(request: CallModelRequest) {
          modelCalled.resolve();
          await releaseModel.promise;
          // Without the grants and the close a run-features-v4 model call brings, as when the worker could not
          // do them: the run then reads its grants and closes its transcript with the activities raced here.
          const { grants: _grants, closed: _closed, ...turn } = await real.callModel(request);
          return turn;
        },
        // The user has no grants entity: the real read answers [] too.
        loadGrants(request: LoadGrantsRequest): Promise<string[]> {
          if (scenario.activity !== 'loadGrants') return real.loadGrants(request);
          raceTheUpdate();
          return Promise.resolve([]);
        },
        // Closing only marks the content for retention: not needed here.
        closeTranscript(request: CloseTranscriptRequest): Promise<void> {
          if (scenario.activity !== 'closeTranscript') return real.closeTranscript(request);
          raceTheUpdate();
          return Promise.resolve();
        },
      };

      /** One run through the interleaving: its history, and whether the update came before `scenario.after`. */
      async function raceOnce(): Promise<{ runId: string; history: History; updateFirst: boolean }> {
        modelCalled = deferred();
        releaseModel = deferred();
        updateSent = undefined;
        // The first workflow task (it schedules the model call), on a worker without a cache that then stops.
        const first = await Worker.create({
          connection: env.nativeConnection,
          taskQueue,
          workflowBundle,
          maxCachedWorkflows: 0,
          enableNonLocalActivities: false,
        });
        const firstRunning = first.run();
        const userId = `u-${randomUUID()}`;
        const { runId } = await hitl.startRun(scriptedInput(scenario.script, { userId }));
        current = { runId, userId };
        await modelCalled.promise;
        first.shutdown();
        await firstRunning;
        releaseModel.resolve();
        const handle = env.client.workflow.getHandle(runId);
        await eventually(
          async () =>
            indexOf(await handle.fetchHistory(), (e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) >=
            0,
          'the model call to complete',
        );
        // Buffered by the server, then handed to the next worker with the task the model call's result starts.
        const queries = Array.from({ length: QUERIES }, () => hitl.getRunState(runId).catch(() => undefined));
        await new Promise((resolve) => setTimeout(resolve, 500));

        const second = await Worker.create({
          connection: env.nativeConnection,
          taskQueue,
          workflowBundle,
          activities,
          enableNonLocalActivities: false,
        });
        await second.runUntil(async () => {
          await Promise.all(queries);
          await scenario.settle(hitl, runId);
          await eventually(async () => updateSent !== undefined, 'the update to be sent');
          await updateSent;
        });
        const history = await handle.fetchHistory();
        const acceptedAt = indexOf(
          history,
          (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        );
        return { runId, history, updateFirst: acceptedAt >= 0 && acceptedAt < indexOf(history, scenario.after) };
      }

      // Activities only (no workflows): the model call, and the raced activity when it is not a local one.
      const activityWorker = await Worker.create({ connection: env.nativeConnection, taskQueue, activities });
      const activityWorkerRunning = activityWorker.run();
      try {
        // The worker may still answer the queries before the activity has started (the event loop is not held
        // yet): then the update comes after the run went on, and proves nothing; another run is tried.
        const failures: string[] = [];
        let raced = 0;
        for (let attempt = 0; attempt < MAX_ATTEMPTS && raced < RUNS; attempt += 1) {
          const { runId, history, updateFirst } = await raceOnce();
          if (!updateFirst) continue;
          raced += 1;
          try {
            await Worker.runReplayHistory({ workflowBundle }, history, runId);
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err);
            // The core's own words ("… Machine does not handle …"), not the SDK's preamble.
            failures.push(`${runId}: ${/\[TMPRL1100\][^"]*/.exec(message)?.[0] ?? message}`);
          }
        }
        assert.deepEqual(failures, []);
        assert.equal(raced, RUNS, `the update came while the activity ran in ${raced} of ${MAX_ATTEMPTS} runs`);
      } finally {
        activityWorker.shutdown();
        await activityWorkerRunning;
      }
    });
  }
});
