// Runs paused with an MCP elicitation, for the tests of the surfaces (client, `hitl`, HTTP API, console): real
// agent runs of `generationRun` on the real worker activities, whose MCP tool call reaches a small test MCP
// server (test/support/eliciting-mcp-server.cjs, the official SDK) that sends the `elicitation/create` a test
// asks for and returns what it was answered.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createDefaultToolRegistry, McpManager } from '../../src/activities';
import { FileConfigSource } from '../../src/agent-config';
import type { HitlClient } from '../../src/client';
import type { ElicitationAnswer, ElicitationRequestedSchema, PendingAction } from '../../src/contracts';
import { startHarness, toolMessages, type Harness } from '../workflow/harness';

export interface ElicitationHarness {
  env: TestWorkflowEnvironment;
  /** A client of the task queue the paused runs are on (give it to `buildApi`, or to the CLI). */
  client: HitlClient;
  stop(): Promise<void>;
}

/** What the MCP server asks. */
export interface ElicitationOptions {
  /** Owner of the run. */
  userId: string;
  /** Who may answer (default: the owner); `['boss']` is the one other choice the harness's agents offer. */
  approvers?: ['boss'];
  /** `crm` (default), `github` or `billing`. */
  server?: 'crm' | 'github' | 'billing';
  /** The MCP tool call that asks: `create_contact_mcp_<server>` (default) or `connect_mcp_<server>`. */
  tool?: string;
  message?: string;
  requestedSchema?: ElicitationRequestedSchema;
  mode?: 'form' | 'url';
  url?: string;
}

const SERVER = require.resolve('./eliciting-mcp-server.cjs');
const SERVERS = ['crm', 'github', 'billing'] as const;
const TOOLS = ['create_contact', 'connect'] as const;
const knownTools = new Set(
  createDefaultToolRegistry()
    .list()
    .map((tool) => tool.name),
);

/** One agent per server, tool and approvers: its model calls that one tool (`call_1`), then answers "done". */
function agentId(server: string, tool: string, boss: boolean): string {
  return `${server}-${tool.replace('_', '-')}${boss ? '-boss' : ''}`;
}

function configYaml(elicitDir: string): string {
  const servers = SERVERS.map(
    (server) => `
  ${server}:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(SERVER)}]
    env: { HITL_TEST_ELICIT_DIR: ${JSON.stringify(elicitDir)} }
    initTimeout: 60000
    timeout: 60000`,
  ).join('');
  const agents = SERVERS.flatMap((server) =>
    TOOLS.flatMap((tool) =>
      [false, true].map(
        (boss) => `
  - id: ${agentId(server, tool, boss)}
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: call_1, name: ${tool}_mcp_${server}, arguments: {} }
        - content: done
    tools: ['*_mcp_${server}']
    toolApproval: { allow: ['*_mcp_${server}'] }${boss ? '\n    approvers: [boss]' : ''}
    users: ['*']`,
      ),
    ),
  ).join('');
  return `toolApproval: { enabled: true, mode: default }\nmcpServers:${servers}\nagents:${agents}\n`;
}

interface RealElicitationHarness extends ElicitationHarness {
  elicitDir: string;
  harness: Harness;
}

/** A worker with the real activities and the test MCP servers, on a task queue of its own. */
export async function startElicitationHarness(): Promise<ElicitationHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'hitl-elicit-surfaces-'));
  const elicitDir = join(dir, 'requests');
  mkdirSync(elicitDir);
  const configFile = join(dir, 'hitl.config.yaml');
  writeFileSync(configFile, configYaml(elicitDir));
  const agents = new FileConfigSource(configFile, { knownTools });
  const mcp = new McpManager(() => agents.current().config.mcpServers ?? {});
  const harness = await startHarness({ agents, mcp });
  const h: RealElicitationHarness = {
    env: harness.env,
    client: harness.client,
    elicitDir,
    harness,
    async stop() {
      await harness.stop();
      await mcp.close();
    },
  };
  return h;
}

/**
 * A run of `options.userId` paused with an `mcp_elicitation` action: the MCP server `options.server` sent
 * `elicitation/create` (the form or link of `options`) during the tool call `options.tool`.
 */
export async function pauseWithElicitation(
  h: ElicitationHarness,
  options: ElicitationOptions,
): Promise<{ runId: string; pending: PendingAction }> {
  const { elicitDir } = h as RealElicitationHarness;
  const server = options.server ?? 'crm';
  const toolName = options.tool ?? `create_contact_mcp_${server}`;
  const tool = TOOLS.find((candidate) => toolName === `${candidate}_mcp_${server}`);
  assert.ok(tool, `the test servers offer ${TOOLS.join(', ')}, not ${toolName}`);
  const message = options.message ?? 'Who should I add?';
  const params =
    options.mode === 'url'
      ? { mode: 'url', message, url: options.url ?? 'https://example.com', elicitationId: randomUUID() }
      : { mode: 'form', message, requestedSchema: options.requestedSchema ?? { type: 'object', properties: {} } };
  const { runId } = await h.client.startRun({
    userId: options.userId,
    conversationId: `conversation-${randomUUID()}`,
    agentId: agentId(server, tool, options.approvers !== undefined),
    messages: [{ role: 'user', content: 'Add Ada to the CRM' }],
  });
  writeFileSync(join(elicitDir, `${runId}.json`), JSON.stringify(params));
  const wait = await h.client.waitForPendingAction(runId, { timeoutMs: 60_000 });
  if (!wait.pendingAction) throw new Error(`run ${runId} did not pause (status ${wait.status})`);
  return { runId, pending: wait.pendingAction };
}

/** What the MCP server was answered (from its tool result), and by whom (null: the action expired). */
export async function elicitationOutcome(
  h: ElicitationHarness,
  runId: string,
): Promise<{ elicitation: ElicitationAnswer; decidedBy: string | null }> {
  const result = await h.client.result(runId);
  assert.equal(result.status, 'completed', `run ${runId} completed`);
  const [message] = toolMessages((await h.client.readMessages(runId, { limit: 100 })).messages);
  assert.equal(message?.status, 'success', message?.content);
  const { elicitation } = JSON.parse(message.content) as { elicitation: ElicitationAnswer };
  const accepted = (await h.client.getRunState(runId)).decisions.find((entry) => entry.outcome === 'accepted');
  return { elicitation, decidedBy: accepted?.approver ?? null };
}

/** A form with a field of every kind MCP allows (what the surface tests ask for). */
export const CONTACT_FORM: ElicitationRequestedSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', title: 'Full name', description: 'As it should appear on the invoice', minLength: 2 },
    email: { type: 'string', title: 'Email', format: 'email' },
    birthday: { type: 'string', title: 'Birthday', format: 'date' },
    seats: { type: 'integer', title: 'Seats', minimum: 1, maximum: 50, default: 5 },
    budget: { type: 'number', title: 'Budget (EUR)', minimum: 0 },
    newsletter: { type: 'boolean', title: 'Send the newsletter', default: true },
    plan: { type: 'string', title: 'Plan', enum: ['free', 'pro', 'team'], enumNames: ['Free', 'Pro', 'Team'] },
    region: {
      type: 'string',
      title: 'Region',
      oneOf: [
        { const: 'eu', title: 'Europe' },
        { const: 'us', title: 'United States' },
      ],
      default: 'eu',
    },
    topics: {
      type: 'array',
      title: 'Topics',
      items: { type: 'string', enum: ['billing', 'product', 'security'] },
      minItems: 1,
      maxItems: 2,
    },
  },
  required: ['name', 'email', 'plan'],
};
