// MCP calls that do not simply return: a run cancelled during a long call. server-everything over stdio (started
// by the worker's MCP manager) behind a tee that logs every JSON-RPC message the client sends, so what the
// client does is seen from outside. No mocks.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultToolRegistry, McpManager } from '../../src/activities';
import { FileConfigSource } from '../../src/agent-config';
import type { AgentRunInput } from '../../src/contracts';
import { EVERYTHING_SERVER, MCP_STDIO_TEE, readTeeLog, type LoggedMessage } from '../support/mcp';
import { eventually, startHarness, type Harness } from './harness';

const knownTools = new Set(
  createDefaultToolRegistry()
    .list()
    .map((tool) => tool.name),
);
const node = JSON.stringify(process.execPath);
const everything = JSON.stringify(EVERYTHING_SERVER);

function configYaml(teeLog: string): string {
  return `
toolApproval: { enabled: true, mode: default }
mcpServers:
  tee: # server-everything behind the tee; a timeout far longer than the test, so only a cancellation ends a call
    command: ${node}
    args: [${JSON.stringify(MCP_STDIO_TEE)}, ${JSON.stringify(teeLog)}, ${node}, ${everything}, stdio]
    initTimeout: 60000
    timeout: 3600000
agents:
  - id: cancel
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: long, name: trigger-long-running-operation_mcp_tee, arguments: { duration: 600, steps: 600 } }
        - content: done
    tools: [trigger-long-running-operation_mcp_tee]
    toolApproval: { allow: ['*_mcp_tee'] }
    users: ['*']
`;
}

describe('MCP calls: cancellation (server-everything over stdio, real dev server)', function () {
  this.timeout(240_000);
  let h: Harness;
  let mcp: McpManager;
  let teeLog: string;

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hitl-mcp-calls-'));
    teeLog = join(dir, 'tee.jsonl');
    const configFile = join(dir, 'hitl.config.yaml');
    await writeFile(configFile, configYaml(teeLog));
    const agents = new FileConfigSource(configFile, { knownTools });
    mcp = new McpManager(() => agents.current().config.mcpServers ?? {});
    h = await startHarness({ agents, mcp });
  });
  after(async () => {
    await h?.stop();
    await mcp?.close();
  });

  function agentRun(agentId: string): AgentRunInput {
    return { userId: 'u1', conversationId: `c-${randomUUID()}`, agentId, messages: [{ role: 'user', content: 'go' }] };
  }

  it('a run cancelled during a long call: the activity is cancelled and the client sends notifications/cancelled for that request', async () => {
    const { runId } = await h.client.startRun(agentRun('cancel'));
    // The call is on the server (the tee logged it; server-everything reports progress every second).
    const request = await eventually(
      async () =>
        (await readTeeLog(teeLog)).find(
          (m) => m.method === 'tools/call' && m.params?.name === 'trigger-long-running-operation',
        ),
      'the long-running call to reach the server',
      60_000,
    );
    assert.equal(typeof request.id, 'number');
    assert.equal(
      (await readTeeLog(teeLog)).some((m) => m.method === 'notifications/cancelled'),
      false,
      'nothing cancelled before the run is',
    );

    await h.env.client.workflow.getHandle(runId).cancel();
    const result = await h.client.result(runId);
    assert.equal(result.status, 'aborted');
    assert.equal((await h.client.getRunState(runId)).status, 'aborted');

    // The workflow asked for the activity's cancellation; the worker delivered it (a heartbeat answer) to the
    // call's AbortSignal, and the SDK told the server, naming the request.
    const history = await h.env.client.workflow.getHandle(runId).fetchHistory();
    assert.ok(
      (history.events ?? []).some((e) => e.activityTaskCancelRequestedEventAttributes),
      'ActivityTaskCancelRequested in the history',
    );
    const cancelled: LoggedMessage = await eventually(
      async () => (await readTeeLog(teeLog)).find((m) => m.method === 'notifications/cancelled'),
      'notifications/cancelled from the client',
      90_000,
    );
    assert.equal(cancelled.params?.requestId, request.id, 'it cancels the tool call');
    assert.doesNotMatch(String(cancelled.params?.reason), /timed out/i, 'a cancellation, not a timeout');
  });
});
