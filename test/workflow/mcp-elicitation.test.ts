// MCP elicitation as a durable pause, against the official @modelcontextprotocol/server-everything over stdio:
// its elicitation tools ask during a call; the run pauses with an `mcp_elicitation` action; the answer (or
// `cancel` on expiry) reaches the server, whose tool result says what it got.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultToolRegistry, McpManager } from '../../src/activities';
import { FileConfigSource } from '../../src/agent-config';
import {
  getElicitationResponseQuery,
  requestElicitationSignal,
  type AgentRunInput,
  type McpElicitationPayload,
  type PendingAction,
} from '../../src/contracts';
import { MAX_ELICITATIONS_PER_CALL } from '../../src/workflows/generation-run';
import { eventually, maybeRecordHistory, startHarness, toolMessages, waitForPending, type Harness } from './harness';

const knownTools = new Set(
  createDefaultToolRegistry()
    .list()
    .map((tool) => tool.name),
);
const EVERYTHING_SERVER = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
const ELICIT = 'trigger-elicitation-request_mcp_everything';
const ELICIT_URL = 'trigger-url-elicitation_mcp_everything';

export function elicitationConfigYaml(): string {
  const askThenDone = (id: string, name: string, args = '{}') => `
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: ${id}, name: ${name}, arguments: ${args} }
        - content: done`;
  return `
toolApproval: { enabled: true, mode: default }
mcpServers:
  everything:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(EVERYTHING_SERVER)}, stdio]
    initTimeout: 60000
    timeout: 60000
  quick:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(EVERYTHING_SERVER)}, stdio]
    initTimeout: 60000
    timeout: 1500
agents:
  - id: elicit
${askThenDone('e1', ELICIT)}
    tools: ['*_mcp_everything']
    toolApproval: { allow: ['*_mcp_everything'] }
    users: ['*']
  - id: elicit-expiring
${askThenDone('e1', ELICIT)}
    tools: ['*_mcp_everything']
    toolApproval: { allow: ['*_mcp_everything'] }
    approvalTtl: 2s
    users: ['*']
  - id: elicit-url
${askThenDone('u1', ELICIT_URL, '{ url: "https://example.com/consent", message: Please sign in }')}
    tools: ['*_mcp_everything']
    toolApproval: { allow: ['*_mcp_everything'] }
    users: ['*']
  - id: elicit-quick-timeout
${askThenDone('e1', 'trigger-elicitation-request_mcp_quick')}
    tools: ['*_mcp_quick']
    toolApproval: { allow: ['*_mcp_quick'] }
    users: ['*']
  - id: approve-then-elicit
${askThenDone('e1', ELICIT)}
    tools: ['*_mcp_everything']
    toolApproval: { ask: ['trigger-*_mcp_everything'] }
    users: ['*']
`;
}

export function elicitationOf(pending: PendingAction): McpElicitationPayload {
  assert.equal(pending.payload.type, 'mcp_elicitation', `an mcp_elicitation action, got ${pending.payload.type}`);
  return pending.payload;
}

