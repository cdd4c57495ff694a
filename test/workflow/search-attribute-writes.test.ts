// What a generationRun writes to its search attributes (issue 16): a run started with RUN_FEATURES_PATCH (or
// RUN_FEATURES_V3_PATCH or RUN_FEATURES_V4_PATCH, which new runs record) writes only the attributes whose value changes. The client
// sets HitlStatus, HitlUserId and HitlConversationId at start, so the first workflow task writes none of them
// again; a run started without them (the CLI, a bare client) still gets them all. What the run compares with
// is read once from its start event, so its writes replay the same however updates interleave with its first
// workflow task.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import {
  awaitPendingActionUpdate,
  GENERATION_RUN_WORKFLOW,
  HitlConversationId,
  HitlExpiresAt,
  HitlPendingTools,
  HitlStatus,
  HitlUserId,
  resolveActionSignal,
  resolveActionUpdate,
  type PendingAction,
} from '../../src/contracts';
import { chainHistories } from '../../src/dev/history';
import { RUN_FEATURES_V4_PATCH } from '../../src/workflows/generation-run';
import { getWorkflowBundle } from '../hooks';
import {
  call,
  eventually,
  maybeRecordHistory,
  scriptedInput,
  startHarness,
  waitForPending,
  type Harness,
} from './harness';

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

function decode(payload: Payload | null | undefined): unknown {
  return payload?.data ? JSON.parse(Buffer.from(payload.data).toString('utf8')) : null;
}

function decodeFields(fields: Record<string, Payload> | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields ?? {}).map(([key, payload]) => [key, decode(payload)]));
}

/** The search attributes of the run's start event (a continued run's are its predecessor's). */
function startAttributes(events: HistoryEvent[]): Record<string, unknown> {
  return decodeFields(events[0]?.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields);
}

interface Write {
  index: number;
  /** The WORKFLOW_TASK_COMPLETED event of the task that wrote it. */
  task: number;
  fields: Record<string, unknown>;
}

function searchAttributeWrites(events: HistoryEvent[]): Write[] {
  return events.flatMap((event, index) => {
    const upsert = event.upsertWorkflowSearchAttributesEventAttributes;
    if (!upsert) return [];
    return [
      {
        index,
        task: Number(upsert.workflowTaskCompletedEventId),
        fields: decodeFields(upsert.searchAttributes?.indexedFields),
      },
    ];
  });
}

/** The writes of the run itself (the SDK core writes TemporalChangeVersion for each patch marker). */
function hitlWrites(events: HistoryEvent[]): Write[] {
  return searchAttributeWrites(events)
    .map((write) => ({
      ...write,
      fields: Object.fromEntries(Object.entries(write.fields).filter(([key]) => key.startsWith('Hitl'))),
    }))
    .filter((write) => Object.keys(write.fields).length > 0);
}

/** Absent, null and [] are all "no value" (writing null or [] removes an attribute). */
function sameValue(a: unknown, b: unknown): boolean {
  const none = (value: unknown) =>
    value === undefined || value === null || (Array.isArray(value) && value.length === 0);
  if (none(a) || none(b)) return none(a) && none(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Every value a write of the run repeats: what the run already had, from its start or its own writes. */
function repeatedWrites(events: HistoryEvent[]): string[] {
  const values = startAttributes(events);
  const repeated: string[] = [];
  for (const write of hitlWrites(events)) {
    for (const [key, value] of Object.entries(write.fields)) {
      if (sameValue(values[key], value)) repeated.push(`event ${write.index + 1}: ${key}=${JSON.stringify(value)}`);
      values[key] = value;
    }
  }
  return repeated;
}

/** The patch ids of the run's core_patch markers, in order. */
function patchMarkers(events: HistoryEvent[]): string[] {
  return events.flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return [];
    return [(decode(marker.details?.['patch-data']?.payloads?.[0]) as { id: string }).id];
  });
}

/** The id of the run's first WORKFLOW_TASK_COMPLETED event. */
function firstTask(events: HistoryEvent[]): number {
  const index = events.findIndex((event) => event.workflowTaskCompletedEventAttributes);
  return Number(events[index]?.eventId);
}

/** Replays each history with today's workflow code; the errors, by workflow id. */
async function replayErrors(histories: { workflowId: string; history: History }[]): Promise<string[]> {
  const errors: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: await getWorkflowBundle() }, histories)) {
    if (result.error) errors.push(`${result.workflowId}: ${result.error.name}: ${result.error.message}`);
  }
  return errors;
}

