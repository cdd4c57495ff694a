// A remembered approval stands for its approver's decision, so it counts only in runs that approver may
// decide. Found by a trust review: a user who is their own approver in one agent approved a tool "always",
// and the next run of another agent, whose approver is someone else, ran the tool without asking anyone.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { PendingAction, ResolveResult, RunState } from '../../src/contracts';
import { buildApi, issueDevToken, type ErrorBody } from '../../src/server';
import { call, eventually, startHarness, toolMessages, type Harness } from '../workflow/harness';
import { agentsFromConfig, request } from './client';

const SECRET = randomBytes(32).toString('base64url');

const appendScript = (path: string) => [
  { tool_calls: [call('call_1', 'append_file', { path, content: 'G' })] },
  { content: 'Done.' },
];
/** Two agents with the same tool under the same policy; only their approvers differ. */
const agents = agentsFromConfig({
  toolApproval: { enabled: true, mode: 'default' },
  agents: [
    {
      id: 'self-approved',
      model: { provider: 'scripted', script: appendScript('grants-across/self.txt') },
      tools: ['append_file'],
      users: ['*'],
    },
    {
      id: 'guarded',
      model: { provider: 'scripted', script: appendScript('grants-across/guarded.txt') },
      tools: ['append_file'],
      users: ['*'],
      approvers: ['boss'],
    },
  ],
});

describe('HTTP API: grants across agents (real dev server)', function () {
  this.timeout(120_000);
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  const user = `grants-across-${randomUUID()}`;
  const tokens: Record<string, string> = {};

  before(async () => {
    h = await startHarness({ agents });
    app = buildApi({ client: h.client, auth: { kind: 'secret', secret: SECRET }, agents });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    tokens[user] = await issueDevToken(SECRET, user, 600);
    tokens.boss = await issueDevToken(SECRET, 'boss', 600);
  });
  after(async () => {
    await app?.close();
    await h?.stop();
  });

  async function start(agentId: string): Promise<string> {
    const res = await request<{ runId: string }>(base, 'POST', '/runs', {
      token: tokens[user]!,
      body: { agentId, conversationId: `c-${randomUUID()}`, messages: [{ role: 'user', content: 'go' }] },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.runId;
  }
  const paused = (runId: string): Promise<PendingAction> =>
    eventually(async () => {
      const res = await request<{ pendingAction: PendingAction | null }>(base, 'GET', `/runs/${runId}/pending`, {
        token: tokens[user]!,
      });
      return res.body.pendingAction;
    }, `${runId} pauses`);
  const approveAlways = (sub: string, runId: string, action: PendingAction) =>
    request<ResolveResult | ErrorBody>(base, 'POST', `/runs/${runId}/resolve`, {
      token: tokens[sub]!,
      body: {
        actionId: action.actionId,
        decisions: [{ tool_call_id: 'call_1', decision: 'approve', scope: 'always' }],
      },
    });

  it("the user's own grant does not skip the approver another agent names; that approver's grant counts there", async () => {
    // The user approves their own call in the agent where they are the approver, and remembers it.
    const own = await start('self-approved');
    const approved = await approveAlways(user, own, await paused(own));
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal((await h.client.result(own)).status, 'completed');

    // The guarded agent still asks, and only its approver may answer (before the fix it ran the tool unasked).
    const guarded = await start('guarded');
    const action = await paused(guarded);
    assert.deepEqual(action.payload.type === 'tool_approval' ? action.payload.action_requests.map((r) => r.name) : [], [
      'append_file',
    ]);
    const byOwner = await approveAlways(user, guarded, action);
    assert.equal(byOwner.status, 403, JSON.stringify(byOwner.body));
    // Its approver remembers the approval for the user's runs…
    const byBoss = await approveAlways('boss', guarded, action);
    assert.equal(byBoss.status, 200, JSON.stringify(byBoss.body));
    assert.equal((await h.client.result(guarded)).status, 'completed');

    // …and that grant counts in the next run of the guarded agent: no pause, the tool ran.
    const next = await start('guarded');
    const result = await h.client.result(next);
    assert.equal(result.status, 'completed');
    const state: RunState = await h.client.getRunState(next);
    assert.equal(state.decisions.filter((entry) => entry.outcome !== 'refused').length, 0, 'no approval was asked for');
    assert.equal(toolMessages(state.messages)[0]?.status, 'success');
  });
});
