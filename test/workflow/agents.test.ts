// Agent runs against the real dev server: the agent is resolved once from the worker's configuration
// file, pinned in the history, published in the memo; a request can only tighten it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createDefaultToolRegistry, userSandboxDir } from '../../src/activities';
import { FileConfigSource } from '../../src/agent-config';
import {
  RUN_ACCESS_MEMO_KEY,
  RunAccessMemoSchema,
  type AgentRunInput,
  type PendingAction,
  type Tighten,
} from '../../src/contracts';
import {
  call,
  eventually,
  maybeRecordHistory,
  startHarness,
  toolMessages,
  waitForPending,
  type Harness,
} from './harness';

const knownTools = new Set(
  createDefaultToolRegistry()
    .list()
    .map((tool) => tool.name),
);

/** The configuration of these tests: `files` (write allowed, delete asks), `strict` (dontAsk), `team` (claims). */
function configYaml(options: { deleteMode?: 'ask' | 'deny' } = {}): string {
  const deleteRule = options.deleteMode === 'deny' ? 'deny' : 'ask';
  return `
toolApproval: { enabled: true, mode: default, reason: 'policy says {tool}' }
agents:
  - id: files
    instructions: You are the files agent.
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: w1, name: write_file, arguments: { path: note.txt, content: hello } }
            - { id: d1, name: delete_file, arguments: { path: note.txt } }
        - content: done
    tools: [write_file, delete_file, read_file, list_files]
    toolApproval:
      allow: [write_file, read_file, list_files]
      ${deleteRule}: [delete_file]
    users: ['*']
  - id: strict
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: w1, name: write_file, arguments: { path: strict.txt, content: x } }
            - { id: r1, name: read_file, arguments: { path: strict.txt } }
        - content: done
    tools: [write_file, read_file]
    toolApproval: { mode: dontAsk, allow: [read_file] }
    users: ['*']
  - id: team
    model:
      provider: scripted
      script:
        - tool_calls: [{ id: d1, name: delete_file, arguments: { path: gone.txt } }]
        - content: done
    tools: [delete_file]
    approvers: [owner, lead, { role: approver }]
    users: ['*']
  - id: reader
    model:
      provider: scripted
      script:
        - tool_calls:
            - { id: r1, name: read_file, arguments: { path: ../u1/secret.txt } }
            - { id: r2, name: read_file, arguments: { path: secret.txt } }
            - { id: w1, name: write_file, arguments: { path: ../../users/u1/secret.txt, content: owned } }
        - content: done
    tools: [read_file, write_file]
    toolApproval: { allow: [read_file, write_file] }
    users: ['*']
  - id: long
    model:
      provider: scripted
      script:
${Array.from({ length: 24 }, (_, n) => `        - tool_calls: [{ id: a${n}, name: append_file, arguments: { path: long.txt, content: "${n}\\n" } }]`).join('\n')}
        - tool_calls: [{ id: last, name: delete_file, arguments: { path: long.txt } }]
        - content: finished
    tools: [append_file, delete_file]
    toolApproval: { allow: [append_file] }
    maxTurns: 40
    users: ['*']
`;
}

