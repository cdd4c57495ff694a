// MCP tools against the official reference servers (@modelcontextprotocol/server-filesystem and
// server-everything, dev dependencies), started over stdio by the worker's MCP manager.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultToolRegistry, McpManager } from '../../src/activities';
import { FileConfigSource } from '../../src/agent-config';
import type { AgentRunInput, PendingAction, Tighten } from '../../src/contracts';
import { readPinnedRunConfig } from '../../src/server';
import { everythingServer, fsServer } from '../support/mcp-servers';
import { eventually, maybeRecordHistory, startHarness, toolMessages, waitForPending, type Harness } from './harness';

const knownTools = new Set(
  createDefaultToolRegistry()
    .list()
    .map((tool) => tool.name),
);
function configYaml(root: string): string {
  const file = (name: string) => JSON.stringify(join(root, name));
  return `
toolApproval: { enabled: true, mode: default }
mcpServers:
  fs: ${JSON.stringify(fsServer(root))}
  everything: ${JSON.stringify(everythingServer())}
agents:
  - id: fs
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: r1, name: read_text_file_mcp_fs, arguments: { path: ${file('hello.txt')} } }
            - { id: w1, name: write_file_mcp_fs, arguments: { path: ${file('new.txt')}, content: approved content } }
        - tool_calls:
            - { id: w2, name: write_file_mcp_fs, arguments: { path: ${file('edited.txt')}, content: model content } }
        - content: done
    tools: ['*_mcp_fs']
    toolApproval: { allow: ['read_*_mcp_fs', 'list_*_mcp_fs'] }
    users: ['*']
  - id: invalid
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: bad, name: write_file_mcp_fs, arguments: { path: 42 } }
        - content: done
    tools: [write_file_mcp_fs]
    toolApproval: { ask: [write_file_mcp_fs] }
    users: ['*']
  - id: globs
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: e1, name: echo_mcp_everything, arguments: { message: hi } }
            - { id: r1, name: read_text_file_mcp_fs, arguments: { path: ${file('hello.txt')} } }
            - { id: l1, name: list_directory_mcp_fs, arguments: { path: ${JSON.stringify(root)} } }
            - { id: s1, name: get-sum_mcp_everything, arguments: { a: 1, b: 2 } }
        - content: done
    tools: ['*_mcp_everything', '*_mcp_fs']
    toolApproval: { mode: dontAsk, ask: ['*_mcp_everything'], allow: ['read_*_mcp_fs'] }
    users: ['*']
  - id: crash
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: long, name: trigger-long-running-operation_mcp_everything, arguments: { duration: 60, steps: 60 } }
        - tool_calls:
            - { id: after, name: echo_mcp_everything, arguments: { message: after the crash } }
        - content: done
    tools: [trigger-long-running-operation_mcp_everything, echo_mcp_everything]
    toolApproval: { allow: ['*_mcp_everything'] }
    users: ['*']
  - id: annotations
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: e1, name: echo_mcp_everything, arguments: { message: read-only } }
            - { id: w1, name: write_file_mcp_fs, arguments: { path: ${file('annotated.txt')}, content: destructive } }
            - { id: s1, name: get-sum_mcp_everything, arguments: { a: 1, b: 2 } }
            - { id: l1, name: list_directory_mcp_fs, arguments: { path: ${JSON.stringify(root)} } }
        - content: done
    tools: ['*_mcp_everything', '*_mcp_fs']
    mcpAnnotations: follow
    toolApproval: { ask: [get-sum_mcp_everything], deny: ['list_*_mcp_fs'] }
    users: ['*']
  - id: annotations-bypass
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: e1, name: echo_mcp_everything, arguments: { message: tightened } }
            - { id: w1, name: write_file_mcp_fs, arguments: { path: ${file('bypass.txt')}, content: asked } }
            - { id: c1, name: create_directory_mcp_fs, arguments: { path: ${file('created')} } }
        - content: done
    tools: ['*_mcp_everything', '*_mcp_fs']
    mcpAnnotations: follow
    toolApproval: { mode: bypass }
    users: ['*']
`;
}

