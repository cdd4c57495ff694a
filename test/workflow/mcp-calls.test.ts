// MCP calls that do not simply return: a run cancelled during a long call, a call that times out, a server that
// never initializes, results with binary content. server-everything over stdio (started by the worker's MCP manager), once behind a tee that
// logs every JSON-RPC message the client sends, so what the client does is seen from outside. No mocks.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createDefaultToolRegistry, McpManager } from '../../src/activities';
import { FileConfigSource } from '../../src/agent-config';
import { ContentNotFoundError, RunNotFoundError } from '../../src/client';
import { sharedContentStore } from '../../src/content-store';
import type { AgentRunInput, InlineRunInput } from '../../src/contracts';
import { EVERYTHING_SERVER, MCP_STDIO_TEE, readTeeLog, withDirectClient, type LoggedMessage } from '../support/mcp';
import { call, eventually, startHarness, toolMessages, type Harness } from './harness';

const knownTools = new Set(
  createDefaultToolRegistry()
    .list()
    .map((tool) => tool.name),
);
const node = JSON.stringify(process.execPath);
const everything = JSON.stringify(EVERYTHING_SERVER);
/** A server's `timeout`: a call without progress for this long times out. */
const CALL_TIMEOUT_MS = 5000;
/** The never-initializing server's `initTimeout`. */
const INIT_TIMEOUT_MS = 3000;

/** What server-everything's gzip-file-as-resource compresses (a data: URI, nothing fetched). */
const GZIP_TEXT = 'hello, gzip';
const GZIP_INPUT = `data:text/plain;base64,${Buffer.from(GZIP_TEXT).toString('base64')}`;

function configYaml(teeLog: string): string {
  return `
toolApproval: { enabled: true, mode: default }
mcpServers:
  tee: # server-everything behind the tee; a timeout far longer than the test, so only a cancellation ends a call
    command: ${node}
    args: [${JSON.stringify(MCP_STDIO_TEE)}, ${JSON.stringify(teeLog)}, ${node}, ${everything}, stdio]
    initTimeout: 60000
    timeout: 3600000
  slow: # server-everything whose calls may go ${CALL_TIMEOUT_MS} ms without progress
    command: ${node}
    args: [${everything}, stdio]
    initTimeout: 60000
    timeout: ${CALL_TIMEOUT_MS}
  everything:
    command: ${node}
    args: [${everything}, stdio]
    initTimeout: 60000
    timeout: 60000
  hang: # a process that never answers initialize
    command: ${node}
    args: ['-e', 'setInterval(() => {}, 1000)']
    initTimeout: ${INIT_TIMEOUT_MS}
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
  - id: timeout
    model:
      provider: scripted
      script:
        # one step of 120 s: no progress notification before the end
        - tool_calls:
            - { id: long, name: trigger-long-running-operation_mcp_slow, arguments: { duration: 120, steps: 1 } }
        - tool_calls:
            - { id: after, name: echo_mcp_slow, arguments: { message: after the timeout } }
        - content: done
    tools: [trigger-long-running-operation_mcp_slow, echo_mcp_slow]
    toolApproval: { allow: ['*_mcp_slow'] }
    users: ['*']
  - id: binary
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: img, name: get-tiny-image_mcp_everything, arguments: {} }
            - id: gz
              name: gzip-file-as-resource_mcp_everything
              arguments: { name: hello.txt.gz, data: ${JSON.stringify(GZIP_INPUT)}, outputType: resource }
        - content: done
    tools: [get-tiny-image_mcp_everything, gzip-file-as-resource_mcp_everything]
    toolApproval: { allow: ['*_mcp_everything'] }
    users: ['*']
`;
}