describe('search attributes a generationRun writes (real dev server)', function () {
  this.timeout(120_000);
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  /** A run that asks once to append to `file`, then answers "Done." */
  function appendOnce(file: string, userId = 'u1') {
    return scriptedInput(
      [{ tool_calls: [call('call_1', 'append_file', { path: file, content: 'x' })] }, { content: 'Done.' }],
      { userId },
    );
  }

  function approve(pending: PendingAction, approver = pending.userId) {
    return h.client.resolve(pending.runId, {
      actionId: pending.actionId,
      approver,
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
  }

  async function describeAttributes(workflowId: string) {
    const attributes = (await h.env.client.workflow.getHandle(workflowId).describe()).typedSearchAttributes;
    return {
      status: attributes.get(HitlStatus),
      userId: attributes.get(HitlUserId),
      conversationId: attributes.get(HitlConversationId),
      pendingTools: attributes.get(HitlPendingTools),
      expiresAt: attributes.get(HitlExpiresAt)?.toISOString(),
    };
  }

  async function historyOf(runId: string): Promise<HistoryEvent[]> {
    return (await h.env.client.workflow.getHandle(runId).fetchHistory()).events ?? [];
  }

  /** What the run's first workflow task wrote of the Hitl* attributes, write by write. */
  function firstTaskHitlWrites(events: HistoryEvent[]): Record<string, unknown>[] {
    const first = firstTask(events);
    return hitlWrites(events)
      .filter((write) => write.task === first)
      .map((write) => write.fields);
  }

  /** Approves the run's one call, waits for it to complete, and checks what visibility shows then. */
  async function approveToCompletion(pending: PendingAction, userId: string): Promise<void> {
    assert.ok((await approve(pending)).ok);
    assert.equal((await h.client.result(pending.runId)).status, 'completed');
    assert.deepEqual(await describeAttributes(pending.runId), {
      status: 'completed',
      userId,
      conversationId: 'c1',
      pendingTools: undefined,
      expiresAt: undefined,
    });
  }

  it('a run started by HitlClient: one patch marker, no write in its first task of what it started with, then only changes', async () => {
    const started = await h.client.startRunAndWait(appendOnce('features.txt'));
    assert.ok(started.pendingAction);
    const paused = await historyOf(started.runId);
    assert.deepEqual(patchMarkers(paused), [RUN_FEATURES_V4_PATCH]);
    const first = firstTask(paused);
    // The first task writes TemporalChangeVersion (the SDK core, for the marker) and nothing of ours.
    assert.deepEqual(
      searchAttributeWrites(paused)
        .filter((write) => write.task === first)
        .map((write) => write.fields),
      [{ TemporalChangeVersion: [RUN_FEATURES_V4_PATCH] }],
    );
    assert.deepEqual(startAttributes(paused), { HitlStatus: 'running', HitlUserId: 'u1', HitlConversationId: 'c1' });
    // The pause is one write of the three attributes it changes.
    assert.deepEqual(
      hitlWrites(paused).map((write) => write.fields),
      [
        {
          HitlStatus: 'requires_action',
          HitlPendingTools: ['append_file'],
          HitlExpiresAt: started.pendingAction.expiresAt,
        },
      ],
    );
    assert.deepEqual(await describeAttributes(started.runId), {
      status: 'requires_action',
      userId: 'u1',
      conversationId: 'c1',
      pendingTools: ['append_file'],
      expiresAt: started.pendingAction.expiresAt,
    });

    assert.ok((await approve(started.pendingAction)).ok);
    assert.equal((await h.client.result(started.runId)).status, 'completed');
    const events = await historyOf(started.runId);
    assert.deepEqual(repeatedWrites(events), []);
    assert.deepEqual(
      hitlWrites(events).map((write) => write.fields.HitlStatus),
      ['requires_action', 'running', 'completed'],
    );
    assert.deepEqual(await describeAttributes(started.runId), {
      status: 'completed',
      userId: 'u1',
      conversationId: 'c1',
      pendingTools: undefined,
      expiresAt: undefined,
    });
    // run-features-v2.json and -v3.json were recorded here before RUN_FEATURES_V3_PATCH and RUN_FEATURES_V4_PATCH
    // existed, and stay: they replay those generations.
    await maybeRecordHistory(h, started.runId, 'run-features-v4');
  });

  it('a run started without search attributes (CLI, bare client) still gets them all', async () => {
    const userId = `bare-${randomUUID()}`;
    const runId = `bare-${randomUUID()}`;
    await h.env.client.workflow.start(GENERATION_RUN_WORKFLOW, {
      taskQueue: h.client.taskQueue,
      workflowId: runId,
      args: [appendOnce('bare.txt', userId)],
    });
    const pending = await waitForPending(h.client, runId);
    assert.deepEqual(await describeAttributes(runId), {
      status: 'requires_action',
      userId,
      conversationId: 'c1',
      pendingTools: ['append_file'],
      expiresAt: pending.expiresAt,
    });
    const paused = await historyOf(runId);
    assert.deepEqual(startAttributes(paused), {});
    assert.deepEqual(firstTaskHitlWrites(paused), [
      { HitlUserId: userId, HitlConversationId: 'c1' },
      { HitlStatus: 'running' },
    ]);

    await approveToCompletion(pending, userId);
    const events = await historyOf(runId);
    assert.deepEqual(repeatedWrites(events), []);
    const [listed] = await eventually(async () => {
      const runs = await h.client.listRuns({ userId, status: 'completed' });
      return runs.length === 1 ? runs : undefined;
    }, 'the bare run in visibility');
    assert.equal(listed?.runId, runId);

    // Refused input fails the run before anything else: its status is written all the same.
    const bad = `bare-bad-${randomUUID()}`;
    const handle = await h.env.client.workflow.start(GENERATION_RUN_WORKFLOW, {
      taskQueue: h.client.taskQueue,
      workflowId: bad,
      args: [{ userId }],
    });
    await assert.rejects(handle.result());
    assert.equal((await describeAttributes(bad)).status, 'failed');
  });

  it('a run started with search attributes of the legacy client field compares with them too', async () => {
    const userId = `untyped-${randomUUID()}`;
    const runId = `untyped-${randomUUID()}`;
    // Given through the deprecated untyped field: the run reads them as typed values all the same, so a
    // stale status and pending tool are overwritten and the right user is not written again.
    await h.env.client.workflow.start(GENERATION_RUN_WORKFLOW, {
      taskQueue: h.client.taskQueue,
      workflowId: runId,
      args: [appendOnce('untyped.txt', userId)],
      searchAttributes: { HitlStatus: ['requires_action'], HitlPendingTools: ['stale_tool'], HitlUserId: [userId] },
    });
    const pending = await waitForPending(h.client, runId);
    const paused = await historyOf(runId);
    assert.deepEqual(firstTaskHitlWrites(paused), [
      { HitlConversationId: 'c1' },
      { HitlStatus: 'running', HitlPendingTools: [] },
    ]);
    await approveToCompletion(pending, userId);
    const events = await historyOf(runId);
    assert.deepEqual(repeatedWrites(events), []);
  });

  it('a run continued as new while paused writes what changes from what it inherited', async () => {
    const userId = `continued-${randomUUID()}`;
    const { runId } = await h.client.startRun(appendOnce('continued.txt', userId));
    const pending = await waitForPending(h.client, runId);
    const firstRunId = (await h.env.client.workflow.getHandle(runId).describe()).runId;
    // Refused resolutions fill the history until the server suggests continue-as-new (test/hooks.ts).
    const stale = { actionId: 'not-this-one', approver: userId, decisions: [] };
    await eventually(
      async () => {
        const outcome = await h.client.resolve(runId, stale);
        assert.ok(!outcome.ok);
        return (await h.env.client.workflow.getHandle(runId).describe()).runId !== firstRunId;
      },
      'the paused run to continue as new',
      60_000,
    );
    assert.deepEqual(await waitForPending(h.client, runId), pending);
    assert.equal((await describeAttributes(runId)).status, 'requires_action');

    await approveToCompletion(pending, userId);
    const chain = await chainHistories(h.env.client, runId);
    assert.ok(chain.length >= 2);
    const continued = chain[chain.length - 1]!.events ?? [];
    assert.equal(startAttributes(continued).HitlStatus, 'requires_action', 'inherited from the paused run');
    assert.deepEqual(patchMarkers(continued), [RUN_FEATURES_V4_PATCH]);
    // After the resolution: running (pending tools and expiry cleared), then completed.
    assert.deepEqual(
      hitlWrites(continued)
        .slice(-2)
        .map((write) => write.fields),
      [{ HitlStatus: 'running', HitlPendingTools: [], HitlExpiresAt: null }, { HitlStatus: 'completed' }],
    );
    for (const history of chain) assert.deepEqual(repeatedWrites(history.events ?? []), []);
    assert.deepEqual(await replayErrors(chain.map((history, n) => ({ workflowId: `${runId}#${n}`, history }))), []);
  });

  it('resolutions and waits racing the first workflow task: every history replays', async () => {
    const runs = 8;
    const started = await Promise.all(
      Array.from({ length: runs }, async (_, n) => {
        const userId = `race-${n}-${randomUUID()}`;
        const input = appendOnce(`race-${n}.txt`, userId);
        const stale = { actionId: `stale-${n}`, approver: userId, decisions: [] };
        const runId = `race-${n}-${randomUUID()}`;
        const handle = h.env.client.workflow.getHandle(runId);
        // Every third run is started as HitlClient does (search attributes at start); the others bare.
        const start = {
          taskQueue: h.client.taskQueue,
          workflowId: runId,
          args: [input] as [typeof input],
          ...(n % 3 === 0
            ? {
                typedSearchAttributes: [
                  { key: HitlStatus, value: 'running' },
                  { key: HitlUserId, value: userId },
                  { key: HitlConversationId, value: 'c1' },
                ],
              }
            : {}),
        };
        /** Sent as soon as the run exists (an update with start creates it as it is sent). */
        async function send(what: () => Promise<unknown>): Promise<unknown> {
          for (;;) {
            try {
              return await what();
            } catch (error) {
              if (!(error instanceof WorkflowNotFoundError)) return error;
              await new Promise((resolve) => setTimeout(resolve, 2));
            }
          }
        }
        // Half the runs get an update with their start: it is delivered in their first workflow task.
        const withStart = n % 2 === 0;
        const operation = () =>
          new WithStartWorkflowOperation(GENERATION_RUN_WORKFLOW, { ...start, workflowIdConflictPolicy: 'FAIL' });
        let first: Promise<unknown>;
        if (n % 4 === 0) {
          first = h.env.client.workflow
            .executeUpdateWithStart(resolveActionUpdate, { args: [stale], startWorkflowOperation: operation() })
            .then(
              () => assert.fail('a resolution of no pending action was accepted'),
              (error: unknown) => assert.ok(error instanceof WorkflowUpdateFailedError, String(error)),
            );
        } else if (withStart) {
          first = h.env.client.workflow.executeUpdateWithStart(awaitPendingActionUpdate, {
            args: [{ timeoutMs: 30_000 }],
            startWorkflowOperation: operation(),
          });
        } else {
          await h.env.client.workflow.start(GENERATION_RUN_WORKFLOW, start);
          first = Promise.resolve();
        }
        // No wait for the first workflow task: resolutions of no pending action, waits, a signal.
        const answers = await Promise.all([
          ...[1, 2, 3].map(() => send(() => handle.executeUpdate(resolveActionUpdate, { args: [stale] }))),
          send(() => handle.signal(resolveActionSignal, stale)),
          ...[1, 2].map(() =>
            send(() => handle.executeUpdate(awaitPendingActionUpdate, { args: [{ timeoutMs: 30_000 }] })),
          ),
          first,
        ]);
        for (const refused of answers.slice(0, 3)) assert.ok(refused instanceof WorkflowUpdateFailedError);
        return { runId, userId, withStart };
      }),
    );
    // Each pause resolved by three approvers at once (one wins), with a waiter for what comes next.
    await Promise.all(
      started.map(async ({ runId }) => {
        const pending = await waitForPending(h.client, runId);
        const handle = h.env.client.workflow.getHandle(runId);
        const [outcomes] = await Promise.all([
          Promise.all([approve(pending), approve(pending), approve(pending)]),
          handle.executeUpdate(awaitPendingActionUpdate, {
            args: [{ afterActionId: pending.actionId, timeoutMs: 30_000 }],
          }),
        ]);
        assert.equal(outcomes.filter((outcome) => outcome.ok).length, 1);
        assert.equal((await h.client.result(runId)).status, 'completed');
      }),
    );
    const histories = await Promise.all(
      started.map(async ({ runId }) => ({
        workflowId: runId,
        history: await h.env.client.workflow.getHandle(runId).fetchHistory(),
      })),
    );
    // The race was run: updates were accepted in the first workflow task of the runs started with one.
    for (const [n, { runId, userId, withStart }] of started.entries()) {
      const events = histories[n]!.history.events ?? [];
      const first = firstTask(events);
      const firstActivity = Number(events.find((event) => event.activityTaskScheduledEventAttributes)?.eventId);
      const acceptedInFirstTask = events.filter((event) => {
        const id = Number(event.eventId);
        return event.workflowExecutionUpdateAcceptedEventAttributes && id > first && id < firstActivity;
      }).length;
      if (withStart) assert.ok(acceptedInFirstTask > 0, `run ${n}: no update accepted in its first task`);
      assert.deepEqual(repeatedWrites(events), [], `run ${n}`);
      const attributes = await describeAttributes(runId);
      assert.deepEqual(
        [attributes.status, attributes.userId, attributes.pendingTools],
        ['completed', userId, undefined],
      );
    }
    assert.deepEqual(await replayErrors(histories), []);
  });
});
