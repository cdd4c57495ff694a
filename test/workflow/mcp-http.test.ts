// MCP tools over Streamable HTTP and SSE: the official server-everything runs as a process of its own for each
// transport, behind a gate that lets a request through only with the Authorization header the configuration
// builds from an ${ENV} reference. A real dev server, the real worker activities, no mocks.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { createDefaultToolRegistry, McpManager } from '../../src/activities';
import { FileConfigSource } from '../../src/agent-config';
import type { AgentRunInput, ToolSpec } from '../../src/contracts';
import { readPinnedRunConfig } from '../../src/server/grant-offers';
import {
  startEverythingServer,
  startHeaderGate,
  withDirectClient,
  type HeaderGate,
  type HttpMcpServer,
} from '../support/mcp';
import { startHarness, toolMessages, waitForPending, type Harness } from './harness';

const knownTools = new Set(
  createDefaultToolRegistry()
    .list()
    .map((tool) => tool.name),
);
const TOKEN_VARIABLE = 'HITL_TEST_MCP_TOKEN';

const TRANSPORTS = [
  { server: 'http', type: 'streamable-http', process: 'streamableHttp', label: 'Streamable HTTP' },
  { server: 'sse', type: 'sse', process: 'sse', label: 'SSE' },
] as const;

function configYaml(urls: Record<string, string>): string {
  const servers = TRANSPORTS.map(
    (t) => `
  ${t.server}:
    type: ${t.type}
    url: ${JSON.stringify(urls[t.server])}
    headers: { Authorization: 'Bearer \${${TOKEN_VARIABLE}}' }
    initTimeout: 60000
    timeout: 60000`,
  ).join('');
  const agents = TRANSPORTS.map(
    (t) => `
  - id: ${t.server}
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: s1, name: get-sum_mcp_${t.server}, arguments: { a: 2, b: 3 } }
            - { id: e1, name: echo_mcp_${t.server}, arguments: { message: over ${t.label} } }
        - content: done
    tools: ['*_mcp_${t.server}']
    toolApproval: { allow: ['get-sum_mcp_${t.server}'] }
    users: ['*']
  - id: ${t.server}-elicit
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: q1, name: trigger-elicitation-request_mcp_${t.server}, arguments: {} }
        - content: done
    tools: ['*_mcp_${t.server}']
    toolApproval: { allow: ['*_mcp_${t.server}'] }
    users: ['*']`,
  ).join('');
  return `toolApproval: { enabled: true, mode: default }\nmcpServers:${servers}\nagents:${agents}\n`;
}

/** The hints of a listed tool as a pinned spec carries them. */
function hintsOf(tool: Tool): ToolSpec['annotations'] {
  const a = tool.annotations ?? {};
  const title = tool.title ?? a.title;
  return {
    ...(title !== undefined ? { title } : {}),
    ...(a.readOnlyHint !== undefined ? { readOnlyHint: a.readOnlyHint } : {}),
    ...(a.destructiveHint !== undefined ? { destructiveHint: a.destructiveHint } : {}),
    ...(a.idempotentHint !== undefined ? { idempotentHint: a.idempotentHint } : {}),
    ...(a.openWorldHint !== undefined ? { openWorldHint: a.openWorldHint } : {}),
  };
}

