import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import { resolveTemporalCliPath } from '../../src/dev/temporal-cli';
import { call, scriptedInput, startHarness, waitForPending, type Harness } from './harness';

/** Runs the Temporal CLI against the test server, as an operator would (async: the worker runs in this process). */
async function temporal(h: Harness, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(resolveTemporalCliPath(), [...args, '--address', h.env.address]);
  return stdout;
}

describe('Web UI metadata (summary, current details, timer and activity summaries)', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  it('a paused run shows its summary and what it waits for through the Temporal CLI', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          { tool_calls: [call('call_0', 'list_files', {})] },
          { tool_calls: [call('call_1', 'delete_file', { path: 'old-report.txt' })] },
        ],
        { agentId: 'agent-7', policy: { enabled: true, allow: ['list_files'], reason: '{tool} needs approval' } },
      ),
    );
    const pending = await waitForPending(h.client, runId);

    const described = await temporal(h, 'workflow', 'describe', '--workflow-id', runId);
    assert.match(described, /StaticSummary\s+"generation run · user u1 · conversation c1 · agent agent-7"/);

    const metadata = await temporal(h, 'workflow', 'metadata', '--workflow-id', runId);
    assert.match(metadata, /Waiting for approval/);
    assert.ok(metadata.includes(pending.actionId), 'names the action');
    assert.ok(metadata.includes(pending.expiresAt), 'says when it expires');
    assert.match(metadata, /delete_file/);
    assert.match(metadata, /old-report\.txt/, 'shows the arguments');
    assert.match(metadata, /delete_file needs approval/, 'shows the reason');

    const history = await h.env.client.workflow.getHandle(runId).fetchHistory();
    const summaries = (history.events ?? [])
      .map((e) => e.userMetadata?.summary)
      .filter((s) => s != null)
      .map((s) => defaultPayloadConverter.fromPayload<string>(s));
    assert.ok(summaries.includes('model call 1'), JSON.stringify(summaries));
    assert.ok(summaries.includes('tool list_files (call_0)'), JSON.stringify(summaries));
    assert.ok(summaries.includes(`approval expiry for ${pending.actionId}`), JSON.stringify(summaries));
    await h.client.abort(runId);
  });
});