describe('agent runs (real dev server)', function () {
  this.timeout(120_000);
  let h: Harness;
  let configFile: string;

  before(async () => {
    configFile = join(await mkdtemp(join(tmpdir(), 'hitl-agents-')), 'hitl.config.yaml');
    await writeFile(configFile, configYaml());
    h = await startHarness({ agents: new FileConfigSource(configFile, { knownTools }) });
  });
  after(async () => {
    await h?.stop();
  });

  function agentRun(agentId: string, extra: { userId?: string; tighten?: Tighten } = {}): AgentRunInput {
    return {
      userId: extra.userId ?? 'u1',
      conversationId: `c-${randomUUID()}`,
      agentId,
      messages: [{ role: 'user', content: 'go' }],
      ...(extra.tighten ? { tighten: extra.tighten } : {}),
    };
  }

  function approveAll(pending: PendingAction, approver = 'u1') {
    assert.equal(pending.payload.type, 'tool_approval');
    return {
      actionId: pending.actionId,
      approver,
      decisions:
        pending.payload.type === 'tool_approval'
          ? pending.payload.review_configs.map((c) => ({ tool_call_id: c.tool_call_id, decision: 'approve' as const }))
          : [],
    };
  }

  function rejectAll(pending: PendingAction) {
    const approved = approveAll(pending);
    return {
      ...approved,
      decisions: approved.decisions.map((d) => ({ tool_call_id: d.tool_call_id, decision: 'reject' as const })),
    };
  }

  it('resolves the agent once: its policy, tools, instructions; agentId, configVersion and the memo', async () => {
    const { runId } = await h.client.startRun(agentRun('files'));
    const pending = await waitForPending(h.client, runId);
    assert.equal(pending.payload.type, 'tool_approval');
    assert.deepEqual(
      pending.payload.type === 'tool_approval'
        ? pending.payload.action_requests.map((r) => [r.name, r.description])
        : [],
      [['delete_file', 'policy says delete_file']],
      'write_file was allowed and ran; delete_file asks with the default reason',
    );
    const state = await h.client.getRunState(runId);
    assert.equal(state.agentId, 'files');
    assert.match(state.configVersion ?? '', /^[0-9a-f]{12}$/);
    assert.deepEqual(state.messages[0], { role: 'system', content: 'You are the files agent.' });
    assert.equal(await readFile(join(userSandboxDir(h.sandboxDir, 'u1'), 'note.txt'), 'utf8'), 'hello');

    const description = await h.env.client.workflow.getHandle(runId).describe();
    const memo = RunAccessMemoSchema.parse(description.memo?.[RUN_ACCESS_MEMO_KEY]);
    assert.deepEqual(memo, {
      agentId: 'files',
      configVersion: state.configVersion,
      approvers: { users: ['u1'], claims: [] },
    });
    // The resolution is one activity in the history, with its summary.
    const history = await h.env.client.workflow.getHandle(runId).fetchHistory();
    const resolves = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'resolveAgentConfig',
    );
    assert.equal(resolves.length, 1);

    assert.ok((await h.client.resolve(runId, approveAll(pending))).ok);
    const result = await h.client.result(runId);
    assert.equal(result.finalMessage, 'done');
    await maybeRecordHistory(h, runId, 'agent-run');
  });

  it('a configuration edit changes new runs, never a paused one (both versions visible)', async () => {
    await writeFile(configFile, configYaml({ deleteMode: 'ask' }));
    const paused = await h.client.startRun(agentRun('files'));
    const pendingOld = await waitForPending(h.client, paused.runId);
    const oldVersion = (await h.client.getRunState(paused.runId)).configVersion;

    // The operator now denies delete_file outright.
    await writeFile(configFile, configYaml({ deleteMode: 'deny' }));
    const fresh = await h.client.startRun(agentRun('files'));
    const freshResult = await h.client.result(fresh.runId);
    const freshState = await h.client.getRunState(fresh.runId);
    assert.notEqual(freshState.configVersion, oldVersion, 'the new run is pinned to the new version');
    const blocked = toolMessages(freshResult.messages).find((m) => m.tool_call_id === 'd1');
    assert.equal(blocked?.status, 'error');
    assert.match(blocked?.content ?? '', /^Blocked: /, 'the new policy denies without asking');

    // The paused run is still decided under the policy it was created with: approving deletes the file.
    assert.equal((await h.client.getRunState(paused.runId)).configVersion, oldVersion);
    assert.ok((await h.client.resolve(paused.runId, approveAll(pendingOld))).ok);
    const result = await h.client.result(paused.runId);
    const deleted = toolMessages(result.messages).find((m) => m.tool_call_id === 'd1');
    assert.deepEqual([deleted?.status, deleted?.content], ['success', 'Deleted note.txt']);
    await writeFile(configFile, configYaml());
  });

  it('tighten.deny stops a tool the agent allows; tighten.ask pauses it; neither can free a denied one', async () => {
    const denied = await h.client.startRun(agentRun('files', { tighten: { deny: ['write_*'], ask: [] } }));
    const deniedPending = await waitForPending(h.client, denied.runId);
    assert.ok((await h.client.resolve(denied.runId, rejectAll(deniedPending))).ok);
    const deniedResult = await h.client.result(denied.runId);
    assert.equal(
      toolMessages(deniedResult.messages).find((m) => m.tool_call_id === 'w1')?.content,
      'Blocked: policy says write_file',
    );

    const asked = await h.client.startRun(agentRun('files', { tighten: { ask: ['write_file'] } }));
    const askedPending = await waitForPending(h.client, asked.runId);
    assert.deepEqual(
      askedPending.payload.type === 'tool_approval' ? askedPending.payload.action_requests.map((r) => r.name) : [],
      ['write_file', 'delete_file'],
      'the allowed write now waits for a person, with the delete, in one action',
    );
    await h.client.abort(asked.runId);

    // `strict` is dontAsk: write_file is denied. An `ask` entry in a request must not turn that into a
    // pause an approver could approve.
    const strict = await h.client.startRunAndWait(
      agentRun('strict', { tighten: { ask: ['write_file', 'read_file'] } }),
    );
    assert.equal(strict.pendingAction?.payload.type, 'tool_approval');
    assert.deepEqual(
      strict.pendingAction?.payload.type === 'tool_approval'
        ? strict.pendingAction.payload.action_requests.map((r) => r.name)
        : [],
      ['read_file'],
      'only the allowed read pauses',
    );
    assert.ok((await h.client.resolve(strict.runId, rejectAll(strict.pendingAction))).ok);
    const strictResult = await h.client.result(strict.runId);
    assert.match(toolMessages(strictResult.messages).find((m) => m.tool_call_id === 'w1')?.content ?? '', /^Blocked: /);
  });

  it('continue-as-new keeps the pinned configuration and the memo; the agent is never resolved again', async () => {
    const { runId } = await h.client.startRun(agentRun('long'));
    const firstRunId = (await h.env.client.workflow.getHandle(runId).describe()).runId;
    const version = await eventually(async () => (await h.client.getRunState(runId)).configVersion, 'a version');
    const pending = await waitForPending(h.client, runId);
    const handle = h.env.client.workflow.getHandle(runId);
    const description = await handle.describe();
    assert.notEqual(description.runId, firstRunId, 'the run continued as new before its last turn');
    assert.deepEqual(RunAccessMemoSchema.parse(description.memo?.[RUN_ACCESS_MEMO_KEY]).configVersion, version);
    const history = await handle.fetchHistory();
    const resolves = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'resolveAgentConfig',
    );
    assert.equal(resolves.length, 0, 'the continued run carries its configuration');
    assert.equal((await h.client.getRunState(runId)).configVersion, version);
    assert.ok((await h.client.resolve(runId, approveAll(pending))).ok);
    assert.equal((await h.client.result(runId)).finalMessage, 'finished');
  });

  it('tighten shortens the TTL and chooses abort on expiry', async () => {
    const { runId } = await h.client.startRun(
      agentRun('files', { tighten: { approvalTtlMs: 1500, onExpiry: 'abort' } }),
    );
    const pending = await waitForPending(h.client, runId);
    assert.ok(Date.parse(pending.expiresAt) - Date.parse(pending.createdAt) === 1500);
    const result = await h.client.result(runId);
    assert.equal(result.status, 'aborted');
    assert.equal(result.finishReason, 'expired');
  });

  it('claim rules: a matching approverClaims resolves; the same approver without it is NotAuthorized', async () => {
    const { runId } = await h.client.startRun(agentRun('team', { userId: 'owner-1' }));
    const pending = await waitForPending(h.client, runId);
    const refused = await h.client.resolve(runId, {
      ...approveAll(pending, 'carol'),
      approverClaims: { role: 'viewer' },
    });
    assert.ok(!refused.ok);
    assert.equal(refused.refusal.type, 'NotAuthorized');
    const accepted = await h.client.resolve(runId, {
      ...approveAll(pending, 'carol'),
      approverClaims: { role: ['staff', 'approver'] },
    });
    assert.ok(accepted.ok, JSON.stringify(accepted));
    assert.equal(accepted.result.decidedBy, 'carol');
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
  });

  it('an unknown agent fails the run with InvalidInput naming it', async () => {
    const { runId } = await h.client.startRun(agentRun('no-such-agent'));
    await assert.rejects(h.client.result(runId), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.ok(error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'InvalidInput');
      assert.match(error.cause.message, /Unknown agent "no-such-agent"/);
      return true;
    });
    const state = await h.client.getRunState(runId);
    assert.equal(state.status, 'failed');
    assert.match(state.error ?? '', /no-such-agent/);
  });

  it("a second user's run cannot read or change the first user's files (.. and foreign paths)", async () => {
    const u1Dir = userSandboxDir(h.sandboxDir, 'u1');
    await mkdir(u1Dir, { recursive: true });
    await writeFile(join(u1Dir, 'secret.txt'), 'u1 only');
    const { runId } = await h.client.startRun(agentRun('reader', { userId: 'u2' }));
    const result = await h.client.result(runId);
    const [escape, own, overwrite] = toolMessages(result.messages);
    assert.equal(escape?.status, 'error');
    assert.match(escape?.content ?? '', /escapes the sandbox/);
    assert.equal(own?.status, 'error', 'u2 has no secret.txt of its own');
    assert.doesNotMatch(own?.content ?? '', /u1 only/);
    assert.equal(overwrite?.status, 'error');
    assert.equal(await readFile(join(u1Dir, 'secret.txt'), 'utf8'), 'u1 only');
  });
});

