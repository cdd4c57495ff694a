import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main, type CliDeps } from '../../src/cli/hitl';
import type { PendingAction, RunState } from '../../src/contracts';
import type { RunSummary } from '../../src/client';
import { eventually, readSandboxFile, scriptedInput, startHarness, type Harness } from '../workflow/harness';

interface Ran {
  code: number;
  out: string;
  err: string;
}

describe('hitl command (real dev server)', function () {
  this.timeout(60_000);
  let h: Harness;
  let run: (...argv: string[]) => Promise<Ran>;

  before(async () => {
    h = await startHarness();
    run = async (...argv) => {
      let out = '';
      let err = '';
      const deps: CliDeps = {
        connect: () => Promise.resolve(h.client),
        io: { out: (t) => (out += t), err: (t) => (err += t) },
        runDev: () => 0,
      };
      const code = await main(argv, deps);
      return { code, out, err };
    };
  });
  after(async () => {
    await h?.stop();
  });

  it('drives a full scenario: start, list, show, approve, result', async () => {
    const user = `cli-${randomUUID()}`;
    const started = await run('start', '--demo', 'delete-file', '--user', user, '--json');
    assert.equal(started.code, 0, started.err);
    const { runId, pendingAction } = JSON.parse(started.out) as { runId: string; pendingAction: PendingAction };
    assert.equal(pendingAction.payload.type, 'tool_approval');
    assert.equal(await readSandboxFile(h.sandboxDir, 'old-report.txt', user), 'Q3 numbers\n', 'the allowed write ran');

    const listed = await eventually(async () => {
      const r = await run('runs', '--paused', '--user', user, '--json');
      const runs = JSON.parse(r.out) as RunSummary[];
      return runs.length === 1 ? runs : undefined;
    }, 'the paused demo run in `hitl runs`');
    assert.equal(listed[0]?.runId, runId);
    assert.deepEqual(listed[0]?.pendingTools, ['delete_file']);
    const table = await run('runs', '--paused', '--user', user);
    assert.match(table.out, /^RUN\s+STATUS\s+USER/);
    assert.match(table.out, new RegExp(`${runId}\\s+requires_action\\s+${user}`));

    const shown = await run('show', runId);
    assert.equal(shown.code, 0);
    assert.match(shown.out, /requires_action/);
    assert.match(shown.out, /call_2\s+delete_file\s+— delete_file changes your files and needs approval/);
    assert.match(shown.out, /"path": "old-report.txt"/, 'arguments pretty-printed');

    const waited = await run('wait', runId, '--json');
    assert.equal(waited.code, 0, waited.err);
    assert.deepEqual(JSON.parse(waited.out), { status: 'requires_action', pendingAction });

    const approved = await run('approve', runId, '--as', user);
    assert.equal(approved.code, 0, approved.err);
    const ended = await run('wait', runId, '--after', pendingAction.actionId);
    assert.equal(ended.code, 0, ended.err);
    assert.equal(ended.out, `run ${runId} ended: completed\n`);
    assert.match(approved.out, /^resolved .* as cli-/);
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(result.finalMessage, 'Done: old-report.txt is gone.');
    assert.equal(await readSandboxFile(h.sandboxDir, 'old-report.txt', user), undefined);

    const state = JSON.parse((await run('show', runId, '--json')).out) as RunState;
    assert.equal(state.status, 'completed');
    assert.match((await run('show', runId)).out, /update\s+accepted\s+cli-/);
  });

  it('messages: prints the whole transcript from the content store, a range of it, and refuses bad ranges', async () => {
    const long = 'z'.repeat(5000);
    const { runId } = await h.client.startRun(
      scriptedInput([{ content: 'short answer' }], { messages: [{ role: 'user', content: long }] }),
    );
    await h.client.result(runId);
    const shown = await run('show', runId, '--json');
    const state = JSON.parse(shown.out) as RunState;
    assert.equal(state.messages[0]?.contentChars, 5000, 'the state has a preview');
    const all = await run('messages', runId, '--json');
    assert.equal(all.code, 0, all.err);
    const page = JSON.parse(all.out) as { messages: { content?: string }[]; total: number; nextSeq: number };
    assert.equal(page.total, 2);
    assert.equal(page.messages[0]?.content, long, 'whole, from the store');
    const text = await run('messages', runId, '--from', '1', '--limit', '1');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^#1 assistant\n {4}short answer\n\(1 of 2 messages\)\n$/);
    const bad = await run('messages', runId, '--from', '-1');
    assert.equal(bad.code, 2);
    assert.equal(bad.err, 'hitl: InvalidArguments: --from must be a position: 0, 1, 2, …\n');
  });

  it('prints a refused resolution as one line with its type and exits non-zero', async () => {
    const user = `cli-${randomUUID()}`;
    const started = JSON.parse((await run('start', '--user', user, '--json')).out) as { runId: string };
    const refused = await run('approve', started.runId, '--as', 'mallory');
    assert.equal(refused.code, 2);
    assert.equal(refused.out, '');
    assert.match(refused.err, /^hitl: NotAuthorized: "mallory" is not an approver of this run\n$/);

    const badArgs = await run('edit', started.runId, '--call', 'call_2', '--args', '[1,2]', '--as', user);
    assert.equal(badArgs.code, 2);
    assert.match(badArgs.err, /^hitl: InvalidArguments: --args must be a JSON object\n$/);

    const wrongKind = await run('answer', started.runId, 'yes', '--as', user);
    assert.equal(wrongKind.code, 2);
    assert.match(wrongKind.err, /^hitl: DecisionNotPermitted: /);

    const pending = JSON.parse((await run('wait', started.runId, '--json')).out) as { pendingAction: PendingAction };
    const timedOut = await run('wait', started.runId, '--after', pending.pendingAction.actionId, '--timeout', '1');
    assert.equal(timedOut.code, 2);
    assert.match(timedOut.err, /^hitl: Timeout: run .* did not pause within 1 s \(status requires_action\)\n$/);
    const badTimeout = await run('wait', started.runId, '--timeout', 'soon');
    assert.equal(badTimeout.code, 2);
    assert.match(badTimeout.err, /^hitl: InvalidArguments: --timeout must be a positive number/);

    const unknown = await run('show', `missing-${randomUUID()}`);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /^hitl: RunNotFound: /);

    const usage = await run('approve');
    assert.equal(usage.code, 2);
    assert.match(usage.err, /missing required argument/);

    // Edit with arguments from a file, then the run completes with the edited path.
    const argsFile = join(h.sandboxDir, '..', `args-${randomUUID()}.json`);
    await writeFile(argsFile, JSON.stringify({ path: 'old-report.txt' }));
    const edited = await run('edit', started.runId, '--call', 'call_2', '--args', `@${argsFile}`, '--as', user);
    assert.equal(edited.code, 0, edited.err);
    const result = await h.client.result(started.runId);
    assert.equal(result.status, 'completed');

    const late = await run('approve', started.runId, '--as', user);
    assert.equal(late.code, 2);
    assert.match(late.err, /^hitl: NoPendingAction: /);
  });

  it('answers questions and manages grants', async () => {
    const user = `cli-${randomUUID()}`;
    const { runId } = await h.client.startRun({
      userId: user,
      conversationId: 'c1',
      messages: [{ role: 'user', content: 'hi' }],
      model: {
        provider: 'scripted',
        script: [
          { tool_calls: [{ id: 'q', name: 'ask_user_question', arguments: { question: 'Which color?' } }] },
          { tool_calls: [{ id: 'a', name: 'append_file', arguments: { path: 'cli-grant.txt', content: 'g' } }] },
        ],
      },
      tools: ['ask_user_question', 'append_file'],
    });
    await eventually(() => h.client.getPendingAction(runId), 'the question');
    const shown = await run('show', runId);
    assert.match(shown.out, /Which color\?/);
    const answered = await run('answer', runId, 'deep', 'blue', '--as', user);
    assert.equal(answered.code, 0, answered.err);
    await eventually(async () => {
      const p = await h.client.getPendingAction(runId);
      return p?.payload.type === 'tool_approval' ? p : undefined;
    }, 'the approval after the answer');
    const approved = await run('approve', runId, '--scope', 'always', '--as', user);
    assert.equal(approved.code, 0, approved.err);
    const result = await h.client.result(runId);
    assert.deepEqual(JSON.parse(result.messages.find((m) => m.role === 'tool')?.content ?? ''), {
      answer: 'deep blue',
    });

    const grants = await run('grants', user, '--json');
    assert.deepEqual(
      (JSON.parse(grants.out) as { tool: string; scope: string }[]).map((g) => [g.tool, g.scope]),
      [['append_file', 'always']],
    );
    assert.match((await run('grants', user)).out, /append_file\s+always/);
    const revoked = await run('grants', user, '--revoke', 'append_file', '--scope', 'always');
    assert.equal(revoked.out, 'revoked 1 grant(s)\n');
    assert.equal((await run('grants', user)).out, 'no grants\n');
  });

  it('lists the agents and starts runs of one, with tightening; an unknown agent is one line', async () => {
    const agents = await run('agents', '--json');
    assert.equal(agents.code, 0, agents.err);
    const listed = JSON.parse(agents.out) as { id: string; configVersion: string; tools: string[] }[];
    assert.deepEqual(
      listed.map((a) => a.id),
      ['files-demo', 'files', 'reader'],
    );
    assert.match(listed[0]!.configVersion, /^[0-9a-f]{12}$/);
    assert.match(
      (await run('agents')).out,
      /^files-demo {2}config [0-9a-f]{12} {2}Files demo \(scripted\)\n {4}tools: write_file/,
    );

    // The demo agent allows write_file; `--deny write_file` stops it for this run alone.
    const user = `cli-${randomUUID()}`;
    const started = await run(
      'start',
      '--agent',
      'files-demo',
      '--message',
      'tidy up',
      '--user',
      user,
      '--deny',
      'write_*',
      '--json',
    );
    assert.equal(started.code, 0, started.err);
    const { runId, pendingAction } = JSON.parse(started.out) as { runId: string; pendingAction: PendingAction };
    assert.equal(pendingAction.payload.type, 'tool_approval');
    assert.equal(await readSandboxFile(h.sandboxDir, 'old-report.txt', user), undefined, 'the denied write never ran');
    const state = await h.client.getRunState(runId);
    assert.equal(state.agentId, 'files-demo');
    assert.match(state.configVersion ?? '', /^[0-9a-f]{12}$/);
    assert.equal(state.configVersion, listed[0]!.configVersion, 'the version `hitl agents` shows');
    assert.match(
      (await run('show', runId)).out,
      new RegExp(`^agent files-demo {2}config ${state.configVersion}$`, 'm'),
    );
    await h.client.abort(runId);

    const unknown = await run('start', '--agent', 'nope', '--message', 'x');
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.err,
      /^hitl: AgentNotFound: no agent "nope" in hitl\.config\.yaml \(agents: files-demo, files, reader\)\n$/,
    );
    const noMessage = await run('start', '--agent', 'files');
    assert.equal(noMessage.code, 2);
    assert.match(noMessage.err, /^hitl: InvalidArguments: --message is required with --agent\n$/);
    const badTtl = await run('start', '--demo', 'delete-file', '--ttl', '-1');
    assert.equal(badTtl.code, 2);
    assert.match(badTtl.err, /^hitl: InvalidArguments: --ttl must be a positive number of seconds\n$/);
  });
});
