// Scenario 8: every recorded history replays clean against today's workflow code, and a deliberately
// non-deterministic change (an extra timer before the first model call, in a modified copy of src/workflows
// bundled here) is caught by Worker.runReplayHistories on every history that reaches a model call.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { getWorkflowBundle } from '../hooks';
import { REPLAY_HISTORIES_DIR } from '../workflow/harness';
import { REPO_ROOT } from '../support/processes';
import { workflowBundleOptions } from '../../src/worker';
import { figure } from './support/suite';

type Histories = { workflowId: string; history: ReturnType<typeof historyFromJSON> }[];

function loadHistories(): Histories {
  return readdirSync(REPLAY_HISTORIES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(path.join(REPLAY_HISTORIES_DIR, file), 'utf8'))),
    }));
}

async function replay(bundle: WorkflowBundleWithSourceMap, histories: Histories): Promise<Map<string, string | null>> {
  const results = new Map<string, string | null>();
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    results.set(result.workflowId, result.error ? `${result.error.name}: ${result.error.message}` : null);
  }
  return results;
}

/**
 * Copies src into a temp dir (same relative layout, node_modules linked; all of it, so the copy never misses
 * a module the workflows import), lets `edit` change the copy of generation-run.ts, and bundles the copy
 * with the worker's bundle options.
 */
async function bundleCopy(dir: string, edit: (source: string) => string): Promise<WorkflowBundleWithSourceMap> {
  cpSync(path.join(REPO_ROOT, 'src'), path.join(dir, 'src'), { recursive: true });
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const file = path.join(dir, 'src', 'workflows', 'generation-run.ts');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
  const noop = () => undefined;
  return bundleWorkflowCode({
    ...workflowBundleOptions(path.join(dir, 'src', 'workflows', 'index.ts')),
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error },
  });
}

/** Inserts `await wf.sleep(1);` before the statement that makes the first model call. */
export function insertTimerBeforeFirstModelCall(source: string): string {
  const lines = source.split('\n');
  // The turn loop's model call (old and new histories alike go through it).
  const at = lines.findIndex((line) => /=\s*await\s+callModelRetrying\(/.test(line));
  if (at < 0) throw new Error('generation-run.ts no longer calls `await callModelRetrying(…)`: update this test');
  if (!/import \* as wf from '@temporalio\/workflow'/.test(source)) throw new Error('expected `import * as wf`');
  const indent = /^\s*/.exec(lines[at]!)![0];
  lines.splice(at, 0, `${indent}await wf.sleep(1); // deliberately non-deterministic (reliability test)`);
  return lines.join('\n');
}

describe('reliability: determinism (replay of recorded histories)', function () {
  this.timeout(5 * 60_000);
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('determinism: fixtures replay clean; a non-deterministic change is detected by the replay check', async () => {
    const histories = loadHistories();
    assert.ok(histories.length >= 5, `expected recorded histories in ${REPLAY_HISTORIES_DIR}`);
    // Histories whose run reached a model call: the inserted timer changes their first command.
    const withModelCall = histories
      .filter(({ history }) => (history.events ?? []).some((e) => e.activityTaskScheduledEventAttributes))
      .map((h) => h.workflowId);

    const clean = await replay(await getWorkflowBundle(), histories);
    const mkdir = (label: string) => {
      const dir = mkdtempSync(path.join(tmpdir(), `hitl-rel-${label}-`));
      dirs.push(dir);
      return dir;
    };
    // The copying itself is faithful: an unmodified copy replays clean too.
    const control = await replay(await bundleCopy(mkdir('copy'), (source) => source), histories);
    const modified = await replay(await bundleCopy(mkdir('nondet'), insertTimerBeforeFirstModelCall), histories);

    const cleanFailures = [...clean].filter(([, error]) => error !== null);
    const controlFailures = [...control].filter(([, error]) => error !== null);
    const detected = withModelCall.filter((id) => /nondetermin/i.test(modified.get(id) ?? ''));
    figure(
      `determinism: ${histories.length} recorded histories, ${histories.length - cleanFailures.length} replay clean ` +
        `(${histories.length - controlFailures.length} with an unmodified copy); a timer inserted before the first model ` +
        `call is detected in ${detected.length} of ${withModelCall.length} histories that reach a model call`,
    );

    assert.deepEqual(cleanFailures, []);
    assert.deepEqual(controlFailures, []);
    assert.ok(withModelCall.length > 0);
    assert.deepEqual(detected, withModelCall, JSON.stringify([...modified], null, 1));
  });
});
