// `hitl elicit`, `hitl show` / `wait` and the other resolving commands on a run paused by an MCP elicitation,
// against the shared dev server. The paused runs come from `pauseWithElicitation` (test/support/elicitation.ts:
// real runs whose MCP tool call elicits).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { main, type CliDeps } from '../../src/cli/hitl';
import type { RunState } from '../../src/contracts';
import {
  CONTACT_FORM,
  elicitationOutcome,
  pauseWithElicitation,
  startElicitationHarness,
  type ElicitationHarness,
} from '../support/elicitation';

interface Ran {
  code: number;
  out: string;
  err: string;
  asked: string[];
}

describe('hitl elicit (real dev server; runs paused by pauseWithElicitation)', function () {
  this.timeout(120_000);
  let h: ElicitationHarness;

  /** Runs the command; with `terminal`, a terminal that answers the confirmation question so. */
  async function run(argv: string[], terminal?: boolean): Promise<Ran> {
    let out = '';
    let err = '';
    const asked: string[] = [];
    const deps: CliDeps = {
      connect: () => Promise.resolve(h.client),
      io: { out: (t) => (out += t), err: (t) => (err += t) },
      ...(terminal !== undefined
        ? {
            confirm: (question: string) => {
              asked.push(question);
              return Promise.resolve(terminal);
            },
          }
        : {}),
    };
    const code = await main(argv, deps);
    return { code, out, err, asked };
  }

  /** The printed hint line for `flag` (`npx hitl elicit run-… --action … --as … --decline`) as argv. */
  function hint(out: string, flag: string): string[] {
    const line = out.split('\n').find((l) => l.trim().startsWith('npx hitl elicit ') && l.includes(` ${flag}`));
    assert.ok(line, `an elicit ${flag} hint in:\n${out}`);
    // The hints quote only the --accept JSON; the others split on spaces.
    return line.trim().slice('npx hitl '.length).split(/\s+/);
  }

  before(async () => {
    h = await startElicitationHarness();
  });
  after(async () => {
    await h?.stop();
  });

  it('show prints the form; a bad --accept is refused by the run (InvalidElicitationContent) and it stays paused; then accepted', async () => {
    const user = `cli-${randomUUID()}`;
    const { runId, pending } = await pauseWithElicitation(h, {
      userId: user,
      message: 'Which contact should I add?',
      requestedSchema: CONTACT_FORM,
    });
    const shown = await run(['show', runId]);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, /^run \S+: requires_action/);
    assert.match(
      shown.out,
      /^ {2}call_1 {2}create_contact_mcp_crm {2}— MCP server "crm" asks:\n {6}Which contact should I add\?$/m,
    );
    assert.match(shown.out, /^ {8}email {7}text \(email address\), required {2}— Email$/m);
    assert.match(shown.out, /^ {8}seats {7}integer from 1 to 50, default 5 {2}— Seats$/m);
    assert.match(
      shown.out,
      /^ {8}region {6}one of "eu" \(Europe\), "us" \(United States\), default "eu" {2}— Region$/m,
    );
    assert.match(
      shown.out,
      /^ {8}topics {6}a list of any of "billing", "product", "security", 1 to 2 choices {2}— Topics$/m,
    );
    assert.match(
      shown.out,
      new RegExp(`^ {2}npx hitl elicit ${runId} --action ${pending.actionId} --as ${user} --accept '\\{`, 'm'),
    );
    const waited = await run(['wait', runId, '--json']);
    assert.deepEqual(JSON.parse(waited.out), { status: 'requires_action', pendingAction: pending });

    const bad = await run([
      'elicit',
      runId,
      '--as',
      user,
      '--accept',
      '{"name":"A","email":"ada","plan":"gold","age":3}',
    ]);
    assert.equal(bad.code, 2);
    assert.equal(bad.out, '');
    assert.equal(
      bad.err,
      'hitl: InvalidElicitationContent: The content does not match the requested form: "age" is not a field of this form; ' +
        '"name" must have at least 2 characters; "email" must be an email address; "plan" must be one of free, pro, team\n',
    );
    const state = JSON.parse((await run(['show', runId, '--json'])).out) as RunState;
    assert.equal(state.status, 'requires_action');
    assert.equal(state.pendingAction?.actionId, pending.actionId, 'the action stays pending');
    assert.deepEqual(
      state.decisions.map((d) => [d.outcome, d.refusal?.type]),
      [['refused', 'InvalidElicitationContent']],
    );

    const content = { name: 'Ada Lovelace', email: 'ada@example.com', plan: 'pro', seats: 3, topics: ['billing'] };
    const ok = await run(['elicit', runId, '--as', user, '--accept', JSON.stringify(content)]);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(ok.out, `resolved ${pending.actionId} as ${user}; the run continues\n`);
    assert.deepEqual(await elicitationOutcome(h, runId), {
      elicitation: { action: 'accept', content },
      decidedBy: user,
    });
    const late = await run(['elicit', runId, '--as', user, '--decline']);
    assert.equal(late.code, 2);
    assert.match(late.err, /^hitl: NoPendingAction: /);
  });

  it('the printed --decline hint runs as printed; --cancel; a stale --action is refused before sending', async () => {
    const user = `cli-${randomUUID()}`;
    const declined = await pauseWithElicitation(h, { userId: user, requestedSchema: CONTACT_FORM });
    const shown = await run(['show', declined.runId]);
    const stale = await run(['elicit', declined.runId, '--action', 'act-from-yesterday', '--as', user, '--decline']);
    assert.equal(stale.code, 2);
    assert.match(
      stale.err,
      new RegExp(`^hitl: StaleAction: action act-from-yesterday is not the pending action of run ${declined.runId}`),
    );
    const ran = await run(hint(shown.out, '--decline'));
    assert.equal(ran.code, 0, ran.err);
    assert.deepEqual(await elicitationOutcome(h, declined.runId), {
      elicitation: { action: 'decline' },
      decidedBy: user,
    });

    const cancelled = await pauseWithElicitation(h, { userId: user, requestedSchema: CONTACT_FORM });
    const cancel = await run(['elicit', cancelled.runId, '--as', user, '--cancel']);
    assert.equal(cancel.code, 0, cancel.err);
    assert.deepEqual(await elicitationOutcome(h, cancelled.runId), {
      elicitation: { action: 'cancel' },
      decidedBy: user,
    });
  });

  it('on a terminal, shows the request and asks first; --action or --yes skip the question', async () => {
    const user = `cli-${randomUUID()}`;
    const { runId, pending } = await pauseWithElicitation(h, {
      userId: user,
      server: 'billing',
      requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
    });
    const no = await run(['elicit', runId, '--as', user, '--accept', '{"ok":true}'], false);
    assert.equal(no.code, 2);
    assert.deepEqual(no.asked, ['accept the request of MCP server "billing" with {"ok":true}? [y/N] ']);
    assert.match(no.err, /^run \S+ waits for:\naction \S+ {2}\(expires /);
    assert.match(no.err, /MCP server "billing" asks:/);
    assert.match(
      no.err,
      /hitl: Cancelled: nothing was sent \(name the action to skip this question: --action \S+\)\n$/,
    );
    assert.deepEqual((await h.client.getRunState(runId)).decisions, [], 'nothing was sent');
    const named = await run(['elicit', runId, '--action', pending.actionId, '--as', user, '--decline'], false);
    assert.deepEqual(named.asked, []);
    assert.equal(named.code, 0, named.err);

    const second = await pauseWithElicitation(h, { userId: user, server: 'billing' });
    const yes = await run(['elicit', second.runId, '--as', user, '--cancel'], true);
    assert.deepEqual(yes.asked, ['cancel the request of MCP server "billing"? [y/N] ']);
    assert.equal(yes.code, 0, yes.err);
    const third = await pauseWithElicitation(h, { userId: user });
    const skip = await run(['elicit', third.runId, '--as', user, '--yes', '--decline'], false);
    assert.deepEqual(skip.asked, []);
    assert.equal(skip.code, 0, skip.err);
  });

  it('URL mode: show prints the link as text; --done accepts without content; --accept with values is refused', async () => {
    const user = `cli-${randomUUID()}`;
    const { runId, pending } = await pauseWithElicitation(h, {
      userId: user,
      server: 'github',
      tool: 'connect_mcp_github',
      message: 'Sign in to GitHub to continue',
      mode: 'url',
      url: 'https://github.example/login/device?code=ABCD',
    });
    const shown = await run(['show', runId]);
    assert.match(
      shown.out,
      /^ {6}open this link yourself \(hitl never opens it\): https:\/\/github\.example\/login\/device\?code=ABCD$/m,
    );
    assert.match(
      shown.out,
      new RegExp(`^ {2}npx hitl elicit ${runId} --action ${pending.actionId} --as ${user} --done$`, 'm'),
    );
    const values = await run(['elicit', runId, '--as', user, '--accept', '{"code":"ABCD"}']);
    assert.equal(values.code, 2);
    assert.equal(
      values.err,
      'hitl: InvalidArguments: this elicitation asks you to open a link, not to fill in a form: answer --done, --decline or --cancel\n',
    );
    const done = await run(['elicit', runId, '--as', user, '--done'], false);
    assert.deepEqual(done.asked, ['accept (done) the request of MCP server "github"? [y/N] ']);
    assert.equal(done.code, 2, 'the terminal said no');
    const sent = await run(['elicit', runId, '--as', user, '--done']);
    assert.equal(sent.code, 0, sent.err);
    assert.deepEqual(await elicitationOutcome(h, runId), { elicitation: { action: 'accept' }, decidedBy: user });
  });

  it('approve / answer on an elicitation point at hitl elicit; --done on a form; a stranger is NotAuthorized', async () => {
    const user = `cli-${randomUUID()}`;
    const { runId } = await pauseWithElicitation(h, { userId: user, requestedSchema: CONTACT_FORM });
    const pointer = 'this action is an MCP elicitation (a server asks for input): use "hitl elicit"';
    for (const argv of [
      ['approve', runId, '--as', user],
      ['reject', runId, '--as', user],
      ['answer', runId, 'yes', '--as', user],
    ]) {
      const ran = await run(argv);
      assert.equal(ran.code, 2, argv[0]);
      assert.equal(ran.err, `hitl: DecisionNotPermitted: ${pointer}\n`, argv[0]);
    }
    const done = await run(['elicit', runId, '--as', user, '--done']);
    assert.equal(done.code, 2);
    assert.equal(
      done.err,
      `hitl: InvalidArguments: this elicitation asks for a form: answer --accept '<json>' (its fields: hitl show ${runId}), --decline or --cancel\n`,
    );
    const stranger = await run(['elicit', runId, '--as', 'mallory', '--decline']);
    assert.equal(stranger.code, 2);
    assert.equal(stranger.err, 'hitl: NotAuthorized: "mallory" is not an approver of this run\n');
    const state = await h.client.getRunState(runId);
    assert.equal(state.status, 'requires_action');
    assert.deepEqual(
      state.decisions.map((d) => [d.approver, d.refusal?.type]),
      [['mallory', 'NotAuthorized']],
      'only the stranger reached the run',
    );
    await h.client.abort(runId);
  });

  it('HitlClient.elicit: refusals as data, an idempotency key returns the first answer', async () => {
    const user = `cli-${randomUUID()}`;
    const { runId, pending } = await pauseWithElicitation(h, { userId: user, requestedSchema: CONTACT_FORM });
    const refused = await h.client.elicit(runId, {
      actionId: pending.actionId,
      approver: user,
      action: 'accept',
      content: { name: 'Ada', email: 'ada@example.com' },
    });
    assert.ok(!refused.ok);
    assert.equal(refused.refusal.type, 'InvalidElicitationContent');
    assert.deepEqual(refused.refusal.details, { problems: [{ field: 'plan', message: '"plan" is required' }] });
    const decline = { actionId: pending.actionId, approver: user, action: 'decline' as const };
    const first = await h.client.elicit(runId, decline, { idempotencyKey: `k-${runId}` });
    assert.ok(first.ok);
    const again = await h.client.elicit(runId, decline, { idempotencyKey: `k-${runId}` });
    assert.deepEqual(again, first, 'the retry gets the first answer');
    const other = await h.client.elicit(runId, decline);
    assert.ok(!other.ok);
    assert.equal(other.refusal.type === 'AlreadyResolved' || other.refusal.type === 'NoPendingAction', true);
    const shape = await h.client.elicit(runId, { ...decline, content: { nested: { a: 1 } } as never });
    assert.ok(!shape.ok);
    assert.equal(shape.refusal.type, 'InvalidResolution', 'refused by the client before sending');
  });
});
