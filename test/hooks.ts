// Mocha root hooks: one real Temporal dev server and one workflow bundle per test run, created on
// first use so unit-only runs start no server.
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { HITL_SEARCH_ATTRIBUTES } from '../src/contracts';
import { resolveTemporalCliPath } from '../src/dev/temporal-cli';

/** History length after which the test server suggests continue-as-new. */
export const SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS = 120;

let env: Promise<TestWorkflowEnvironment> | undefined;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The shared dev server (the Temporal CLI from .temporal/bin, never a download). */
export function getTestEnv(): Promise<TestWorkflowEnvironment> {
  if (!env) Runtime.install({ logger: new DefaultLogger(process.env.TEST_LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN') });
  env ??= TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: resolveTemporalCliPath() },
      searchAttributes: [...HITL_SEARCH_ATTRIBUTES],
      ip: '127.0.0.1',
      // Low enough that a long scripted run is told to continue-as-new (test/workflow/continue-as-new.test.ts),
      // far above what the other scenarios write.
      extraArgs: [
        '--dynamic-config-value',
        `limit.historyCount.suggestContinueAsNew=${SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS}`,
      ],
    },
  });
  return env;
}

/** The one workflow bundle of this test run. */
export function getWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quietLogger() });
  return bundle;
}

function quietLogger() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error };
}

export const mochaHooks = {
  async afterAll(): Promise<void> {
    if (env) await (await env).teardown();
  },
};