describe('MCP tools over Streamable HTTP and SSE (server-everything processes, real dev server)', function () {
  this.timeout(180_000);
  const token = `t-${randomUUID()}`;
  const servers: Record<string, HttpMcpServer> = {};
  const gates: Record<string, HeaderGate> = {};
  let h: Harness;
  let mcp: McpManager;

  before(async () => {
    const urls: Record<string, string> = {};
    for (const t of TRANSPORTS) {
      const server = await startEverythingServer(t.process);
      servers[t.server] = server;
      const gate = await startHeaderGate(server.port, 'authorization', `Bearer ${token}`);
      gates[t.server] = gate;
      urls[t.server] = `http://127.0.0.1:${gate.port}${server.path}`;
    }
    const configFile = join(await mkdtemp(join(tmpdir(), 'hitl-mcp-http-')), 'hitl.config.yaml');
    await writeFile(configFile, configYaml(urls));
    const agents = new FileConfigSource(configFile, { knownTools });
    // The worker's environment has the variable the headers name (and the test process does not).
    mcp = new McpManager(() => agents.current().config.mcpServers ?? {}, {
      env: { ...process.env, [TOKEN_VARIABLE]: token },
    });
    h = await startHarness({ agents, mcp });
  });
  after(async () => {
    await h?.stop();
    await mcp?.close();
    for (const gate of Object.values(gates)) await gate.close();
    for (const server of Object.values(servers)) await server.child.stop();
  });

  /** The server's tools as a client of its own lists them (straight to the process, not through the gate). */
  function listDirectly(t: (typeof TRANSPORTS)[number]): Promise<Tool[]> {
    const server = servers[t.server]!;
    const url = `http://127.0.0.1:${server.port}${server.path}`;
    return withDirectClient({ type: t.type, url }, async (client) => (await client.listTools()).tools);
  }

  for (const t of TRANSPORTS) {
    it(`${t.label}: tools pinned with their annotations, an allowed call runs, an asked call pauses and runs once approved`, async () => {
      const gate = gates[t.server]!;
      const refusedBefore = gate.refused;
      const input: AgentRunInput = {
        userId: 'u1',
        conversationId: `c-${randomUUID()}`,
        agentId: t.server,
        messages: [{ role: 'user', content: 'go' }],
      };
      const { runId } = await h.client.startRun(input);
      const pending = await waitForPending(h.client, runId);

      // Every tool the server lists is pinned as <tool>_mcp_<server>, with the hints the server gives.
      const listed = await listDirectly(t);
      const pinned = new Map(((await readPinnedRunConfig(h.client, runId))?.toolSpecs ?? []).map((s) => [s.name, s]));
      assert.ok(listed.length >= 10, `server-everything lists its tools (${listed.length})`);
      for (const tool of listed) {
        const spec = pinned.get(`${tool.name}_mcp_${t.server}`);
        assert.ok(spec, `${tool.name} is pinned`);
        assert.deepEqual(spec.mcp, { server: t.server, tool: tool.name });
        assert.deepEqual(spec.annotations, hintsOf(tool), `annotations of ${tool.name}`);
      }
      const echoHints = {
        title: 'Echo Tool',
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      };
      assert.deepEqual(pinned.get(`echo_mcp_${t.server}`)?.annotations, echoHints);

      // The policy asks about echo (get-sum is allowed and has run); approvers see the server's hints.
      assert.equal(pending.payload.type, 'tool_approval');
      const requests = pending.payload.type === 'tool_approval' ? pending.payload.action_requests : [];
      assert.deepEqual(
        requests.map((r) => r.name),
        [`echo_mcp_${t.server}`],
      );
      assert.deepEqual(requests[0]?.mcp, { server: t.server, tool: 'echo', annotations: echoHints });
      assert.match(requests[0]?.description ?? '', new RegExp(`^MCP server "${t.server}", tool "echo": Echoes back`));

      const resolved = await h.client.resolve(runId, {
        actionId: pending.actionId,
        approver: 'u1',
        decisions: [{ tool_call_id: 'e1', decision: 'approve' }],
      });
      assert.ok(resolved.ok);
      assert.equal((await h.client.result(runId)).status, 'completed');
      const messages = toolMessages((await h.client.readMessages(runId, { limit: 100 })).messages);
      assert.deepEqual(
        messages.map((m) => [m.tool_call_id, m.status, m.content]),
        [
          ['s1', 'success', 'The sum of 2 and 3 is 5.'],
          ['e1', 'success', `Echo: over ${t.label}`],
        ],
      );

      // Everything the worker sent went through the gate with the header built from ${HITL_TEST_MCP_TOKEN};
      // a request without it does not get through.
      assert.ok(gate.passed > 0, 'requests reached the server through the gate');
      assert.equal(gate.refused, refusedBefore, 'no request of the worker was refused');
      const stranger = await fetch(`http://127.0.0.1:${gate.port}${servers[t.server]!.path}`);
      assert.equal(stranger.status, 401);
      await stranger.body?.cancel();
    });

    it(`${t.label}: the server's elicitation pauses the run as mcp_elicitation, and the answer reaches it`, async () => {
      const { runId } = await h.client.startRun({
        userId: 'u1',
        conversationId: `c-${randomUUID()}`,
        agentId: `${t.server}-elicit`,
        messages: [{ role: 'user', content: 'go' }],
      });
      const pending = await waitForPending(h.client, runId);
      assert.equal(pending.payload.type, 'mcp_elicitation');
      assert.equal(pending.payload.type === 'mcp_elicitation' && pending.payload.server, t.server);
      const invalid = await h.client.resolve(runId, {
        actionId: pending.actionId,
        approver: 'u1',
        elicitation: { action: 'accept', content: { integer: 1000 } },
      });
      assert.equal(!invalid.ok && invalid.refusal.type, 'InvalidElicitationContent');
      const accepted = await h.client.resolve(runId, {
        actionId: pending.actionId,
        approver: 'u1',
        elicitation: { action: 'accept', content: { name: `via ${t.label}`, integer: 12 } },
      });
      assert.ok(accepted.ok);
      assert.equal((await h.client.result(runId)).status, 'completed');
      const [message] = toolMessages((await h.client.readMessages(runId, { limit: 100 })).messages);
      assert.equal(message?.status, 'success');
      assert.match(message?.content ?? '', new RegExp(`Name: via ${t.label}`));
      assert.match(message?.content ?? '', /Favorite Integer: 12/);
    });
  }
});
