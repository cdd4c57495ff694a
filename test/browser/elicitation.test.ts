// The approver console on a run paused by an MCP elicitation, in a real browser (Debian's chromium driven by
// playwright-core) against a real API and the shared dev server. The paused runs come from
// `pauseWithElicitation` (test/support/elicitation.ts: real runs whose MCP tool call elicits).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { buildApi, consoleUrl, issueDevToken } from '../../src/server';
import {
  CONTACT_FORM,
  elicitationOutcome,
  pauseWithElicitation,
  startElicitationHarness,
  type ElicitationHarness,
} from '../support/elicitation';

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
const RESULTS_DIR = join(__dirname, '..', '..', 'test-results');
const SECRET = randomBytes(32).toString('base64url');
const USER = 'alice';
const UI_TIMEOUT = 30_000;

describe('approver console: MCP elicitation (browser, real API, real dev server)', function () {
  this.timeout(120_000);
  let h: ElicitationHarness;
  let app: FastifyInstance;
  let base: string;
  let token: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];
  let dialogs: string[];

  before(async function () {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `No Chromium at ${CHROMIUM_PATH}. The browser test drives Debian's chromium and never downloads a browser: ` +
          'install it (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH to a Chromium binary.',
      );
    }
    await mkdir(RESULTS_DIR, { recursive: true });
    h = await startElicitationHarness();
    app = buildApi({ client: h.client, auth: { kind: 'secret', secret: SECRET }, events: { pollIntervalMs: 200 } });
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
    dialogs = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // A server's markup that ran would show up here (alert), as would any dialog at all.
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      const name = (this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60) || 'failure').toLowerCase();
      await page
        .screenshot({ path: join(RESULTS_DIR, `failed-elicitation-${name}.png`), fullPage: true })
        .catch(() => undefined);
    }
    await context?.close();
    assert.deepEqual(pageErrors, [], 'the page threw');
    assert.deepEqual(dialogs, [], 'no dialog (no server markup ran)');
  });

  async function openRun(runId: string): Promise<void> {
    await page.goto(consoleUrl(base, token));
    await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
    await page.goto(`${base}/console#/runs/${encodeURIComponent(runId)}`);
    await page.getByRole('heading', { name: 'An MCP server asks for input' }).waitFor();
    await page.locator('.live.on', { hasText: 'Live' }).waitFor();
  }

  function field(name: string): Locator {
    return page.locator(`.elicitation-field[data-field="${name}"]`);
  }

  async function expectCompleted(): Promise<void> {
    await page.locator('.alert-success', { hasText: 'Decision sent' }).waitFor();
    await page.locator('.page-title .badge', { hasText: 'Completed' }).waitFor();
  }

  it('renders the form from the schema, shows a refusal next to it with the field marked, then accepts', async () => {
    const hostile = 'Add <img src=x onerror="alert(1)"> to the CRM?\nSecond line.';
    const { runId, pending } = await pauseWithElicitation(h, {
      userId: USER,
      message: hostile,
      requestedSchema: {
        ...CONTACT_FORM,
        properties: {
          ...CONTACT_FORM.properties,
          note: { type: 'string', title: '<b>Note</b>', description: '<script>alert(2)</script>' },
        },
      },
    });
    await openRun(runId);
    const card = page.locator('section[data-action-type="mcp_elicitation"]');
    await assertText(card.locator('.card-header'), [
      'MCP server crm',
      'during create_contact_mcp_crm',
      pending.actionId.slice(0, 8),
    ]);
    // The server's strings are text: the message shows its markup as characters, and no element came of it.
    assert.equal(await card.locator('.elicitation-message').innerText(), hostile);
    assert.equal(await card.locator('img, script, b').count(), 0);
    assert.equal(await field('note').locator('label').first().innerText(), '<b>Note</b>note');
    assert.equal(await field('note').locator('label code.field-name').innerText(), 'note', 'the field name too');
    await assertText(field('note'), ['<script>alert(2)</script>']);
    await page.locator('.feed-item', { hasText: 'MCP server crm asks: Add <img' }).waitFor();

    // One control per field, of its kind, with the server's bounds, defaults and required marks.
    const control = (name: string) => field(name).locator('input, select').first();
    assert.equal(await control('name').getAttribute('type'), 'text');
    assert.equal(await control('name').getAttribute('aria-required'), 'true');
    assert.equal(await field('name').locator('.required').count(), 1);
    await assertText(field('name'), ['Full name', 'As it should appear on the invoice', 'At least 2 characters']);
    assert.equal(await control('email').getAttribute('type'), 'email');
    await assertText(field('email'), ['An email address, e.g. name@example.com']);
    assert.equal(await control('birthday').getAttribute('type'), 'date');
    assert.equal(await field('birthday').locator('.required').count(), 0);
    assert.equal(await control('seats').getAttribute('type'), 'number');
    assert.deepEqual(await Promise.all(['min', 'max', 'step'].map((a) => control('seats').getAttribute(a))), [
      '1',
      '50',
      '1',
    ]);
    assert.equal(await control('seats').inputValue(), '5', 'default pre-filled');
    await assertText(field('seats'), ['A whole number from 1 to 50']);
    assert.equal(await control('budget').getAttribute('step'), 'any');
    assert.equal(await field('newsletter').getByRole('checkbox').isChecked(), true, 'default pre-filled');
    assert.deepEqual(await field('plan').locator('option').allInnerTexts(), [
      '— Choose —',
      'Free (free)',
      'Pro (pro)',
      'Team (team)',
    ]);
    assert.equal(await control('region').inputValue(), 'eu', 'default pre-selected');
    assert.deepEqual(await field('region').locator('option').allInnerTexts(), [
      '— None —',
      'Europe (eu)',
      'United States (us)',
    ]);
    assert.equal(await field('topics').getByRole('checkbox').count(), 3);
    await assertText(field('topics'), ['Choose 1 to 2']);

    await control('name').fill('Ada Lovelace');
    await control('email').fill('ada@');
    await control('plan').selectOption('pro');
    await field('topics').getByRole('checkbox', { name: 'billing' }).check();
    await page.getByRole('button', { name: 'Accept' }).click();
    const refusal = card.locator('.elicitation-refusal [role="alert"]');
    await refusal.waitFor();
    assert.match(
      await refusal.innerText(),
      /^InvalidElicitationContent — the answer does not fit the form the MCP server asked for\nThe content does not match the requested form: "email" must be an email address$/,
    );
    assert.equal(await field('email').locator('.field-error').innerText(), '"email" must be an email address');
    assert.equal(await control('email').getAttribute('aria-invalid'), 'true');
    assert.equal(await control('name').getAttribute('aria-invalid'), null);
    const still = await h.client.getPendingAction(runId);
    assert.equal(still?.actionId, pending.actionId, 'the action stays pending');
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(RESULTS_DIR, 'console-elicitation-refused.png'), fullPage: true });

    await control('email').fill('ada@example.com');
    await page.getByRole('button', { name: 'Accept' }).click();
    await expectCompleted();
    assert.equal(await refusal.count(), 0, 'the refusal is gone once accepted');
    assert.deepEqual(await elicitationOutcome(h, runId), {
      elicitation: {
        action: 'accept',
        content: {
          name: 'Ada Lovelace',
          email: 'ada@example.com',
          seats: 5,
          newsletter: true,
          plan: 'pro',
          region: 'eu',
          topics: ['billing'],
        },
      },
      decidedBy: USER,
    });
  });

  it('Decline and Cancel send no content', async () => {
    for (const [label, action] of [
      ['Decline', 'decline'],
      ['Cancel', 'cancel'],
    ] as const) {
      const { runId } = await pauseWithElicitation(h, { userId: USER, requestedSchema: CONTACT_FORM });
      await openRun(runId);
      await page.getByRole('button', { name: label, exact: true }).click();
      await expectCompleted();
      assert.deepEqual(await elicitationOutcome(h, runId), { elicitation: { action }, decidedBy: USER }, label);
    }
  });

  it('URL mode: a link that opens only on click, without opener or referrer; Done accepts', async () => {
    const { runId } = await pauseWithElicitation(h, {
      userId: USER,
      server: 'github',
      tool: 'connect_mcp_github',
      message: 'Sign in to GitHub to continue',
      mode: 'url',
      url: 'https://github.example/login/device?code=ABCD',
    });
    await openRun(runId);
    const link = page.getByRole('link', { name: /^Open github\.example/ });
    assert.equal(await link.getAttribute('href'), 'https://github.example/login/device?code=ABCD');
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    await assertText(page.locator('.elicitation-url'), ['https://github.example/login/device?code=ABCD']);
    assert.equal(context.pages().length, 1, 'nothing was opened by itself');
    assert.deepEqual(await page.locator('.footer-actions button').allInnerTexts(), ['Cancel', 'Decline', 'Done']);
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(RESULTS_DIR, 'console-elicitation-url.png') });
    await page.getByRole('button', { name: 'Done' }).click();
    await expectCompleted();
    assert.equal(context.pages().length, 1);
    assert.deepEqual(await elicitationOutcome(h, runId), { elicitation: { action: 'accept' }, decidedBy: USER });
  });

  it('someone who may read but not answer sees the form disabled, without buttons', async () => {
    const { runId } = await pauseWithElicitation(h, {
      userId: USER,
      approvers: ['boss'],
      requestedSchema: CONTACT_FORM,
    });
    await openRun(runId);
    await page.getByText('You can read this request, but only boss may answer it.').waitFor();
    assert.equal(await page.locator('.footer-actions button').count(), 0);
    assert.equal(await field('name').locator('input').isDisabled(), true);
    assert.equal(await field('plan').locator('select').isDisabled(), true);
    await h.client.abort(runId);
  });
});

async function assertText(locator: Locator, parts: string[]): Promise<void> {
  await locator.first().waitFor();
  const text = await locator.first().innerText();
  for (const part of parts) assert.ok(text.includes(part), `"${part}" in:\n${text}`);
}