describe('MCP calls: cancellation, timeouts, binary results (server-everything over stdio, real dev server)', function () {
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

  async function executeToolAttempts(runId: string): Promise<number[]> {
    const history = await h.env.client.workflow.getHandle(runId).fetchHistory();
    const scheduled = new Set(
      (history.events ?? [])
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'executeTool')
        .map((e) => String(e.eventId)),
    );
    return (history.events ?? [])
      .filter((e) => scheduled.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '')))
      .map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
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

  it('a call that goes longer than the server’s timeout without progress: an error tool message that says so, the run goes on, the next call on that server works', async () => {
    const { runId } = await h.client.startRun(agentRun('timeout'));
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    const byId = new Map(
      toolMessages((await h.client.readMessages(runId, { limit: 100 })).messages).map((m) => [m.tool_call_id, m]),
    );
    assert.equal(byId.get('long')?.status, 'error');
    assert.equal(
      byId.get('long')?.content,
      'Tool "trigger-long-running-operation_mcp_slow" failed: timed out: MCP server "slow" sent no result and no ' +
        `progress within ${CALL_TIMEOUT_MS} ms (timeout); the request was cancelled`,
    );
    assert.deepEqual([byId.get('after')?.status, byId.get('after')?.content], ['success', 'Echo: after the timeout']);
    assert.deepEqual(await executeToolAttempts(runId), [1, 1], 'each call ran once: a timeout is not retried');
  });

  it('a server that never initializes: after its initTimeout, an error tool message naming the server; the run goes on', async () => {
    // An operator's inline run may name any configured server's tools; nothing lists them before the call.
    const input: InlineRunInput = {
      userId: 'u1',
      conversationId: `c-${randomUUID()}`,
      messages: [{ role: 'user', content: 'go' }],
      model: {
        provider: 'scripted',
        script: [{ tool_calls: [call('h1', 'echo_mcp_hang', { message: 'hello' })] }, { content: 'done' }],
      },
      tools: ['echo_mcp_hang'],
      policy: { enabled: true, mode: 'default', allow: ['*_mcp_hang'], deny: [], ask: [] },
    };
    const { runId } = await h.client.startRun(input);
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    const [message] = toolMessages((await h.client.readMessages(runId, { limit: 100 })).messages);
    assert.equal(message?.status, 'error');
    assert.equal(
      message?.content,
      'Tool "echo_mcp_hang" failed: MCP server "hang" is unavailable: it did not start and initialize within ' +
        `${INIT_TIMEOUT_MS} ms (initTimeout)`,
    );
    assert.deepEqual(await executeToolAttempts(runId), [1]);
  });

  it('binary results (an image, a blob resource) are kept in the content store under references of their own; read back, the image is the server’s', async () => {
    const { runId } = await h.client.startRun(agentRun('binary'));
    assert.equal((await h.client.result(runId)).status, 'completed');
    const byId = new Map(
      toolMessages((await h.client.readMessages(runId, { limit: 100 })).messages).map((m) => [m.tool_call_id, m]),
    );

    // The server's own image, asked by a client of the test's own.
    const image = await withDirectClient({ stdio: 'everything' }, async (client) => {
      const result = await client.callTool({ name: 'get-tiny-image', arguments: {} });
      const block = (result.content as { type: string; data?: string }[]).find((b) => b.type === 'image');
      return Buffer.from(block?.data ?? '', 'base64');
    });
    assert.deepEqual(image.subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'a PNG');

    const img = byId.get('img');
    assert.equal(img?.status, 'success');
    const imageLine = new RegExp(
      `^Here's the image you requested:\\n\\[image image/png, ${image.length} bytes, content ref (sha256:[0-9a-f]{64})\\]\\n` +
        'The image above is the MCP logo\\.$',
    );
    const imageRef = imageLine.exec(img?.content ?? '')?.[1];
    assert.ok(imageRef, `the image is named by its reference: ${img?.content}`);
    const readImage = await h.client.readContent(runId, imageRef);
    assert.deepEqual(
      { type: readImage.type, mimeType: readImage.mimeType, uri: readImage.uri },
      { type: 'image', mimeType: 'image/png', uri: undefined },
    );
    assert.ok(readImage.bytes.equals(image), 'the bytes read back are the server’s image');

    const gz = byId.get('gz');
    assert.equal(gz?.status, 'success');
    const resourceLine = /^\[resource (\S+) \(application\/gzip\), (\d+) bytes, content ref (sha256:[0-9a-f]{64})\]$/;
    const [, uri, size, gzRef] = resourceLine.exec(gz?.content ?? '') ?? [];
    assert.ok(gzRef, `the resource is named by its reference: ${gz?.content}`);
    const readGz = await h.client.readContent(runId, gzRef);
    assert.deepEqual(
      { type: readGz.type, mimeType: readGz.mimeType, uri: readGz.uri, size: readGz.bytes.length },
      { type: 'resource', mimeType: 'application/gzip', uri, size: Number(size) },
    );
    assert.equal(gunzipSync(readGz.bytes).toString('utf8'), GZIP_TEXT);

    // Only binary blocks are served, only to their run.
    const description = await h.env.client.workflow.getHandle(runId).describe();
    const key = `${runId}/${description.raw.workflowExecutionInfo?.firstRunId || description.runId}`;
    const entries = (await sharedContentStore().readTranscript(key)).entries;
    assert.ok(entries.length >= 4);
    for (const entry of entries) {
      await assert.rejects(h.client.readContent(runId, entry.ref), ContentNotFoundError, 'a message is not served');
    }
    const other = await h.client.startRun(agentRun('binary'));
    await h.client.result(other.runId);
    await assert.rejects(h.client.readContent(other.runId, `sha256:${'0'.repeat(64)}`), ContentNotFoundError);
    await assert.rejects(h.client.readContent(runId, 'not-a-ref'), ContentNotFoundError);
    await assert.rejects(h.client.readContent(`no-such-run-${randomUUID()}`, imageRef), RunNotFoundError);
  });
});