describe('MCP elicitation as a durable pause (server-everything over stdio, real dev server)', function () {
  this.timeout(180_000);
  let h: Harness;
  let mcp: McpManager;

  before(async () => {
    const configFile = join(await mkdtemp(join(tmpdir(), 'hitl-elicit-')), 'hitl.config.yaml');
    await writeFile(configFile, elicitationConfigYaml());
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

  async function toolResult(runId: string, id: string) {
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed', `run ${runId} completed`);
    const message = toolMessages((await h.client.readMessages(runId, { limit: 100 })).messages).find(
      (m) => m.tool_call_id === id,
    );
    assert.ok(message, `a tool message for ${id}`);
    return message;
  }

  it('pauses as mcp_elicitation; invalid content is refused and the run stays paused; valid content reaches the server', async () => {
    const { runId } = await h.client.startRun(agentRun('elicit'));
    const pending = await waitForPending(h.client, runId);
    const ask = elicitationOf(pending);
    assert.equal(ask.server, 'everything');
    assert.equal(ask.name, ELICIT);
    assert.equal(ask.tool_call_id, 'e1');
    assert.match(ask.message, /Please provide inputs/);
    assert.deepEqual(ask.requestedSchema.required, ['name']);
    assert.equal(ask.requestedSchema.properties.email?.type, 'string');
    const state = await h.client.getRunState(runId);
    assert.equal(state.status, 'requires_action');

    // Wrong type, a missing required field, a value outside the enum, a field the form does not have.
    const invalid = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      elicitation: {
        action: 'accept',
        content: { check: 'yes', untitledSingleSelectEnum: 'Gunther', shoeSize: 44 },
      },
    });
    assert.equal(invalid.ok, false);
    assert.equal(!invalid.ok && invalid.refusal.type, 'InvalidElicitationContent');
    assert.match(!invalid.ok ? invalid.refusal.message : '', /"name" is required/);
    assert.match(!invalid.ok ? invalid.refusal.message : '', /"check" must be true or false/);
    assert.match(!invalid.ok ? invalid.refusal.message : '', /"shoeSize" is not a field/);
    assert.equal(
      (await h.client.getPendingAction(runId))?.actionId,
      pending.actionId,
      'still paused on the same action',
    );

    const accepted = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      elicitation: {
        action: 'accept',
        content: { name: 'Ada Lovelace', check: true, integer: 7, email: 'ada@example.com' },
      },
    });
    assert.equal(accepted.ok, true);
    const message = await toolResult(runId, 'e1');
    assert.equal(message.status, 'success');
    assert.match(message.content, /User provided the requested information/);
    assert.match(message.content, /Name: Ada Lovelace/);
    assert.match(message.content, /Favorite Integer: 7/);
    const audit = (await h.client.getRunState(runId)).decisions;
    assert.deepEqual(
      audit.map((entry) => [entry.outcome, entry.refusal?.type ?? entry.elicitation]),
      [
        ['refused', 'InvalidElicitationContent'],
        ['accepted', 'accept'],
      ],
    );
    await maybeRecordHistory(h, runId, 'mcp-elicitation-run');
  });

  it("the call's timeout does not run while a person answers", async () => {
    // The server's call timeout is 1.5 s; the answer comes well after that.
    const { runId } = await h.client.startRun(agentRun('elicit-quick-timeout'));
    const pending = await waitForPending(h.client, runId);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const accepted = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      elicitation: { action: 'accept', content: { name: 'Patient' } },
    });
    assert.equal(accepted.ok, true);
    const message = await toolResult(runId, 'e1');
    assert.equal(message.status, 'success', message.content);
    assert.match(message.content, /Name: Patient/);
  });

  it('requests the run cannot honour are answered cancel, and it remembers at most MAX_ELICITATIONS_PER_CALL of them', async () => {
    const { runId } = await h.client.startRun(agentRun('elicit'));
    const pending = await waitForPending(h.client, runId);
    const handle = h.env.client.workflow.getHandle(runId);
    const stray = (n: number) => ({
      elicitationId: `stray-${n}`,
      tool_call_id: 'not-running',
      server: 'everything',
      message: 'not for this call',
      mode: 'form' as const,
      requestedSchema: { type: 'object' as const, properties: {} },
    });
    const count = MAX_ELICITATIONS_PER_CALL + 36;
    for (let n = 0; n < count; n += 1) await handle.signal(requestElicitationSignal, stray(n));
    const answers = await Promise.all(
      Array.from({ length: count }, (_, n) => handle.query(getElicitationResponseQuery, `stray-${n}`)),
    );
    const answered = answers.filter((a) => a.status === 'answered');
    // The call's own request holds one place; the rest go to strays, answered cancel; beyond the bound, unknown.
    assert.equal(answered.length, MAX_ELICITATIONS_PER_CALL - 1);
    assert.ok(answered.every((a) => a.status === 'answered' && a.answer.action === 'cancel'));
    assert.equal(answers.filter((a) => a.status === 'unknown').length, count - (MAX_ELICITATIONS_PER_CALL - 1));
    assert.equal((await h.client.getPendingAction(runId))?.actionId, pending.actionId, 'still paused on the real one');
    await h.client.resolve(runId, { actionId: pending.actionId, approver: 'u1', elicitation: { action: 'decline' } });
    assert.match((await toolResult(runId, 'e1')).content, /User declined/);
  });

  it('decline and cancel reach the server as such', async () => {
    for (const action of ['decline', 'cancel'] as const) {
      const { runId } = await h.client.startRun(agentRun('elicit'));
      const pending = await waitForPending(h.client, runId);
      elicitationOf(pending);
      const outcome = await h.client.resolve(runId, {
        actionId: pending.actionId,
        approver: 'u1',
        elicitation: { action },
      });
      assert.equal(outcome.ok, true, action);
      const message = await toolResult(runId, 'e1');
      assert.match(message.content, action === 'decline' ? /User declined/ : /User cancelled/);
    }
  });

  it('expiry answers cancel (the run goes on)', async () => {
    const { runId } = await h.client.startRun(agentRun('elicit-expiring'));
    // Answered by the workflow task that paused: polling could miss a pause that lasts 2 s on a slow machine.
    const wait = await h.client.waitForPendingAction(runId, { timeoutMs: 60_000 });
    assert.equal(wait.status, 'requires_action', JSON.stringify(wait));
    const pending = wait.pendingAction!;
    elicitationOf(pending);
    const message = await toolResult(runId, 'e1');
    assert.match(message.content, /User cancelled/);
    const audit = (await h.client.getRunState(runId)).decisions;
    assert.deepEqual(
      audit.map((entry) => [entry.via, entry.outcome, entry.actionId]),
      [['expiry', 'expired', pending.actionId]],
    );
  });

  it('URL mode: the approver gets the link; "done" is an accept without content', async () => {
    const { runId } = await h.client.startRun(agentRun('elicit-url'));
    const pending = await waitForPending(h.client, runId);
    const ask = elicitationOf(pending);
    assert.equal(ask.mode, 'url');
    assert.equal(ask.url, 'https://example.com/consent');
    assert.equal(ask.message, 'Please sign in');
    const withContent = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      elicitation: { action: 'accept', content: { token: 'x' } },
    });
    assert.equal(!withContent.ok && withContent.refusal.type, 'InvalidElicitationContent');
    const done = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      elicitation: { action: 'accept' },
    });
    assert.equal(done.ok, true);
    const message = await toolResult(runId, 'u1');
    assert.match(message.content, /User completed the URL elicitation flow/);
  });

  it('an approved call that then elicits pauses twice: the approval, then the question', async () => {
    const { runId } = await h.client.startRun(agentRun('approve-then-elicit'));
    const approval = await waitForPending(h.client, runId);
    assert.equal(approval.payload.type, 'tool_approval');
    const approved = await h.client.resolve(runId, {
      actionId: approval.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'e1', decision: 'approve' }],
    });
    assert.equal(approved.ok, true);
    const question = await eventually(async () => {
      const next = await h.client.getPendingAction(runId);
      return next && next.actionId !== approval.actionId ? next : undefined;
    }, 'the elicitation after the approval');
    elicitationOf(question);
    // A decision of the approval kind does not answer an elicitation.
    const wrongKind = await h.client.resolve(runId, {
      actionId: question.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'e1', decision: 'approve' }],
    });
    assert.equal(!wrongKind.ok && wrongKind.refusal.type, 'DecisionNotPermitted');
    await h.client.resolve(runId, {
      actionId: question.actionId,
      approver: 'u1',
      elicitation: { action: 'accept', content: { name: 'Grace' } },
    });
    assert.match((await toolResult(runId, 'e1')).content, /Name: Grace/);
  });

  it('a run cancelled while it waits for the answer ends aborted, and the server takes the next call', async () => {
    const { runId } = await h.client.startRun(agentRun('elicit'));
    const pending = await waitForPending(h.client, runId);
    elicitationOf(pending);
    await h.env.client.workflow.getHandle(runId).cancel();
    const result = await h.client.result(runId);
    assert.equal(result.status, 'aborted');
    const audit = (await h.client.getRunState(runId)).decisions;
    assert.deepEqual(
      audit.map((entry) => [entry.via, entry.actionId]),
      [['cancel', pending.actionId]],
    );
    // The next run's call works on the same connection(s): nothing was left hanging.
    const next = await h.client.startRun(agentRun('elicit'));
    const again = await waitForPending(h.client, next.runId);
    await h.client.resolve(next.runId, {
      actionId: again.actionId,
      approver: 'u1',
      elicitation: { action: 'decline' },
    });
    assert.match((await toolResult(next.runId, 'e1')).content, /User declined/);
  });

  it('two runs eliciting at once each get their own answer', async () => {
    const runs = await Promise.all([h.client.startRun(agentRun('elicit')), h.client.startRun(agentRun('elicit'))]);
    const pendings = await Promise.all(runs.map(({ runId }) => waitForPending(h.client, runId)));
    await Promise.all(
      runs.map(({ runId }, index) =>
        h.client.resolve(runId, {
          actionId: pendings[index]!.actionId,
          approver: 'u1',
          elicitation: { action: 'accept', content: { name: `person ${index}` } },
        }),
      ),
    );
    for (const [index, { runId }] of runs.entries()) {
      assert.match((await toolResult(runId, 'e1')).content, new RegExp(`Name: person ${index}\\b`));
    }
  });
});