describe('a worker without HITL_ENABLE_SCRIPTED (real dev server)', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'hitl-agents-')), 'hitl.config.yaml');
    await writeFile(file, configYaml());
    h = await startHarness({ agents: new FileConfigSource(file, { knownTools }), enableScripted: false });
  });
  after(async () => {
    await h?.stop();
  });

  async function failure(runId: string): Promise<ApplicationFailure> {
    try {
      await h.client.result(runId);
    } catch (error) {
      assert.ok(error instanceof WorkflowFailedError, String(error));
      assert.ok(error.cause instanceof ApplicationFailure, String(error.cause));
      return error.cause;
    }
    assert.fail('the run completed');
  }

  it('an inline run naming the scripted provider fails InvalidInput naming it; no tool runs', async () => {
    const { runId } = await h.client.startRun({
      userId: 'u1',
      conversationId: 'c1',
      messages: [{ role: 'user', content: 'bypass' }],
      model: { provider: 'scripted', script: [{ tool_calls: [call('c1', 'delete_file', { path: 'x' })] }] },
      tools: ['delete_file'],
      policy: { enabled: true, mode: 'bypass' },
    });
    const cause = await failure(runId);
    assert.equal(cause.type, 'InvalidInput');
    assert.match(cause.message, /provider "scripted"/);
    const state = await eventually(async () => {
      const s = await h.client.getRunState(runId);
      return s.status === 'failed' ? s : undefined;
    }, 'the failed state');
    assert.equal(toolMessages(state.messages).length, 0);
  });

  it('an agent run of a scripted agent fails InvalidInput at once', async () => {
    const { runId } = await h.client.startRun({
      userId: 'u1',
      conversationId: 'c1',
      agentId: 'files',
      messages: [{ role: 'user', content: 'go' }],
    });
    const cause = await failure(runId);
    assert.equal(cause.type, 'InvalidInput');
    assert.match(cause.message, /agent "files" uses model provider "scripted"/);
  });
});