describe('MCP tools (reference servers over stdio, real dev server)', function () {
  this.timeout(180_000);
  let h: Harness;
  let root: string;
  let mcp: McpManager;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'hitl-mcp-fs-'));
    await writeFile(join(root, 'hello.txt'), 'hello world');
    const configFile = join(await mkdtemp(join(tmpdir(), 'hitl-mcp-')), 'hitl.config.yaml');
    await writeFile(configFile, configYaml(root));
    const agents = new FileConfigSource(configFile, { knownTools });
    mcp = new McpManager(() => agents.current().config.mcpServers ?? {});
    h = await startHarness({ agents, mcp });
  });
  after(async () => {
    await h?.stop();
    await mcp?.close();
  });

  function agentRun(agentId: string, tighten?: Tighten): AgentRunInput {
    return {
      userId: 'u1',
      conversationId: `c-${randomUUID()}`,
      agentId,
      messages: [{ role: 'user', content: 'go' }],
      ...(tighten !== undefined ? { tighten } : {}),
    };
  }

  /** The run's tool messages by tool_call_id, once it has ended. */
  async function toolResults(runId: string) {
    const messages = toolMessages((await h.client.readMessages(runId, { limit: 100 })).messages);
    return new Map(messages.map((m) => [m.tool_call_id, [m.status, m.content] as const]));
  }

  function requests(pending: PendingAction) {
    assert.equal(pending.payload.type, 'tool_approval');
    return pending.payload.type === 'tool_approval' ? pending.payload.action_requests : [];
  }

  it('filesystem: a read runs without a pause, a write pauses and runs once approved, an edit changes the content', async () => {
    const { runId } = await h.client.startRun(agentRun('fs'));
    const first = await waitForPending(h.client, runId);
    const [write] = requests(first);
    assert.equal(requests(first).length, 1, 'only the write asks');
    assert.equal(write?.name, 'write_file_mcp_fs');
    assert.deepEqual(write?.mcp, {
      server: 'fs',
      tool: 'write_file',
      annotations: {
        title: 'Write File',
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    });
    assert.match(write?.description ?? '', /^MCP server "fs", tool "write_file": Create a new file/);
    assert.ok(
      (
        await h.client.resolve(runId, {
          actionId: first.actionId,
          approver: 'u1',
          decisions: [{ tool_call_id: 'w1', decision: 'approve' }],
        })
      ).ok,
    );

    const second = await eventually(
      async () => {
        const p = await h.client.getPendingAction(runId);
        return p && p.actionId !== first.actionId ? p : undefined;
      },
      'the second pause',
      60_000,
    );
    assert.equal(await readFile(join(root, 'new.txt'), 'utf8'), 'approved content');
    const edited = { path: join(root, 'edited.txt'), content: 'edited content' };
    assert.ok(
      (
        await h.client.resolve(runId, {
          actionId: second.actionId,
          approver: 'u1',
          decisions: [{ tool_call_id: 'w2', decision: 'edit', editedArguments: edited }],
        })
      ).ok,
    );
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(await readFile(join(root, 'edited.txt'), 'utf8'), 'edited content');
    const messages = toolMessages((await h.client.readMessages(runId, { limit: 100 })).messages);
    assert.deepEqual(
      messages.map((m) => [m.tool_call_id, m.status, m.content]),
      [
        ['r1', 'success', 'hello world'],
        ['w1', 'success', `Successfully wrote to ${join(root, 'new.txt')}`],
        ['w2', 'success', `Successfully wrote to ${join(root, 'edited.txt')}`],
      ],
    );
    await maybeRecordHistory(h, runId, 'mcp-run');
  });

  it('arguments that violate the input schema get an error tool message, and nobody is asked', async () => {
    const { runId } = await h.client.startRun(agentRun('invalid'));
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    const state = await h.client.getRunState(runId);
    assert.deepEqual(state.decisions, [], 'no pause, no decision');
    const [message] = toolMessages((await h.client.readMessages(runId, { limit: 100 })).messages);
    assert.equal(message?.status, 'error');
    assert.match(message?.content ?? '', /^Invalid arguments for "write_file_mcp_fs": .*(content|path)/);
    const history = await h.env.client.workflow.getHandle(runId).fetchHistory();
    const executed = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'executeTool',
    );
    assert.equal(executed.length, 0, 'the tool never ran');
  });

  it('ask: ["*_mcp_everything"], allow: ["read_*_mcp_fs"], mode dontAsk: as the globs say', async () => {
    const { runId } = await h.client.startRun(agentRun('globs'));
    const pending = await waitForPending(h.client, runId);
    const asked = requests(pending);
    assert.deepEqual(
      asked.map((r) => r.name),
      ['echo_mcp_everything', 'get-sum_mcp_everything'],
    );
    assert.deepEqual(asked[0]?.mcp?.annotations?.readOnlyHint, true, 'annotations of server-everything are shown');
    assert.ok(
      (
        await h.client.resolve(runId, {
          actionId: pending.actionId,
          approver: 'u1',
          decisions: [
            { tool_call_id: 'e1', decision: 'approve' },
            { tool_call_id: 's1', decision: 'reject' },
          ],
        })
      ).ok,
    );
    await h.client.result(runId);
    const byId = new Map(
      toolMessages((await h.client.readMessages(runId, { limit: 100 })).messages).map((m) => [m.tool_call_id, m]),
    );
    assert.deepEqual([byId.get('e1')?.status, byId.get('e1')?.content], ['success', 'Echo: hi']);
    assert.deepEqual([byId.get('r1')?.status, byId.get('r1')?.content], ['success', 'hello world'], 'allowed, ran');
    assert.equal(byId.get('l1')?.status, 'error');
    assert.match(byId.get('l1')?.content ?? '', /^Blocked: .*dontAsk/, 'no list matches it: dontAsk denies');
    assert.match(byId.get('s1')?.content ?? '', /^Blocked: Rejected by user/);
  });

  it('mcpAnnotations: follow — a read-only tool runs without a pause, a destructive one pauses, explicit entries win; pinned in the run', async () => {
    const { runId } = await h.client.startRun(agentRun('annotations'));
    const pending = await waitForPending(h.client, runId);
    assert.deepEqual(
      requests(pending).map((r) => [r.tool_call_id, r.name]),
      [
        ['w1', 'write_file_mcp_fs'], // destructiveHint: true → asks (mode default)
        ['s1', 'get-sum_mcp_everything'], // readOnlyHint: true, but an explicit ask entry
      ],
    );
    // The pinned configuration: the annotations' entries are in the policy the run decides with.
    const pinned = await readPinnedRunConfig(h.client, runId);
    assert.ok(pinned?.policyFromAnnotations, 'recorded');
    const fromAnnotations = pinned.policyFromAnnotations;
    assert.ok(fromAnnotations.allow.includes('echo_mcp_everything'));
    assert.ok(fromAnnotations.allow.includes('read_text_file_mcp_fs'));
    for (const named of ['get-sum_mcp_everything', 'list_directory_mcp_fs', 'write_file_mcp_fs'])
      assert.ok(!fromAnnotations.allow.includes(named), `${named} is not allowed by its annotations`);
    assert.deepEqual(fromAnnotations.ask, [], 'under mode default the mode asks');
    assert.deepEqual(pinned.policy.allow, fromAnnotations.allow, 'the agent allows nothing itself');
    assert.deepEqual(pinned.policy.ask, ['get-sum_mcp_everything']);

    assert.ok(
      (
        await h.client.resolve(runId, {
          actionId: pending.actionId,
          approver: 'u1',
          decisions: [
            { tool_call_id: 'w1', decision: 'approve' },
            { tool_call_id: 's1', decision: 'reject' },
          ],
        })
      ).ok,
    );
    assert.equal((await h.client.result(runId)).status, 'completed');
    const results = await toolResults(runId);
    assert.deepEqual(results.get('e1'), ['success', 'Echo: read-only'], 'ran without anyone being asked');
    assert.deepEqual(results.get('w1'), ['success', `Successfully wrote to ${join(root, 'annotated.txt')}`]);
    assert.equal(await readFile(join(root, 'annotated.txt'), 'utf8'), 'destructive');
    assert.match(results.get('s1')?.[1] ?? '', /^Blocked: Rejected by user/);
    assert.equal(results.get('l1')?.[0], 'error');
    assert.match(results.get('l1')?.[1] ?? '', /^Blocked: /, 'read-only, but the explicit deny wins');
  });

  it("mcpAnnotations: follow under mode bypass — the destructive tool asks, an additive one runs, a request's tighten.ask still asks", async () => {
    const { runId } = await h.client.startRun(agentRun('annotations-bypass', { ask: ['echo_mcp_everything'] }));
    const pending = await waitForPending(h.client, runId);
    assert.deepEqual(
      requests(pending).map((r) => [r.tool_call_id, r.name]),
      [
        ['e1', 'echo_mcp_everything'], // read-only, allowed by its annotations, asked by the request
        ['w1', 'write_file_mcp_fs'], // destructive: an ask entry even though the mode is bypass
      ],
    );
    const pinned = await readPinnedRunConfig(h.client, runId);
    assert.deepEqual(pinned?.policyFromAnnotations?.ask, ['write_file_mcp_fs', 'edit_file_mcp_fs', 'move_file_mcp_fs']);
    assert.ok(
      (
        await h.client.resolve(runId, {
          actionId: pending.actionId,
          approver: 'u1',
          decisions: [
            { tool_call_id: 'e1', decision: 'approve' },
            { tool_call_id: 'w1', decision: 'approve' },
          ],
        })
      ).ok,
    );
    assert.equal((await h.client.result(runId)).status, 'completed');
    const results = await toolResults(runId);
    assert.deepEqual(results.get('c1'), ['success', `Successfully created directory ${join(root, 'created')}`]);
    assert.deepEqual(results.get('e1'), ['success', 'Echo: tightened']);
    assert.equal(await readFile(join(root, 'bypass.txt'), 'utf8'), 'asked');
  });

  it('the server killed mid-call: an error tool message, the run goes on, the next call reconnects', async () => {
    const { runId } = await h.client.startRun(agentRun('crash'));
    const handle = h.env.client.workflow.getHandle(runId);
    await eventually(
      async () => {
        const description = await handle.describe();
        return (description.raw.pendingActivities ?? []).some(
          (a) =>
            a.activityType?.name === 'executeTool' &&
            String(a.state) !== 'PENDING_ACTIVITY_STATE_SCHEDULED' &&
            Number(a.state) !== 1,
        );
      },
      'the long-running call to start',
      60_000,
    );
    // The call is in flight on the server (it reports progress); kill the server process.
    const pid = await eventually(async () => mcp.pid('everything'), 'the everything server');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    process.kill(pid, 'SIGKILL');
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    const byId = new Map(
      toolMessages((await h.client.readMessages(runId, { limit: 100 })).messages).map((m) => [m.tool_call_id, m]),
    );
    assert.equal(byId.get('long')?.status, 'error');
    assert.match(byId.get('long')?.content ?? '', /^Tool "trigger-long-running-operation_mcp_everything" failed: /);
    assert.deepEqual([byId.get('after')?.status, byId.get('after')?.content], ['success', 'Echo: after the crash']);
    assert.notEqual(mcp.pid('everything'), pid, 'a new server process');
  });
});
