import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invocationOf, main, type CliDeps } from '../../src/cli/hitl';
import type { PendingAction, RunState } from '../../src/contracts';
import { connectHitlClient, type RunSummary } from '../../src/client';
import { parseConfig, staticConfigSource } from '../../src/agent-config';
import { createDefaultToolRegistry } from '../../src/activities';
import { clientEnvironment, writeDevEnv } from '../../src/dev/dev-env';
import { createAuthenticator } from '../../src/server/auth';
import { eventually, readSandboxFile, scriptedInput, startHarness, type Harness } from '../workflow/harness';

/** The text of the demo's last scripted turn (hitl.config.yaml): it claims nothing it did not check. */
const DEMO_FINAL = 'Done. The list_files result above shows what your folder holds now.';

/** A TCP port nothing listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The printed hint line for `command` (`npx hitl approve run-… --action … --as …`) as argv. */
function hintArgv(out: string, command: string): string[] {
  const line = out.split('\n').find((l) => l.trim().startsWith(`npx hitl ${command} `));
  assert.ok(line, `a "${command}" hint in:\n${out}`);
  return line.trim().slice('npx hitl '.length).split(/\s+/);
}

interface Ran {
  code: number;
  out: string;
  err: string;
}

describe('hitl command (real dev server)', function () {
  this.timeout(60_000);
  let h: Harness;
  let run: (...argv: string[]) => Promise<Ran>;
  /** Like `run`, with a terminal that answers the confirmation question (and records it). */
  let runWithTerminal: (answer: boolean, ...argv: string[]) => Promise<Ran & { asked: string[] }>;

  before(async () => {
    h = await startHarness();
    const runWith = async (argv: string[], extra: Partial<CliDeps>): Promise<Ran> => {
      let out = '';
      let err = '';
      const deps: CliDeps = {
        connect: () => Promise.resolve(h.client),
        io: { out: (t) => (out += t), err: (t) => (err += t) },
        runDev: () => 0,
        ...extra,
      };
      const code = await main(argv, deps);
      return { code, out, err };
    };
    run = (...argv) => runWith(argv, {});
    runWithTerminal = async (answer, ...argv) => {
      const asked: string[] = [];
      const ran = await runWith(argv, {
        confirm: (question) => {
          asked.push(question);
          return Promise.resolve(answer);
        },
      });
      return { ...ran, asked };
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
    assert.equal(result.finalMessage, DEMO_FINAL);
    assert.equal(await readSandboxFile(h.sandboxDir, 'old-report.txt', user), undefined);

    const state = JSON.parse((await run('show', runId, '--json')).out) as RunState;
    assert.equal(state.status, 'completed');
    const shownDone = (await run('show', runId)).out;
    assert.match(shownDone, /update\s+accepted\s+cli-/);
    // The answer is in the plain view too, not only with --json.
    assert.match(shownDone, new RegExp(`^final answer:\n  ${DEMO_FINAL.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('prints hints that run as printed, naming the action; --action refuses another pending action', async () => {
    const user = `cli-${randomUUID()}`;
    const started = await run('start', '--demo', 'delete-file', '--user', user);
    assert.equal(started.code, 0, started.err);
    const runId = /^started (\S+) /.exec(started.out)?.[1];
    assert.ok(runId, started.out);
    const pending = await h.client.getPendingAction(runId);
    assert.ok(pending);
    assert.match(
      started.out,
      new RegExp(`^  npx hitl approve ${runId} --action ${pending.actionId} --as ${user}$`, 'm'),
    );
    assert.doesNotMatch(started.out, /^\s*hitl approve/m, 'never a bare `hitl`, which is not on PATH');
    // `show` of a paused run prints the same hints.
    assert.deepEqual(hintArgv((await run('show', runId)).out, 'approve'), hintArgv(started.out, 'approve'));

    const stale = await run('approve', runId, '--action', 'act-from-yesterday', '--as', user);
    assert.equal(stale.code, 2);
    assert.equal(
      stale.err,
      `hitl: StaleAction: action act-from-yesterday is not the pending action of run ${runId}; it now waits for ${pending.actionId} (see: hitl show ${runId})\n`,
    );
    assert.deepEqual((await h.client.getRunState(runId)).decisions, [], 'nothing was sent');

    const reject = hintArgv(started.out, 'reject').map((word) => (word === '"<why>"' ? 'keep it' : word));
    const rejected = await run(...reject.slice(0, reject.indexOf('--reason')), '--reason', 'keep it');
    assert.equal(rejected.code, 0, rejected.err);
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    // The file is still there, and the demo's last words do not say otherwise (item 7 of issue 15).
    assert.equal(await readSandboxFile(h.sandboxDir, 'old-report.txt', user), 'Q3 numbers\n');
    assert.equal(result.finalMessage, DEMO_FINAL);
    assert.doesNotMatch(result.finalMessage ?? '', /gone|deleted|removed/i);

    const late = await run('approve', runId, '--action', pending.actionId, '--as', user);
    assert.equal(late.code, 2);
    assert.match(late.err, /^hitl: NoPendingAction: .*\(action \S+ is no longer pending\)\n$/);
  });

  it('on a terminal, shows the action and asks before sending; --action or --yes skip the question', async () => {
    const user = `cli-${randomUUID()}`;
    const { runId } = JSON.parse((await run('start', '--demo', 'delete-file', '--user', user, '--json')).out) as {
      runId: string;
    };
    const declined = await runWithTerminal(false, 'approve', runId, '--as', user);
    assert.equal(declined.code, 2);
    assert.deepEqual(declined.asked, ['approve call_2 (delete_file)? [y/N] ']);
    assert.match(declined.err, /^run \S+ waits for:\naction \S+ {2}\(expires /);
    assert.match(declined.err, /"path": "old-report.txt"/, 'the arguments are shown before the question');
    assert.match(
      declined.err,
      /hitl: Cancelled: nothing was sent \(name the action to skip this question: --action \S+\)\n$/,
    );
    assert.deepEqual((await h.client.getRunState(runId)).decisions, [], 'nothing was sent');

    const pending = await h.client.getPendingAction(runId);
    const named = await runWithTerminal(false, 'approve', runId, '--action', pending!.actionId, '--as', user);
    assert.deepEqual(named.asked, [], 'the action is named: no question');
    assert.equal(named.code, 0, named.err);
    assert.equal((await h.client.result(runId)).status, 'completed');

    const second = JSON.parse((await run('start', '--demo', 'delete-file', '--user', user, '--json')).out) as {
      runId: string;
    };
    const confirmed = await runWithTerminal(true, 'reject', second.runId, '--as', user);
    assert.equal(confirmed.code, 0, confirmed.err);
    assert.deepEqual(confirmed.asked, ['reject call_2 (delete_file)? [y/N] ']);
    assert.equal((await h.client.result(second.runId)).status, 'completed');

    const third = JSON.parse((await run('start', '--demo', 'delete-file', '--user', user, '--json')).out) as {
      runId: string;
    };
    const yes = await runWithTerminal(false, 'reject', third.runId, '--yes', '--as', user);
    assert.equal(yes.code, 0, yes.err);
    assert.deepEqual(yes.asked, [], '--yes: no question');
    assert.equal((await h.client.result(third.runId)).status, 'completed');
  });

  it('a filter value the list query cannot take is one line, not a zod issue dump', async () => {
    const bad = await run('runs', '--user', 'u1" OR 1=1');
    assert.equal(bad.code, 2);
    assert.equal(bad.out, '');
    assert.equal(bad.err, 'hitl: InvalidArguments: --user may not contain quotes, backslashes or line breaks\n');
    const badTool = await run('runs', '--tool', "it's");
    assert.equal(badTool.err, 'hitl: InvalidArguments: --tool may not contain quotes, backslashes or line breaks\n');
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

  it('elicit on a tool approval or a question names the command that answers it; nothing is sent', async () => {
    const user = `cli-${randomUUID()}`;
    const approval = JSON.parse((await run('start', '--user', user, '--json')).out) as { runId: string };
    const onApproval = await run('elicit', approval.runId, '--as', user, '--decline');
    assert.equal(onApproval.code, 2);
    assert.equal(
      onApproval.err,
      'hitl: DecisionNotPermitted: this action is a tool approval: use "hitl approve" (or reject / edit / respond)\n',
    );
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [{ id: 'q', name: 'ask_user_question', arguments: { question: 'Which?' } }] }], {
        userId: user,
        tools: ['ask_user_question'],
      }),
    );
    await eventually(() => h.client.getPendingAction(runId), 'the question');
    const onQuestion = await run('elicit', runId, '--as', user, '--accept', '{}');
    assert.equal(onQuestion.code, 2);
    assert.equal(onQuestion.err, 'hitl: DecisionNotPermitted: this action is a question: use "hitl answer"\n');
    const approveQuestion = await run('approve', runId, '--as', user);
    assert.equal(approveQuestion.err, 'hitl: DecisionNotPermitted: this action is a question: use "hitl answer"\n');
    for (const id of [approval.runId, runId]) {
      assert.deepEqual((await h.client.getRunState(id)).decisions, [], 'nothing was sent');
      await h.client.abort(id);
    }
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
      ['files-demo', 'files', 'mcp-files', 'reader'],
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
      /^hitl: AgentNotFound: no agent "nope" in hitl\.config\.yaml \(agents: files-demo, files, mcp-files, reader\)\n$/,
    );
    const noMessage = await run('start', '--agent', 'files');
    assert.equal(noMessage.code, 2);
    assert.match(noMessage.err, /^hitl: InvalidArguments: --message is required with --agent\n$/);
    const badTtl = await run('start', '--demo', 'delete-file', '--ttl', '-1');
    assert.equal(badTtl.code, 2);
    assert.match(badTtl.err, /^hitl: InvalidArguments: --ttl must be a positive number of seconds\n$/);
  });
});

describe('hitl command: a model endpoint that cannot be reached', function () {
  this.timeout(60_000);
  let h: Harness;
  const port = closedPort();
  const agents = async () =>
    staticConfigSource(
      parseConfig(
        {
          providers: { down: { baseURL: `http://127.0.0.1:${await port}/v1` } },
          agents: [{ id: 'down', model: { provider: 'down', model: 'some-model' }, tools: [], users: ['*'] }],
        },
        {
          knownTools: new Set(
            createDefaultToolRegistry()
              .list()
              .map((tool) => tool.name),
          ),
        },
      ),
    );
  before(async () => {
    h = await startHarness({ agents: await agents() });
  });
  after(async () => {
    await h?.stop();
  });

  it('start says the run waits for its model, with the cause, instead of a bare "running"', async () => {
    let out = '';
    let err = '';
    const source = await agents();
    const code = await main(['start', '--agent', 'down', '--message', 'hi', '--user', 'u-down', '--timeout', '3'], {
      connect: () => Promise.resolve(h.client),
      io: { out: (t) => (out += t), err: (t) => (err += t) },
      agents: () => source,
    });
    assert.equal(code, 0, err);
    assert.match(
      out,
      /^started (\S+) \(agent down\); it did not pause: running — waiting for the model: ModelUnavailable: .*(ECONNREFUSED|connect).* \(attempt \d+ at .*; npx hitl show \S+, or abort it\)\n$/,
    );
    const runId = /^started (\S+) /.exec(out)![1]!;
    const shown = await main(['show', runId], {
      connect: () => Promise.resolve(h.client),
      io: { out: (t) => (out = t), err: (t) => (err += t) },
    });
    assert.equal(shown, 0);
    assert.match(out, /^model unavailable, retrying \(attempt \d+\) at .*: ModelUnavailable: /m);
    await h.client.abort(runId);
  });
});

describe('hitl command: connection and dev tokens', function () {
  this.timeout(60_000);

  async function runCli(argv: string[], extra: Partial<CliDeps> = {}): Promise<Ran & { ms: number }> {
    let out = '';
    let err = '';
    const t0 = Date.now();
    const code = await main(argv, {
      connect: () => Promise.reject(new Error('not connected in this test')),
      io: { out: (t) => (out += t), err: (t) => (err += t) },
      ...extra,
    });
    return { code, out, err, ms: Date.now() - t0 };
  }

  it('fails fast when Temporal cannot be reached, naming the address and where it came from', async () => {
    const port = await closedPort();
    const env = { TEMPORAL_ADDRESS: `127.0.0.1:${port}` };
    const ran = await runCli(['runs'], { connect: () => connectHitlClient({ env }) });
    assert.equal(ran.code, 1);
    assert.equal(
      ran.err,
      `hitl: TemporalUnreachable: cannot reach Temporal at 127.0.0.1:${port} (from TEMPORAL_ADDRESS) — is npm start running?\n`,
    );
    // 2 s to connect (the SDK's own default is 10 s); generous for a busy machine.
    assert.ok(ran.ms < 8_000, `gave up after ${ran.ms} ms`);
  });

  it('finds the running npm start through .temporal/dev.env when no address is set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hitl-devenv-'));
    const file = join(dir, 'dev.env');
    const port = await closedPort();
    writeDevEnv(
      { TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_NAMESPACE: 'ns1', HITL_TOKEN: "a'b" },
      process.pid,
      file,
    );
    const found = clientEnvironment({ PATH: '/bin' }, file);
    assert.equal(found.env.TEMPORAL_ADDRESS, `127.0.0.1:${port}`);
    assert.equal(found.env.TEMPORAL_NAMESPACE, 'ns1');
    assert.match(found.addressSource ?? '', /dev\.env, written by npm start \(pid \d+\)$/);
    // An address in the environment wins; a file whose npm start is gone is ignored.
    assert.deepEqual(clientEnvironment({ TEMPORAL_ADDRESS: 'x:1' }, file), { env: { TEMPORAL_ADDRESS: 'x:1' } });
    writeDevEnv({ TEMPORAL_ADDRESS: 'gone:1' }, 2 ** 22 + 12345, file);
    assert.deepEqual(clientEnvironment({}, file), { env: {} });

    writeDevEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }, process.pid, file);
    const ran = await runCli(['runs'], { connect: () => connectHitlClient(clientEnvironment({}, file)) });
    assert.match(
      ran.err,
      new RegExp(
        `^hitl: TemporalUnreachable: cannot reach Temporal at 127\\.0\\.0\\.1:${port} \\(from .*dev\\.env, written by npm start \\(pid ${process.pid}\\)\\) — is npm start running\\?\n$`,
      ),
    );
  });

  it("hints use the command the user ran: npm run, npx, or hitl when this checkout's bin is on PATH", async () => {
    assert.equal(invocationOf({ npm_lifecycle_event: 'hitl', npm_command: 'run-script' }), 'npm run -s hitl --');
    const dir = await mkdtemp(join(tmpdir(), 'hitl-path-'));
    await symlink(join(__dirname, '..', '..', 'bin', 'hitl'), join(dir, 'hitl'));
    assert.equal(invocationOf({ PATH: dir }), 'hitl', 'after npm link');
    // npx puts the bin on PATH for its own run only: the user's shell does not have it.
    assert.equal(invocationOf({ PATH: dir, npm_command: 'exec', npm_lifecycle_event: 'npx' }), 'npx hitl');
    assert.equal(invocationOf({ PATH: '/usr/bin' }), 'npx hitl');
  });

  it('hitl token: mints tokens for any user with claims from the local dev secret; refuses without one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hitl-token-'));
    const secretFile = join(dir, 'dev-jwt-secret');
    const missing = await runCli(['token', '--user', 'u2'], { devSecretFile: secretFile, env: {} });
    assert.equal(missing.code, 2);
    assert.match(missing.err, /^hitl: NoDevSecret: no dev secret in .*dev-jwt-secret: run npm start once/);

    const secret = randomBytes(32).toString('base64url');
    await writeFile(secretFile, `${secret}\n`);
    const minted = await runCli(
      [
        'token',
        '--user',
        'u2',
        '--ttl',
        '30m',
        '--claim',
        'role=approver',
        '--claim',
        'groups=ops',
        '--claim',
        'groups=sre',
      ],
      { devSecretFile: secretFile, env: {} },
    );
    assert.equal(minted.code, 0, minted.err);
    const token = minted.out.trim();
    // Verified the way the HTTP API of npm start verifies it (the same secret).
    const identity = await createAuthenticator({ kind: 'secret', secret })(token);
    const payload = identity.claims as { sub: string; role: string; groups: string[]; iat: number; exp: number };
    assert.equal(identity.sub, 'u2');
    assert.equal(payload.role, 'approver');
    assert.deepEqual(payload.groups, ['ops', 'sre']);
    assert.ok(Math.abs(payload.exp - payload.iat - 1800) <= 1, 'valid 30 minutes');
    assert.match(minted.err, /^token for "u2" \(role=approver, groups=ops,sre\), valid until /);

    const withIssuer = await runCli(['token', '--user', 'u3', '--json'], {
      devSecretFile: secretFile,
      env: { HITL_JWT_ISSUER: 'dev-issuer' },
    });
    const json = JSON.parse(withIssuer.out) as { token: string; sub: string };
    assert.equal(json.sub, 'u3');
    const checked = await createAuthenticator({ kind: 'secret', secret, issuer: 'dev-issuer' })(json.token);
    assert.equal(checked.claims.iss, 'dev-issuer');

    for (const [argv, message] of [
      [['--ttl', 'forever'], /^hitl: InvalidArguments: --ttl must be like 3600, 30m, 12h or 7d/],
      [['--claim', 'role'], /^hitl: InvalidArguments: --claim must be name=value, got "role"/],
      [['--claim', 'sub=admin'], /^hitl: InvalidArguments: --claim cannot set "sub"/],
    ] as const) {
      const bad = await runCli(['token', '--user', 'u2', ...argv], { devSecretFile: secretFile, env: {} });
      assert.equal(bad.code, 2, argv.join(' '));
      assert.match(bad.err, message);
    }
    const notDev = await runCli(['token', '--user', 'u2'], {
      devSecretFile: secretFile,
      env: { HITL_JWT_SECRET: 'x'.repeat(40) },
    });
    assert.equal(notDev.code, 2);
    assert.match(notDev.err, /^hitl: NotDevMode: HITL_JWT_SECRET is set/);
  });
});
