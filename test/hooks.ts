// Mocha root hooks: one real Temporal dev server and one workflow bundle per test run, created on
// first use so unit-only runs start no server.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  type Worker,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { closeSharedContentStore, createWorkerActivities } from '../src/activities';
import { HITL_SEARCH_ATTRIBUTES } from '../src/contracts';
import { devServerTuningArgs } from '../src/dev/dev-server';
import { resolveTemporalCliPath } from '../src/dev/temporal-cli';
import { createWorker, workflowBundleOptions } from '../src/worker';

// The scripted model is how the suites drive runs deterministically; workers accept it only when asked to
// (DESIGN.md v1.1). The one test of a worker without it passes `enableScripted: false` itself.
process.env.HITL_ENABLE_SCRIPTED ??= '1';
// Transcripts go to a content store of this test run only (a PostgreSQL suite sets its own).
const TEST_CONTENT_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'hitl-test-content-'));
process.env.HITL_CONTENT_STORE ??= `sqlite:${path.join(TEST_CONTENT_DIR, 'content.db')}`;

/** History length after which the test server suggests continue-as-new. */
export const SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS = 120;

let env: Promise<TestWorkflowEnvironment> | undefined;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The shared dev server (the Temporal CLI from .temporal/bin, never a download). */
export function getTestEnv(): Promise<TestWorkflowEnvironment> {
  installRuntime();
  env ??= TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: resolveTemporalCliPath() },
      searchAttributes: [...HITL_SEARCH_ATTRIBUTES],
      ip: '127.0.0.1',
      extraArgs: [
        // Low enough that a long scripted run is told to continue-as-new (test/workflow/continue-as-new.test.ts),
        // far above what the other scenarios write.
        '--dynamic-config-value',
        `limit.historyCount.suggestContinueAsNew=${SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS}`,
        // The fast setup of `npm start` (in memory here, so without the SQLite pragmas).
        ...devServerTuningArgs(false),
      ],
    },
  });
  return env;
}

/** The one workflow bundle of this test run. */
export function getWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  installRuntime(); // before any worker (e.g. Worker.runReplayHistories) instantiates the default one
  bundle ??= bundleWorkflowCode({ ...workflowBundleOptions(require.resolve('./workflows')), logger: quietLogger() });
  return bundle;
}

export interface WorkerTestContext {
  env: TestWorkflowEnvironment;
  client: Client;
  /** A task queue of its own, so suites never steal each other's tasks. */
  taskQueue: string;
  worker: Worker;
}

/**
 * Runs `fn` while a worker with the shared bundle polls a fresh task queue on the shared server; shuts the
 * worker down afterwards. `activities` undefined = the real ones (`createWorkerActivities`, from the environment).
 */
export async function runWithWorker<T>(
  activities: object | undefined,
  fn: (ctx: WorkerTestContext) => Promise<T>,
  workerOptions?: Omit<WorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowBundle'>,
): Promise<T> {
  const testEnv = await getTestEnv();
  const taskQueue = `test-${randomUUID()}`;
  const worker = await createWorker({
    connection: testEnv.nativeConnection,
    namespace: testEnv.namespace ?? 'default',
    taskQueue,
    activities: activities ?? createWorkerActivities(testEnv.client, taskQueue),
    workflowBundle: await getWorkflowBundle(),
    workerOptions,
  });
  return worker.runUntil(() => fn({ env: testEnv, client: testEnv.client, taskQueue, worker }));
}

let runtimeInstalled = false;

/** The SDK runtime with a quiet logger (TEST_LOG_LEVEL=debug for more); must precede every other SDK use. */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger(process.env.TEST_LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN') });
}

function quietLogger() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error };
}

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await closeSharedContentStore();
    fs.rmSync(TEST_CONTENT_DIR, { recursive: true, force: true });
    if (env) await (await env).teardown();
  },
};
