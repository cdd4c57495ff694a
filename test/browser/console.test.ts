// The approver console in a real browser (Debian's chromium driven by playwright-core; never a download)
// against a real API, a real worker and the shared Temporal dev server.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { DEMOS } from '../../src/cli/demos';
import type { PendingAction, RunInput, ToolMessage } from '../../src/contracts';
import { buildApi, consoleUrl, issueDevToken } from '../../src/server';
import { call, eventually, readSandboxFile, scriptedInput, startHarness, type Harness } from '../workflow/harness';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const RESULTS_DIR = join(__dirname, '..', '..', 'test-results');
const SECRET = randomBytes(32).toString('base64url');
const WEB_UI_URL = 'http://127.0.0.1:8233';
const USER = 'alice';
/** Visibility (the runs list) and the SSE stream are eventually consistent: generous, but bounded. */
const UI_TIMEOUT = 30_000;

describe('approver console (browser, real API, real dev server)', function () {
  this.timeout(120_000);
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  let token: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  before(async function () {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `No Chromium at ${CHROMIUM_PATH}. The browser test drives Debian's chromium and never downloads a browser: ` +
          'install it (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH to a Chromium binary.',
      );
    }
    await mkdir(RESULTS_DIR, { recursive: true });
    h = await startHarness();
    app = buildApi({
      client: h.client,
      auth: { kind: 'secret', secret: SECRET },
      webUiUrl: WEB_UI_URL,
      events: { pollIntervalMs: 200 },
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    token = await issueDevToken(SECRET, USER, 3600);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await h?.stop();
  });

  beforeEach(async () => {
    context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      colorScheme: 'light',
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      const name = (this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60) || 'failure').toLowerCase();
      await page.screenshot({ path: join(RESULTS_DIR, `failed-${name}.png`), fullPage: true }).catch(() => undefined);
    }
    await context?.close();
    assert.deepEqual(pageErrors, [], 'the page threw');
  });

  async function startPaused(input: RunInput): Promise<{ runId: string; pending: PendingAction }> {
    const { runId } = await h.client.startRun(input);
    const pending = await eventually(() => h.client.getPendingAction(runId), `a pending action on ${runId}`);
    return { runId, pending };
  }

  /** Signs in through the URL fragment, then opens the run's page. */
  async function openRun(runId: string, options: { ended?: boolean } = {}): Promise<void> {
    await page.goto(consoleUrl(base, token));
    await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
    await page.goto(`${base}/console#/runs/${encodeURIComponent(runId)}`);
    // A run that has already ended is live only until its stream delivers the end: "Live" may be too brief to see.
    if (options.ended === true) await page.locator('.live', { hasText: /^(Live|Ended)$/ }).waitFor();
    else await expectLive();
  }

  async function expectLive(): Promise<void> {
    await page.locator('.live.on', { hasText: 'Live' }).waitFor();
  }

  function callCard(toolCallId: string): Locator {
    return page.locator(`article.call[data-tool-call-id="${toolCallId}"]`);
  }

  async function expectCompleted(): Promise<void> {
    await page.locator('.page-title .badge', { hasText: 'Completed' }).waitFor();
    await page.locator('.feed-item', { hasText: 'Run completed' }).waitFor();
  }

  it('lists the paused run, shows its action, approves it and follows it to completion over SSE', async () => {
    const demo = DEMOS['delete-file'];
    const { runId, pending } = await startPaused({
      userId: USER,
      conversationId: 'demo-conversation',
      agentId: demo.agentId,
      messages: [{ role: 'user', content: demo.message }],
    });
    // Two more paused runs, so the list looks like a working day.
    const batch = await startPaused(
      scriptedInput(
        [
          {
            content: 'I will archive the logs and rewrite the index.',
            tool_calls: [
              call('call_a', 'write_file', { path: 'reports/index.md', content: '# Reports\n\n- q3.pdf\n' }),
              call('call_b', 'delete_file', { path: 'logs/2025-10.log' }),
            ],
          },
        ],
        {
          userId: USER,
          conversationId: 'quarterly-cleanup',
          agentId: 'files-agent',
          policy: { enabled: true, mode: 'default', reason: '{tool} changes files in your workspace' },
        },
      ),
    );
    await startPaused(
      scriptedInput(
        [
          {
            tool_calls: [
              call('call_q', 'ask_user_question', {
                question: 'Which folder should I clean?',
                options: [
                  { label: 'Downloads', value: 'downloads' },
                  { label: 'Desktop', value: 'desktop' },
                ],
              }),
            ],
          },
        ],
        { userId: USER, conversationId: 'weekly-tidy', tools: ['ask_user_question', 'list_files'] },
      ),
    );
    assert.equal(await readSandboxFile(h.sandboxDir, 'old-report.txt', USER), 'Q3 numbers\n');

    await page.goto(consoleUrl(base, token));
    // The token moved from the fragment to sessionStorage; the address bar no longer shows it.
    await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
    assert.equal(new URL(page.url()).hash, '#/runs');
    assert.equal(await storedToken(page), token);
    await page.locator('#session-sub', { hasText: USER }).waitFor();

    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.waitFor();
    await assertText(row, ['Paused', 'demo-conversation', 'delete_file', USER]);
    assert.match(await row.locator('td').nth(5).innerText(), /^in 2[34] h$/, 'expiry as relative time');
    await page.getByRole('link', { name: 'All', exact: true }).click();
    await page.waitForURL(/#\/runs\?status=all$/);
    await row.waitFor();
    await page.getByRole('link', { name: 'Paused', exact: true }).click();
    await page.locator('tr[data-run-id]').nth(2).waitFor();
    await page.screenshot({ path: join(RESULTS_DIR, 'console-runs.png') });

    await row.getByRole('link', { name: runId }).click();
    await page.getByRole('heading', { name: 'Decision needed' }).waitFor();
    await expectLive();
    const card = callCard('call_2');
    await assertText(card, ['delete_file', 'call_2', 'delete_file changes your files and needs approval']);
    assert.deepEqual(JSON.parse(await card.locator('pre.json').innerText()), { path: 'old-report.txt' });
    await page.locator('.feed-item', { hasText: 'Waiting for a decision' }).waitFor();
    const webUi = page.getByRole('link', { name: /Open in Temporal Web UI/ });
    assert.equal(await webUi.getAttribute('href'), `${WEB_UI_URL}/namespaces/default/workflows/${runId}`);
    const submit = page.getByRole('button', { name: 'Submit decision' });
    assert.equal(await submit.isDisabled(), true, 'nothing decided yet');
    await page.screenshot({ path: join(RESULTS_DIR, 'console-paused.png') });

    await card.getByRole('radio', { name: 'Approve' }).check();
    // delete_* is an explicit ask entry of the demo agent: a remembered approval would never count, so
    // the console does not offer one, and says why.
    const onceOnly = card.locator('[data-grant-offer="once-only"]');
    await onceOnly.waitFor();
    assert.equal(await onceOnly.locator('.field-label').textContent(), 'Approved once');
    assert.equal(
      await onceOnly.locator('.hint').textContent(),
      'It will ask again next time: the agent\'s policy asks for delete_file every time (ask: "delete_*"); a remembered approval never overrides it',
    );
    assert.equal(await card.getByRole('radio', { name: /^Always/ }).count(), 0);
    assert.equal(await card.getByRole('radio', { name: /^This conversation/ }).count(), 0);
    await submit.click();
    await page.locator('.alert-success', { hasText: 'Decision sent' }).waitFor();
    await expectCompleted();
    await page
      .locator('.final', { hasText: 'Done. The list_files result above shows what your folder holds now.' })
      .waitFor();
    await page.locator('.feed-item', { hasText: 'Tool result: delete_file · success' }).waitFor();
    const audit = page.locator('table.audit tbody tr', { hasText: 'accepted' });
    await assertText(audit, [USER, 'update', 'call_2', 'approve · once', pending.actionId.slice(0, 8)]);
    assert.equal(await readSandboxFile(h.sandboxDir, 'old-report.txt', USER), undefined, 'the file was deleted');
    await page.screenshot({ path: join(RESULTS_DIR, 'console-completed.png'), fullPage: true });

    // The two-call run, decided per call (not submitted): what docs/console.png shows.
    await page.getByRole('link', { name: '← All runs' }).click();
    await page.locator(`tr[data-run-id="${batch.runId}"]`).click();
    await page.getByRole('heading', { name: 'Decision needed' }).waitFor();
    await expectLive();
    await callCard('call_a').getByRole('radio', { name: 'Approve' }).check();
    await callCard('call_a')
      .getByRole('radio', { name: /^This conversation/ })
      .check();
    await callCard('call_b').getByRole('radio', { name: 'Reject' }).check();
    await callCard('call_b')
      .getByRole('textbox', { name: /Reason/ })
      .fill('Keep the October logs until the audit is done.');
    await page.getByText('All 2 decided.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Submit 2 decisions' }).isEnabled(), true);
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({
      path: join(RESULTS_DIR, 'console-decisions.png'),
      fullPage: true,
      clip: { x: 0, y: 0, width: 1440, height: 1330 },
    });
  });

  it('a long run shows its latest messages, and the whole transcript from the content store on request', async () => {
    const long = `start ${'w'.repeat(5000)} end`;
    const turns = 12;
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          ...Array.from({ length: turns }, (_, n) => ({
            tool_calls: [call(`call_${n}`, 'append_file', { path: 'long-run.txt', content: `${n}\n` })],
          })),
          { content: 'All appended.' },
        ],
        {
          userId: USER,
          conversationId: `conv-${randomUUID()}`,
          messages: [{ role: 'user', content: long }],
          maxTurns: turns + 1,
          policy: { enabled: true, allow: ['append_file'] },
        },
      ),
    );
    await h.client.result(runId);
    const total = 1 + 2 * turns + 1;
    await openRun(runId, { ended: true });
    const transcript = page.locator('section[aria-labelledby="transcript-title"]');
    await transcript.getByText(`latest 20 of ${total} messages, long ones shortened`).waitFor();
    assert.equal(await transcript.locator('ol.transcript > li').count(), 20);
    await transcript.getByRole('button', { name: `Show all ${total} messages in full` }).click();
    await transcript.locator('.count', { hasText: `${total} messages` }).waitFor();
    await transcript
      .locator('ol.transcript > li')
      .nth(total - 1)
      .waitFor();
    assert.equal(await transcript.locator('ol.transcript > li').count(), total);
    const first = await transcript.locator('ol.transcript > li').first().locator('.message-text').textContent();
    assert.equal(first, long, 'the first message whole, read from the store');
  });

  it('edit: invalid JSON shows the parse error and disables submit; then a reject with a reason', async () => {
    const { runId } = await startPaused(
      scriptedInput([{ tool_calls: [call('call_1', 'delete_file', { path: 'keep.txt' })] }, { content: 'Kept it.' }], {
        userId: USER,
        conversationId: `conv-${randomUUID()}`,
      }),
    );
    await openRun(runId);
    const card = callCard('call_1');
    const submit = page.getByRole('button', { name: 'Submit decision' });

    await card.getByRole('radio', { name: 'Edit' }).check();
    const editor = card.getByRole('textbox', { name: /Edited arguments/ });
    assert.deepEqual(
      JSON.parse(await editor.inputValue()),
      { path: 'keep.txt' },
      'the editor starts from the arguments',
    );
    await card.getByText('Valid JSON object').waitFor();
    assert.equal(await submit.isEnabled(), true);

    await editor.fill('{ "path": "keep.txt", }');
    await card.locator('.validation.error', { hasText: /^Invalid JSON: / }).waitFor();
    assert.equal(await editor.getAttribute('aria-invalid'), 'true');
    assert.equal(await submit.isDisabled(), true, 'invalid JSON cannot be submitted');
    await page.getByText('Fix the JSON of call_1 first.').waitFor();
    await page.screenshot({ path: join(RESULTS_DIR, 'console-edit-invalid.png') });

    await editor.fill('["not", "an", "object"]');
    await card.getByText('Invalid JSON: The arguments must be a JSON object').waitFor();
    assert.equal(await submit.isDisabled(), true);
    await editor.fill('{ "path": "archive/keep.txt" }');
    await card.getByText('Valid JSON object').waitFor();
    assert.equal(await submit.isEnabled(), true);

    await card.getByRole('radio', { name: 'Reject' }).check();
    await card.getByRole('textbox', { name: /Reason/ }).fill('Keep it, it is still needed');
    await submit.click();
    await expectCompleted();
    await page.locator('.feed-item', { hasText: 'Tool result: delete_file · error' }).waitFor();
    await page.locator('.tool-result', { hasText: 'Blocked: Keep it, it is still needed' }).waitFor();

    const result = await h.client.result(runId);
    const tool = result.messages.find((m): m is ToolMessage => m.role === 'tool');
    assert.equal(tool?.content, 'Blocked: Keep it, it is still needed');
  });

  it('a refusal is shown inline with its type (AlreadyResolved when someone else decided first)', async () => {
    const { runId, pending } = await startPaused(
      scriptedInput(
        [
          { tool_calls: [call('call_1', 'list_files', {})] },
          { tool_calls: [call('call_2', 'delete_file', { path: 'old.txt' })] },
          { content: 'Done.' },
        ],
        { userId: USER, conversationId: `conv-${randomUUID()}` },
      ),
    );
    await page.goto(consoleUrl(base, token));
    await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
    // No live updates for this page: it must not learn about the other decision before it submits its own.
    await page.route('**/events?*', (route) => route.abort());
    await page.goto(`${base}/console#/runs/${encodeURIComponent(runId)}`);
    await page.getByRole('heading', { name: 'Decision needed' }).waitFor();

    const outcome = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: USER,
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });
    assert.ok(outcome.ok);
    await callCard('call_1').getByRole('radio', { name: 'Approve' }).check();
    await page.getByRole('button', { name: 'Submit decision' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'AlreadyResolved' });
    await alert.waitFor();
    assert.match(await alert.innerText(), /^AlreadyResolved — someone else decided first\n.*already resolved/);
    await page.screenshot({ path: join(RESULTS_DIR, 'console-refusal.png') });
    // The page reloads the run after a 409 and shows the run's next pause; the refusal stays readable.
    await callCard('call_2').waitFor();
    assert.equal(await alert.isVisible(), true);
    assert.equal(await callCard('call_1').count(), 0);
  });

  it('approve with scope "Always", see the grant under Remembered approvals, revoke it', async () => {
    const { runId } = await startPaused(
      scriptedInput(
        [
          { tool_calls: [call('call_1', 'append_file', { path: 'notes/today.md', content: '- ship it\n' })] },
          { content: 'Noted.' },
        ],
        { userId: USER, conversationId: `conv-${randomUUID()}` },
      ),
    );
    await openRun(runId);
    const card = callCard('call_1');
    await card.getByRole('radio', { name: 'Approve' }).check();
    await card.getByRole('radio', { name: /^Always/ }).check();
    await page.getByRole('button', { name: 'Submit decision' }).click();
    await expectCompleted();
    await page.locator('table.audit', { hasText: 'Remembered append_file (always)' }).waitFor();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Remembered approvals' }).click();
    await page.getByRole('heading', { name: 'Remembered approvals' }).waitFor();
    const row = page.locator('tr[data-tool="append_file"]');
    await assertText(row, ['append_file', 'Always', 'every conversation', USER, runId]);
    await page.screenshot({ path: join(RESULTS_DIR, 'console-grants.png') });
    await row.getByRole('button', { name: 'Revoke append_file (always)' }).click();
    await page.locator('.alert-success', { hasText: 'Revoked append_file (always)' }).waitFor();
    await page.getByText('No remembered approvals').waitFor();
    assert.deepEqual(await h.client.listGrants(USER), []);
  });

  it('answers a batch of questions: radio buttons, checkboxes for multiSelect, free text', async () => {
    const { runId } = await startPaused(
      scriptedInput(
        [
          {
            tool_calls: [
              call('call_q', 'ask_user_question', {
                questions: [
                  {
                    id: 'q1',
                    header: 'Backups',
                    question: 'Keep backups?',
                    options: [
                      { label: 'Yes', value: 'yes' },
                      { label: 'No', value: 'no' },
                    ],
                  },
                  {
                    id: 'q2',
                    question: 'Which file types?',
                    multiSelect: true,
                    options: [
                      { label: 'PDF', value: 'pdf' },
                      { label: 'Images', value: 'images' },
                      { label: 'Logs', value: 'logs' },
                    ],
                  },
                  { id: 'q3', question: 'Anything else?' },
                ],
              }),
            ],
          },
          { content: 'Thanks.' },
        ],
        { userId: USER, conversationId: `conv-${randomUUID()}`, tools: ['ask_user_question'] },
      ),
    );
    await openRun(runId);
    await page.getByRole('heading', { name: 'The agent asks you 3 questions' }).waitFor();
    const send = page.getByRole('button', { name: 'Send answers' });
    assert.equal(await send.isDisabled(), true);
    const q1 = page.locator('fieldset[data-question-id="q1"]');
    const q2 = page.locator('fieldset[data-question-id="q2"]');
    await q1.getByRole('radio', { name: 'No' }).check();
    // Single choice: an own answer replaces the chosen option, and choosing an option clears the own answer.
    await q1.getByRole('textbox', { name: 'Own answer to: Keep backups?' }).fill('Only last month');
    assert.equal(await q1.getByRole('radio', { name: 'No' }).isChecked(), false);
    await q1.getByRole('radio', { name: 'Yes' }).check();
    assert.equal(await q1.getByRole('textbox').inputValue(), '');
    await q2.getByRole('checkbox', { name: 'PDF' }).check();
    await q2.getByRole('checkbox', { name: 'Logs' }).check();
    assert.equal(await send.isDisabled(), true, 'q3 has no answer yet');
    await page.getByRole('textbox', { name: 'Answer to: Anything else?' }).fill('Keep the 2024 folder');
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(RESULTS_DIR, 'console-question.png') });
    await send.click();
    await expectCompleted();
    const result = await h.client.result(runId);
    const tool = result.messages.find((m): m is ToolMessage => m.role === 'tool');
    assert.deepEqual(JSON.parse(tool?.content ?? 'null'), {
      answers: { q1: 'yes', q2: 'pdf, logs', q3: 'Keep the 2024 folder' },
    });
  });

  it('without a token: a sign-in box; a malformed or refused token is a readable error; sign out', async () => {
    await page.goto(`${base}/console`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.screenshot({ path: join(RESULTS_DIR, 'console-signin.png') });
    const box = page.getByRole('textbox', { name: 'Bearer token' });
    await box.fill('not a token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'InvalidToken' }).waitFor();

    await box.fill(await issueDevToken(randomBytes(32).toString('base64url'), USER, 60));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const refused = page.getByRole('alert').filter({ hasText: 'Unauthorized' });
    await refused.waitFor();
    assert.match(
      await refused.innerText(),
      /^Unauthorized — .*\nThe API refused the token: The token signature is invalid$/,
    );
    assert.equal(await storedToken(page), null);

    await page.getByRole('textbox', { name: 'Bearer token' }).fill(`Bearer ${token}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await storedToken(page), null);
  });
});

/** The token the page keeps (evaluated in the page: this project's TypeScript has no DOM types). */
function storedToken(page: Page): Promise<string | null> {
  return page.evaluate<string | null>("sessionStorage.getItem('hitl-console.token')");
}

async function assertText(locator: Locator, parts: string[]): Promise<void> {
  await locator.first().waitFor();
  const text = await locator.first().innerText();
  for (const part of parts) assert.ok(text.includes(part), `"${part}" in:\n${text}`);
}
