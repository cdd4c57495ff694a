// @ts-check
// Approver console: one ES module, no bundler, no framework. Every string from the API goes into the
// page as text (textContent / text nodes / attribute values), never as HTML.
/* global document, window, location, history, sessionStorage, fetch, EventSource, MessageEvent, setTimeout, clearTimeout, setInterval, URLSearchParams, atob, crypto, HTMLElement */
import { elicitationContent, elicitationFormModel, initialValues } from './elicitation-form.mjs';

/** @typedef {'running' | 'requires_action' | 'completed' | 'aborted' | 'failed'} RunStatus */
/** @typedef {'approve' | 'reject' | 'edit' | 'respond'} DecisionKind */
/** @typedef {'once' | 'session' | 'always'} Scope */
/**
 * @typedef {{ runId: string, status: RunStatus | null, userId: string | null, conversationId: string | null,
 *   pendingTools: string[], expiresAt: string | null, startTime: string, closeTime: string | null,
 *   executionStatus: string }} RunSummary
 */
/** @typedef {{ tool_call_id: string, name: string, arguments: Record<string, unknown>, description?: string }} ActionRequest */
/** @typedef {{ tool_call_id: string, action_name: string, allowed_decisions: DecisionKind[] }} ReviewConfig */
/** @typedef {{ label: string, value: string, description?: string }} QuestionOption */
/**
 * @typedef {{ id?: string, question: string, header?: string, description?: string, options?: QuestionOption[],
 *   multiSelect?: boolean }} Question
 */
/** @typedef {{ type: 'tool_approval', action_requests: ActionRequest[], review_configs: ReviewConfig[] }} ToolApprovalPayload */
/** @typedef {{ type: 'ask_user_question', tool_call_id: string, question: Question, questions?: Question[] }} QuestionPayload */
/** @typedef {import('./elicitation-form.mjs').ElicitationPayload} ElicitationPayload */
/** @typedef {import('./elicitation-form.mjs').FieldModel} FieldModel */
/**
 * @typedef {{ actionId: string, runId: string, userId: string, conversationId: string, createdAt: string,
 *   expiresAt: string, payload: ToolApprovalPayload | QuestionPayload | ElicitationPayload }} PendingAction
 */
/**
 * Sends a resolution; `onRefused` (optional) takes a refusal the form shows itself (a 409 always goes to the page).
 * @typedef {(body: Record<string, unknown>, button: HTMLButtonElement,
 *   options?: { onRefused?: (error: unknown) => void }) => Promise<void>} SubmitFn
 */
/**
 * A message; `contentChars` is set when `content` is only a preview (the run state shows the latest messages so).
 * @typedef {({ role: 'system' | 'user', content: string }
 *   | { role: 'assistant', content?: string, tool_calls?: { id: string, name: string, arguments: Record<string, unknown> }[] }
 *   | { role: 'tool', tool_call_id: string, name: string, status: 'success' | 'error', content: string })
 *   & { contentChars?: number }} ChatMessage
 */
/**
 * @typedef {{ at: string, via: string, actionId: string | null, approver: string | null, outcome: string,
 *   refusal?: { type: string, message: string }, grant?: { tool: string, scope: string }, message?: string,
 *   decisions?: { tool_call_id: string, decision: DecisionKind, scope?: Scope }[] }} AuditEntry
 */
/**
 * @typedef {{ runId: string, status: RunStatus, turn: number, pendingAction: PendingAction | null,
 *   messages: ChatMessage[], messagesFrom?: number, messagesTotal?: number, decisions: AuditEntry[],
 *   error?: string, userId: string | null,
 *   conversationId: string | null, agentId?: string, configVersion?: string, approvers: string[],
 *   approverClaims: Record<string, string | string[]>[],
 *   caller: { sub: string, owner: boolean, approver: boolean },
 *   grantOffers?: Record<string, { scopes: ('session' | 'always')[], why?: string }> | null }} RunView
 */
/**
 * @typedef {{ tool: string, scope: 'session' | 'always', conversationId?: string, grantedBy: string,
 *   runId: string, grantedAt: string }} Grant
 */
/** @typedef {{ webUiUrl: string | null, namespace: string, apiVersion: string }} ConsoleConfig */
/** @typedef {{ error: string, type: string, details: Record<string, unknown> }} ErrorBody */
/** @typedef {{ el: HTMLElement, dispose(): void }} View */
/** @typedef {Node | string | number | null | undefined | false | ChildList} Child */
/** @typedef {Array<Child>} ChildList */

const TOKEN_KEY = 'hitl-console.token';
const LIST_REFRESH_MS = 5000;

/** @type {{ token: string | null, config: ConsoleConfig, view: View | null }} */
const app = {
  token: null,
  config: { webUiUrl: null, namespace: 'default', apiVersion: '' },
  view: null,
};

// ---------------------------------------------------------------------------------------------------
// DOM helpers: text only, never HTML.

/**
 * Creates an element. Props: `class`, `on<event>` listeners, `value` / `checked` / `disabled`
 * (properties), anything else as an attribute (false / null / undefined leave it out).
 * @param {string} tag
 * @param {Record<string, unknown> | null} [props]
 * @param {...Child} children
 * @returns {HTMLElement}
 */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), /** @type {EventListener} */ (value));
    } else if (key === 'value' || key === 'checked' || key === 'disabled') {
      /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[key] = value;
    } else el.setAttribute(key, value === true ? '' : String(value));
  }
  add(el, children);
  return el;
}

/**
 * @param {HTMLElement} parent
 * @param {Child[]} children
 */
function add(parent, children) {
  for (const child of children.flat(8)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : /** @type {Node | string} */ (child));
  }
}

/**
 * @param {string} selector
 * @returns {HTMLElement}
 */
function $(selector) {
  const el = document.querySelector(selector);
  if (!(el instanceof HTMLElement)) throw new Error(`missing ${selector}`);
  return el;
}

let idCounter = 0;
/** @param {string} prefix */
function uid(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// ---------------------------------------------------------------------------------------------------
// Formatting

/**
 * "in 23 h", "5 min ago", "in 2 d", "just now".
 * @param {string | number | Date} when
 * @param {number} [now]
 */
function relativeTime(when, now = Date.now()) {
  const diff = new Date(when).getTime() - now;
  const abs = Math.abs(diff);
  const future = diff > 0;
  /** @param {string} span */
  const say = (span) => (future ? `in ${span}` : `${span} ago`);
  if (abs < 45_000) return future ? 'in a few seconds' : 'just now';
  if (abs < 3_600_000) return say(`${Math.max(1, Math.floor(abs / 60_000))} min`);
  if (abs < 48 * 3_600_000) return say(`${Math.floor(abs / 3_600_000)} h`);
  return say(`${Math.floor(abs / 86_400_000)} d`);
}

/** @param {string | number | Date} when */
function absoluteTime(when) {
  return new Date(when).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** @param {string | number | Date} when */
function clockTime(when) {
  const date = new Date(when);
  const time = date.toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
  if (date.toDateString() === new Date().toDateString()) return time;
  return `${date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}`;
}

/**
 * A <time> that keeps its relative text current (see the ticker at the bottom).
 * @param {string} iso
 * @param {{ soonMs?: number }} [options]
 */
function timeAgo(iso, options = {}) {
  const el = h('time', { datetime: iso, title: absoluteTime(iso), 'data-relative': '' }, relativeTime(iso));
  if (options.soonMs !== undefined) {
    el.dataset.soon = String(options.soonMs);
    markSoon(el);
  }
  return el;
}

/** @param {HTMLElement} el */
function markSoon(el) {
  const soon = Number(el.dataset.soon);
  if (!soon) return;
  const left = new Date(el.getAttribute('datetime') ?? '').getTime() - Date.now();
  el.classList.toggle('soon', left < soon);
}

/** @param {number} n @param {string} one @param {string} [many] */
function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** @param {string} text @param {number} max */
function clip(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** @type {Record<RunStatus, string>} */
const STATUS_LABEL = {
  requires_action: 'Paused',
  running: 'Running',
  completed: 'Completed',
  aborted: 'Aborted',
  failed: 'Failed',
};

/**
 * @param {RunStatus | null} status
 * @param {boolean} [large]
 */
function statusBadge(status, large = false) {
  const label = status ? STATUS_LABEL[status] : 'Unknown';
  return h(
    'span',
    {
      class: `badge badge-${status ?? 'unknown'}${large ? ' badge-lg' : ''}`,
      title: status === 'requires_action' ? 'requires_action: paused, waiting for a decision' : (status ?? undefined),
    },
    label,
  );
}

/** @param {string} runId */
function webUiLink(runId) {
  const base = app.config.webUiUrl;
  if (!base || !/^https?:\/\//i.test(base)) return null;
  return `${base}/namespaces/${encodeURIComponent(app.config.namespace)}/workflows/${encodeURIComponent(runId)}`;
}

/** @param {string} runId */
function runHref(runId) {
  return `#/runs/${encodeURIComponent(runId)}`;
}

// ---------------------------------------------------------------------------------------------------
// Errors

/** What each error type means for the person in front of the console. */
const ERROR_HINTS = /** @type {Record<string, string>} */ ({
  AlreadyResolved: 'someone else decided first',
  StaleAction: 'this action was replaced by a newer one; the page shows the current one',
  ActionExpired: 'the action expired before the decision arrived',
  NoPendingAction: 'the run is no longer waiting for a decision',
  NotAuthorized: 'you are not allowed to do this for this run',
  DecisionNotPermitted: 'that decision is not allowed for this tool call',
  UndecidedToolCalls: 'every paused tool call needs a decision',
  IncompleteDecision: 'an edit needs a JSON object and a response needs text',
  InvalidResolution: 'the decision was not in the expected shape',
  AnswerRequired: 'every question needs an answer',
  AnswerTooLong: 'an answer is longer than 16 000 characters',
  UnknownQuestionId: 'an answer names a question that was not asked',
  InvalidElicitationContent: 'the answer does not fit the form the MCP server asked for',
  InvalidGrant: 'that grant cannot be revoked as given',
  RunNotFound: 'there is no run with this id',
  RunClosed: 'the run has already finished',
  Unauthorized: 'the token was refused; sign in again',
  TemporalUnavailable: 'Temporal did not answer; try again in a moment',
  NetworkError: 'the API cannot be reached',
  InternalError: 'the server failed; see its log',
});

class ApiFailure extends Error {
  /**
   * @param {number} status
   * @param {ErrorBody} body
   */
  constructor(status, body) {
    super(body.error);
    this.status = status;
    this.type = body.type;
    this.details = body.details;
  }
}

/**
 * @param {unknown} error
 * @returns {ApiFailure}
 */
function asFailure(error) {
  if (error instanceof ApiFailure) return error;
  return new ApiFailure(0, {
    error: error instanceof Error ? error.message : String(error),
    type: 'Error',
    details: {},
  });
}

/**
 * A readable inline error: "<Type> — <what it means>" and the server's message below.
 * @param {unknown} error
 * @param {string} [context]
 */
function errorAlert(error, context) {
  const failure = asFailure(error);
  const hint = ERROR_HINTS[failure.type];
  return h(
    'div',
    { class: 'alert alert-error', role: 'alert' },
    h(
      'div',
      { class: 'alert-body' },
      h('div', { class: 'alert-title' }, h('strong', null, failure.type), hint ? ` — ${hint}` : ''),
      h('div', { class: 'alert-detail' }, context ? `${context}: ${failure.message}` : failure.message),
    ),
  );
}

/**
 * @param {'success' | 'info' | 'warn'} kind
 * @param {string} title
 * @param {string} [detail]
 */
function notice(kind, title, detail) {
  const el = h(
    'div',
    { class: `alert alert-${kind}`, role: 'status' },
    h(
      'div',
      { class: 'alert-body' },
      h('div', { class: 'alert-title' }, h('strong', null, title)),
      detail ? h('div', { class: 'alert-detail' }, detail) : null,
    ),
    h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', onclick: () => el.remove() }, '×'),
  );
  return el;
}

// ---------------------------------------------------------------------------------------------------
// API

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {Record<string, string>} [headers]
 * @param {{ signOutOn401?: boolean }} [options] by default a refused token ends the session
 * @returns {Promise<any>}
 */
async function api(method, path, body, headers = {}, options = {}) {
  /** @type {Record<string, string>} */
  const all = { accept: 'application/json', ...headers };
  if (app.token) all.authorization = `Bearer ${app.token}`;
  if (body !== undefined) all['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: all,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiFailure(0, { error: 'The API did not answer (network error)', type: 'NetworkError', details: {} });
  }
  const text = await response.text();
  /** @type {unknown} */
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const failure = new ApiFailure(
      response.status,
      isErrorBody(data) ? data : { error: `HTTP ${response.status}`, type: `Http${response.status}`, details: {} },
    );
    if (response.status === 401 && app.token && options.signOutOn401 !== false) {
      signOut(`${failure.type} — ${failure.message}`);
    }
    throw failure;
  }
  return data;
}

/**
 * @param {unknown} data
 * @returns {data is ErrorBody}
 */
function isErrorBody(data) {
  return typeof data === 'object' && data !== null && 'error' in data && 'type' in data;
}

/** 128 random bits as hex: a fresh Idempotency-Key per submission. */
function randomKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------------------------------------------
// Token and session

/** `#token=<jwt>` (what `npm start` prints) → sessionStorage; the fragment is removed from the address bar. */
function takeTokenFromFragment() {
  const fragment = location.hash.replace(/^#/, '');
  if (!/(^|&)token=/.test(fragment)) return;
  const token = new URLSearchParams(fragment).get('token');
  if (token) sessionStorage.setItem(TOKEN_KEY, token.trim());
  history.replaceState(null, '', `${location.pathname}${location.search}#/runs`);
}

/**
 * The token's claims, for display only (the API verifies the token; the page never trusts these).
 * @param {string} token
 * @returns {{ sub?: string, exp?: number }}
 */
function claimsOf(token) {
  try {
    const part = token.split('.')[1] ?? '';
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const json = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='));
    const claims = JSON.parse(json);
    return typeof claims === 'object' && claims !== null ? claims : {};
  } catch {
    return {};
  }
}

function renderSession() {
  const session = $('#session');
  const nav = $('#nav');
  if (!app.token) {
    session.hidden = true;
    nav.hidden = true;
    return;
  }
  const claims = claimsOf(app.token);
  const sub = typeof claims.sub === 'string' ? claims.sub : 'unknown';
  $('#session-sub').textContent = sub;
  $('#session-avatar').textContent = sub.slice(0, 1);
  session.title =
    typeof claims.exp === 'number'
      ? `Token expires ${relativeTime(claims.exp * 1000)} (${absoluteTime(claims.exp * 1000)})`
      : '';
  session.hidden = false;
  nav.hidden = false;
}

/** @param {string} [reason] */
function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  app.token = null;
  renderSession();
  show(signInView(reason));
}

// ---------------------------------------------------------------------------------------------------
// Router

function currentRoute() {
  const raw = location.hash.replace(/^#/, '') || '/runs';
  const [path = '/runs', query = ''] = raw.split('?');
  return { path, params: new URLSearchParams(query) };
}

function route() {
  if (!app.token) {
    show(signInView());
    return;
  }
  const { path, params } = currentRoute();
  if (path === '/runs' || path === '/' || path === '') show(runsView(params));
  else if (path.startsWith('/runs/')) show(runView(decodeURIComponent(path.slice('/runs/'.length))));
  else if (path === '/grants') show(grantsView());
  else show(notFoundView(path));
}

/** @param {View} view */
function show(view) {
  app.view?.dispose();
  app.view = view;
  $('#main').replaceChildren(view.el);
  const { path } = currentRoute();
  for (const link of document.querySelectorAll('#nav a')) {
    const section = link.getAttribute('data-nav');
    const active = (section === 'runs' && path.startsWith('/runs')) || (section === 'grants' && path === '/grants');
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const title = view.el.querySelector('h1');
  document.title = `${title?.textContent ?? 'Approver console'} · temporal-hitl`;
}

/** @param {string} path */
function notFoundView(path) {
  const el = h(
    'section',
    null,
    h(
      'div',
      { class: 'page-header' },
      h('div', null, h('h1', null, 'Not found'), h('p', { class: 'lede' }, `Nothing lives at ${path}.`)),
    ),
    h('a', { class: 'btn btn-secondary', href: '#/runs' }, 'Go to runs'),
  );
  return { el, dispose() {} };
}

// ---------------------------------------------------------------------------------------------------
// Sign in

/** @param {string} [reason] */
function signInView(reason) {
  const tokenId = uid('token');
  const textarea = /** @type {HTMLTextAreaElement} */ (
    h('textarea', {
      id: tokenId,
      name: 'token',
      rows: 5,
      required: true,
      spellcheck: 'false',
      autocomplete: 'off',
      placeholder: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…',
      'aria-describedby': `${tokenId}-hint`,
    })
  );
  const errors = h('div', { class: 'form-errors-inline' });
  if (reason) errors.append(notice('warn', 'Signed out', reason));
  const button = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in')
  );

  /** @param {SubmitEvent} event */
  const submit = async (event) => {
    event.preventDefault();
    const token = textarea.value.trim().replace(/^Bearer\s+/i, '');
    errors.replaceChildren();
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) {
      errors.append(
        errorAlert(
          new ApiFailure(0, {
            type: 'InvalidToken',
            error: 'A JWT is three base64url parts separated by dots (header.payload.signature).',
            details: {},
          }),
        ),
      );
      textarea.focus();
      return;
    }
    button.disabled = true;
    button.textContent = 'Checking…';
    app.token = token;
    try {
      await api('GET', '/runs?limit=1', undefined, {}, { signOutOn401: false });
      sessionStorage.setItem(TOKEN_KEY, token);
      renderSession();
      if (location.hash === '' || location.hash === '#/runs') route();
      else location.hash = '#/runs';
    } catch (error) {
      app.token = null;
      errors.replaceChildren(
        errorAlert(
          error,
          asFailure(error).status === 401 ? 'The API refused the token' : 'The token could not be checked',
        ),
      );
      button.disabled = false;
      button.textContent = 'Sign in';
      textarea.focus();
    }
  };

  const el = h(
    'section',
    { class: 'signin' },
    h(
      'form',
      { class: 'card', onsubmit: submit, novalidate: true },
      h(
        'div',
        { class: 'card-body' },
        h(
          'div',
          null,
          h('h1', null, 'Sign in'),
          h('p', { class: 'lede' }, 'The console acts with the identity of a bearer token (JWT).'),
        ),
        errors,
        h(
          'div',
          { class: 'field' },
          h('label', { class: 'label', for: tokenId }, 'Bearer token'),
          textarea,
          h(
            'p',
            { class: 'hint', id: `${tokenId}-hint` },
            'Paste a token from your identity provider. In development, ',
            h('code', null, 'npm start'),
            ' prints a console link that signs you in directly. The token stays in this tab only (sessionStorage).',
          ),
        ),
        h('div', null, button),
      ),
    ),
  );
  return { el, dispose() {} };
}

// ---------------------------------------------------------------------------------------------------
// Runs list

const FILTERS = /** @type {const} */ ([
  ['requires_action', 'Paused'],
  ['running', 'Running'],
  ['completed', 'Completed'],
  ['aborted', 'Aborted'],
  ['failed', 'Failed'],
  ['all', 'All'],
]);

/** @param {URLSearchParams} params */
function runsView(params) {
  const filter = params.get('status') ?? 'requires_action';
  const content = h('div', { class: 'card-body flush' }, h('p', { class: 'loading padded' }, 'Loading runs…'));
  const errors = h('div', { class: 'notices' });
  const updated = h('span', { class: 'updated', 'aria-live': 'polite' });
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  const load = async () => {
    clearTimeout(timer);
    const query = new URLSearchParams({ limit: '200' });
    if (filter !== 'all') query.set('status', filter);
    try {
      /** @type {{ runs: RunSummary[] }} */
      const body = await api('GET', `/runs?${query.toString()}`);
      if (stopped) return;
      errors.replaceChildren();
      content.replaceChildren(runsTable(body.runs, filter));
      updated.textContent = `Updated ${clockTime(Date.now())}`;
    } catch (error) {
      if (stopped || asFailure(error).status === 401) return;
      errors.replaceChildren(errorAlert(error, 'The runs could not be listed'));
    }
    if (!stopped) timer = setTimeout(load, LIST_REFRESH_MS);
  };

  const el = h(
    'section',
    null,
    h(
      'div',
      { class: 'page-header' },
      h(
        'div',
        null,
        h('h1', null, 'Runs'),
        h('p', { class: 'lede' }, 'Your generation runs. A paused run waits for a decision before its agent goes on.'),
      ),
      h(
        'div',
        { class: 'toolbar' },
        updated,
        h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: load }, 'Refresh'),
      ),
    ),
    h(
      'nav',
      { class: 'filters', 'aria-label': 'Filter by status' },
      FILTERS.map(([value, label]) =>
        h(
          'a',
          {
            href: value === 'requires_action' ? '#/runs' : `#/runs?status=${value}`,
            'aria-current': value === filter ? 'true' : false,
          },
          label,
        ),
      ),
    ),
    errors,
    h('div', { class: 'card' }, content),
  );
  void load();
  return {
    el,
    dispose() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * @param {RunSummary[]} runs
 * @param {string} filter
 */
function runsTable(runs, filter) {
  if (runs.length === 0) {
    const label = FILTERS.find(([value]) => value === filter)?.[1].toLowerCase() ?? '';
    return h(
      'div',
      { class: 'empty' },
      h(
        'strong',
        null,
        filter === 'requires_action' ? 'Nothing waits for you' : `No ${filter === 'all' ? '' : `${label} `}runs`,
      ),
      filter === 'requires_action'
        ? 'Runs that pause for a decision appear here as soon as they do.'
        : 'Runs are listed through Temporal visibility; a run that just started may take a moment.',
    );
  }
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      null,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Run'),
          h('th', { scope: 'col' }, 'User'),
          h('th', { scope: 'col' }, 'Conversation'),
          h('th', { scope: 'col' }, 'Waiting on'),
          h('th', { scope: 'col', class: 'nowrap' }, 'Expires'),
          h('th', { scope: 'col', class: 'nowrap' }, 'Started'),
        ),
      ),
      h(
        'tbody',
        null,
        runs.map((run) =>
          h(
            'tr',
            {
              class: 'clickable',
              'data-run-id': run.runId,
              onclick: (/** @type {MouseEvent} */ event) => {
                if (event.target instanceof HTMLElement && event.target.closest('a')) return;
                location.hash = runHref(run.runId);
              },
            },
            h('td', { class: 'nowrap' }, statusBadge(run.status)),
            h('td', null, h('a', { class: 'run-link', href: runHref(run.runId), title: run.runId }, run.runId)),
            h('td', null, run.userId ?? '—'),
            h('td', null, run.conversationId ?? '—'),
            h(
              'td',
              null,
              run.pendingTools.length > 0
                ? h(
                    'div',
                    { class: 'chips' },
                    run.pendingTools.map((tool) => h('span', { class: 'chip' }, tool)),
                  )
                : h('span', { class: 'muted' }, '—'),
            ),
            h(
              'td',
              { class: 'nowrap' },
              run.expiresAt && run.status === 'requires_action'
                ? timeAgo(run.expiresAt, { soonMs: 3_600_000 })
                : h('span', { class: 'muted' }, '—'),
            ),
            h('td', { class: 'nowrap' }, timeAgo(run.startTime)),
          ),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------
// One run

/** @param {string} runId */
function runView(runId) {
  const headerSlot = h(
    'div',
    null,
    h('div', { class: 'page-header' }, h('div', { class: 'page-title' }, h('h1', null, h('code', null, runId)))),
  );
  const notices = h('div', { class: 'notices' });
  const actionSlot = h('div');
  const transcriptSlot = h('div');
  const auditSlot = h('div');
  const live = h('span', { class: 'live' }, 'Connecting…');
  const feed = h('ol', { class: 'feed', 'aria-live': 'polite', 'aria-label': 'Run events' });
  const feedEmpty = h('p', { class: 'feed-empty' }, 'Waiting for the first event…');
  /** @type {string | null} */
  let renderedActionKey = null;
  /** @type {RunView | null} */
  let current = null;
  /** @type {Record<string, unknown> | null} */
  let terminal = null;
  let stopped = false;
  /** @type {EventSource | null} */
  let source = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let refreshTimer;
  /**
   * The whole transcript once asked for (read from the content store through the API), and for how many
   * messages: the run state shows only the latest ones, previewed.
   * @type {{ messages: ChatMessage[]; total: number } | null}
   */
  let fullTranscript = null;
  const transcript = {
    full: () => fullTranscript,
    /** @param {number} total */
    load: async (total) => {
      /** @type {ChatMessage[]} */
      const messages = [];
      for (let fromSeq = 0; fromSeq < total;) {
        /** @type {{ messages: ChatMessage[]; nextSeq: number; total: number }} */
        const page = await api('GET', `/runs/${encodeURIComponent(runId)}/messages?fromSeq=${fromSeq}`);
        messages.push(...page.messages);
        if (page.messages.length === 0) break;
        fromSeq = page.nextSeq;
        total = page.total;
      }
      fullTranscript = { messages, total };
      if (current) transcriptSlot.replaceChildren(transcriptCard(current, transcript));
    },
  };

  const refresh = async () => {
    try {
      /** @type {RunView} */
      const run = await api('GET', `/runs/${encodeURIComponent(runId)}`);
      if (stopped) return;
      current = run;
      render(run);
    } catch (error) {
      if (stopped || asFailure(error).status === 401) return;
      notices.replaceChildren(errorAlert(error, `Run ${runId} could not be read`));
      if (asFailure(error).status === 404 || asFailure(error).status === 403) closeStream('Ended');
    }
  };
  const scheduleRefresh = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void refresh(), 120);
  };

  /** @param {RunView} run */
  const render = (run) => {
    headerSlot.replaceChildren(runHeader(run, onAbort));
    const key = run.pendingAction ? `action:${run.pendingAction.actionId}` : `status:${run.status}`;
    if (key !== renderedActionKey) {
      renderedActionKey = key;
      actionSlot.replaceChildren(
        run.pendingAction
          ? pendingActionCard(run, run.pendingAction, {
              onSubmit: () => notices.replaceChildren(),
              onResolved,
              onRefused,
            })
          : runStateCard(run, terminal),
      );
    } else if (!run.pendingAction && terminal) {
      actionSlot.replaceChildren(runStateCard(run, terminal));
    }
    transcriptSlot.replaceChildren(transcriptCard(run, transcript));
    auditSlot.replaceChildren(auditCard(run.decisions));
  };

  /** @param {string} by */
  const onResolved = (by) => {
    notices.replaceChildren(
      notice('success', 'Decision sent', `Accepted, decided by ${by}. The run goes on; this page follows it live.`),
    );
    scheduleRefresh();
  };

  /**
   * A refusal stays readable above the action, also when the action card is replaced: after a 409 (someone
   * else decided, the action expired or was replaced) the page reloads the run to show where it stands.
   * @param {unknown} error
   */
  const onRefused = (error) => {
    notices.replaceChildren(errorAlert(error));
    if (asFailure(error).status === 409) scheduleRefresh();
  };

  const onAbort = async () => {
    try {
      await api('POST', `/runs/${encodeURIComponent(runId)}/abort`);
      notices.replaceChildren(notice('info', 'Abort requested', 'The run is cancelled and ends as aborted.'));
      scheduleRefresh();
    } catch (error) {
      if (asFailure(error).status !== 401) notices.replaceChildren(errorAlert(error, 'The run could not be aborted'));
    }
  };

  /**
   * @param {string} kind
   * @param {string} title
   * @param {string} [detail]
   */
  const addFeed = (kind, title, detail) => {
    feedEmpty.remove();
    const now = new Date().toISOString();
    feed.prepend(
      h(
        'li',
        { class: `feed-item feed-${kind}` },
        h('time', { datetime: now, title: absoluteTime(now) }, clockTime(now)),
        h(
          'div',
          null,
          h('div', { class: 'feed-title' }, title),
          detail ? h('div', { class: 'feed-detail' }, detail) : null,
        ),
      ),
    );
  };

  /** @param {string} state */
  const closeStream = (state) => {
    source?.close();
    source = null;
    live.className = 'live';
    live.textContent = state;
  };

  /**
   * @param {string} name
   * @param {(data: any) => void} handle
   */
  const on = (name, handle) => {
    source?.addEventListener(name, (event) => {
      if (stopped || !(event instanceof MessageEvent)) return;
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      handle(data);
    });
  };

  const openStream = () => {
    const url = `/runs/${encodeURIComponent(runId)}/events?access_token=${encodeURIComponent(app.token ?? '')}`;
    source = new EventSource(url);
    source.addEventListener('open', () => {
      live.className = 'live on';
      live.textContent = 'Live';
    });
    source.addEventListener('error', (event) => {
      if (stopped || event instanceof MessageEvent) return;
      if (source?.readyState === EventSource.CLOSED) {
        closeStream('Disconnected');
        addFeed('error', 'Event stream closed', 'Reload the page to reconnect.');
        // A closed stream right at the start is often an expired token: let a request find out.
        void refresh();
      } else {
        live.className = 'live retry';
        live.textContent = 'Reconnecting…';
      }
    });
    on('status', (data) => {
      const status = /** @type {RunStatus} */ (data.status);
      addFeed(`status-${status}`, `Status: ${STATUS_LABEL[status] ?? status}`, `turn ${data.turn}`);
      scheduleRefresh();
    });
    on('pending_action', (/** @type {PendingAction} */ data) => {
      addFeed('pending', 'Waiting for a decision', describeAction(data));
      scheduleRefresh();
    });
    on('tool_result', (data) => {
      addFeed(
        `tool-${data.status}`,
        `Tool result: ${data.name} · ${data.status}`,
        clip(String(data.content ?? ''), 180),
      );
      scheduleRefresh();
    });
    for (const name of ['completed', 'aborted', 'failed']) {
      on(name, (data) => {
        terminal = data;
        const detail = data.finalMessage ?? data.reason ?? data.error;
        addFeed(name, `Run ${name}`, detail ? clip(String(detail), 240) : undefined);
        closeStream('Ended');
        scheduleRefresh();
      });
    }
    on('error', (data) => {
      addFeed('error', `Stream error: ${data.type}`, data.error);
      closeStream('Ended');
    });
  };

  const webUi = webUiLink(runId);
  const el = h(
    'section',
    null,
    h('a', { class: 'breadcrumb', href: '#/runs' }, '← All runs'),
    headerSlot,
    h(
      'div',
      { class: 'grid' },
      h('div', { class: 'stack' }, notices, actionSlot, transcriptSlot),
      h(
        'div',
        { class: 'stack' },
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'feed-title' },
          h('div', { class: 'card-header' }, h('h2', { id: 'feed-title' }, 'Live events'), live),
          feedEmpty,
          feed,
        ),
        webUi
          ? null
          : h(
              'p',
              { class: 'hint' },
              'Set HITL_WEB_UI_URL on the API to link each run to its history in the Temporal Web UI.',
            ),
      ),
    ),
    h('div', { class: 'below' }, auditSlot),
  );
  void refresh().then(() => {
    if (!stopped && current) openStream();
  });
  return {
    el,
    dispose() {
      stopped = true;
      clearTimeout(refreshTimer);
      source?.close();
    },
  };
}

/** @param {PendingAction} action */
function describeAction(action) {
  if (action.payload.type === 'mcp_elicitation') {
    return clip(`MCP server ${action.payload.server} asks: ${action.payload.message}`, 160);
  }
  if (action.payload.type === 'ask_user_question') {
    const questions = action.payload.questions ?? [action.payload.question];
    return questions.length === 1 ? clip(questions[0]?.question ?? '', 160) : `${questions.length} questions`;
  }
  return action.payload.action_requests.map((r) => r.name).join(', ');
}

/**
 * @param {RunView} run
 * @param {() => Promise<void>} onAbort
 */
function runHeader(run, onAbort) {
  const webUi = webUiLink(run.runId);
  const open = run.status === 'running' || run.status === 'requires_action';
  let armed = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let disarm;
  const abortButton = /** @type {HTMLButtonElement} */ (
    h(
      'button',
      {
        type: 'button',
        class: 'btn btn-danger btn-sm',
        onclick: async () => {
          if (!armed) {
            armed = true;
            abortButton.textContent = 'Confirm abort';
            abortButton.classList.add('confirm');
            disarm = setTimeout(() => {
              armed = false;
              abortButton.textContent = 'Abort run';
              abortButton.classList.remove('confirm');
            }, 4000);
            return;
          }
          clearTimeout(disarm);
          abortButton.disabled = true;
          abortButton.textContent = 'Aborting…';
          await onAbort();
        },
      },
      'Abort run',
    )
  );
  /** @type {[string, Child][]} */
  const facts = [
    ['User', run.userId ?? '—'],
    ['Conversation', run.conversationId ?? '—'],
  ];
  if (run.agentId)
    facts.push(['Agent', run.configVersion ? `${run.agentId} · config ${run.configVersion}` : run.agentId]);
  const claimRules = (run.approverClaims ?? []).map((rule) =>
    Object.entries(rule)
      .map(([claim, values]) => `${claim}=${Array.isArray(values) ? values.join('|') : values}`)
      .join(' & '),
  );
  facts.push(['Approvers', [...run.approvers, ...claimRules].join(', ') || '—'], ['Turn', String(run.turn)]);
  return h(
    'div',
    { class: 'page-header run-header' },
    h(
      'div',
      { class: 'shrink' },
      h('div', { class: 'page-title' }, h('h1', null, h('code', null, run.runId)), statusBadge(run.status, true)),
      h(
        'dl',
        { class: 'meta' },
        facts.map(([term, value]) => h('div', null, h('dt', null, term), h('dd', null, value))),
      ),
    ),
    h(
      'div',
      { class: 'toolbar' },
      webUi
        ? h(
            'a',
            { class: 'btn btn-secondary btn-sm', href: webUi, target: '_blank', rel: 'noopener noreferrer' },
            'Open in Temporal Web UI',
            h('span', { class: 'icon', 'aria-hidden': 'true' }, '↗'),
          )
        : null,
      run.caller.owner && open ? abortButton : null,
    ),
  );
}

/**
 * What the run is doing when nothing waits for a decision.
 * @param {RunView} run
 * @param {Record<string, unknown> | null} terminal the terminal SSE event's data, when seen
 */
function runStateCard(run, terminal) {
  const lastAssistant = [...run.messages].reverse().find((m) => m.role === 'assistant');
  const finalText =
    (typeof terminal?.finalMessage === 'string' ? terminal.finalMessage : undefined) ??
    (lastAssistant && lastAssistant.role === 'assistant' ? lastAssistant.content : undefined);
  /** @type {Record<RunStatus, [string, string, Child]>} */
  const states = {
    running: [
      'Working',
      'The agent is running. New decisions appear here as soon as it pauses.',
      h('span', { class: 'spinner' }),
    ],
    requires_action: ['Waiting', 'The run is paused; its action is loading.', h('span', { class: 'spinner' })],
    completed: ['Completed', 'The run finished.', '✓'],
    aborted: [
      'Aborted',
      typeof terminal?.reason === 'string'
        ? terminal.reason
        : (abortReason(run) ?? 'The run was cancelled or its action expired.'),
      '■',
    ],
    failed: ['Failed', run.error ?? (typeof terminal?.error === 'string' ? terminal.error : 'The run failed.'), '!'],
  };
  const [title, text, icon] = states[run.status];
  return h(
    'section',
    { class: `card state-${run.status}`, 'aria-label': 'Run state' },
    h(
      'div',
      { class: 'state' },
      h('div', { class: 'state-icon', 'aria-hidden': 'true' }, icon),
      h(
        'div',
        { class: 'grow' },
        h('h2', null, title),
        h('p', null, text),
        run.status === 'completed' && finalText ? h('div', { class: 'final' }, finalText) : null,
      ),
    ),
  );
}

/** @param {RunView} run */
function abortReason(run) {
  const last = [...run.decisions].reverse().find((d) => d.outcome === 'expired' || d.outcome === 'cancelled');
  return last?.message;
}

// ---------------------------------------------------------------------------------------------------
// The pending action

/**
 * @typedef {{ onSubmit: () => void, onResolved: (by: string) => void, onRefused: (error: unknown) => void }} ActionCallbacks
 */

/**
 * @param {RunView} run
 * @param {PendingAction} action
 * @param {ActionCallbacks} callbacks
 */
function pendingActionCard(run, action, callbacks) {
  const payload = action.payload;
  if (payload.type === 'mcp_elicitation') return elicitationCard(run, action, payload, callbacks);
  const isQuestion = payload.type === 'ask_user_question';
  const canDecide = run.caller.approver;

  /** @type {SubmitFn} */
  const submit = async (body, button) => {
    callbacks.onSubmit();
    const label = button.textContent;
    button.disabled = true;
    button.textContent = 'Sending…';
    try {
      /** @type {{ decidedBy: string }} */
      const result = await api('POST', `/runs/${encodeURIComponent(run.runId)}/resolve`, body, {
        'idempotency-key': randomKey(),
      });
      button.textContent = 'Sent';
      form.classList.add('sent');
      for (const control of form.querySelectorAll('input, textarea, button')) {
        /** @type {HTMLInputElement} */ (control).disabled = true;
      }
      callbacks.onResolved(result.decidedBy);
    } catch (error) {
      button.disabled = false;
      button.textContent = label;
      if (asFailure(error).status !== 401) callbacks.onRefused(error);
    }
  };

  const count = isQuestion ? (payload.questions ?? [payload.question]).length : payload.action_requests.length;
  const header = h(
    'div',
    { class: 'card-header' },
    h(
      'div',
      null,
      h(
        'h2',
        { class: 'action-title', id: 'action-title' },
        isQuestion
          ? count === 1
            ? 'The agent asks you a question'
            : `The agent asks you ${count} questions`
          : 'Decision needed',
      ),
      h(
        'div',
        { class: 'sub' },
        isQuestion ? 'Answer to let the run go on.' : `${plural(count, 'tool call')} paused until you decide · action `,
        isQuestion ? null : h('code', { title: action.actionId }, action.actionId.slice(0, 8)),
      ),
    ),
    h(
      'div',
      { class: 'expiry' },
      'Expires ',
      h('strong', null, timeAgo(action.expiresAt)),
      h('div', { class: 'sub' }, absoluteTime(action.expiresAt)),
    ),
  );

  const form = /** @type {HTMLFormElement} */ (
    isQuestion
      ? questionForm(action, /** @type {QuestionPayload} */ (payload), canDecide, submit)
      : approvalForm(run, action, /** @type {ToolApprovalPayload} */ (payload), canDecide, submit)
  );
  return h(
    'section',
    { class: 'card attention', 'aria-labelledby': 'action-title', 'data-action-id': action.actionId },
    header,
    canDecide
      ? null
      : h(
          'div',
          { class: 'alert alert-info readonly-note' },
          h(
            'div',
            { class: 'alert-body' },
            `You can read this action, but only ${run.approvers.join(', ') || 'its approvers'} may decide it.`,
          ),
        ),
    form,
  );
}

/**
 * @typedef {{ decision: DecisionKind | null, scope: Scope, reason: string, editText: string,
 *   editError: string | null, editValue: Record<string, unknown> | null, responseText: string }} CallState
 */

/**
 * @param {RunView} run
 * @param {PendingAction} action
 * @param {ToolApprovalPayload} payload
 * @param {boolean} canDecide
 * @param {(body: Record<string, unknown>, button: HTMLButtonElement) => Promise<void>} submit
 */
function approvalForm(run, action, payload, canDecide, submit) {
  const configs = new Map(payload.review_configs.map((c) => [c.tool_call_id, c]));
  /** @type {Map<string, CallState>} */
  const states = new Map();
  const progress = h('p', { class: 'progress', 'aria-live': 'polite' });
  const n = payload.action_requests.length;
  const button = /** @type {HTMLButtonElement} */ (
    h(
      'button',
      { type: 'submit', class: 'btn btn-primary', disabled: true },
      n === 1 ? 'Submit decision' : `Submit ${n} decisions`,
    )
  );

  const update = () => {
    let decided = 0;
    /** @type {string | null} */
    let problem = null;
    for (const [id, state] of states) {
      if (!state.decision) continue;
      decided += 1;
      if (state.decision === 'edit' && state.editError) problem ??= `Fix the JSON of ${id} first.`;
      if (state.decision === 'respond' && state.responseText.trim() === '') problem ??= `Write the response for ${id}.`;
    }
    button.disabled = !canDecide || decided < n || problem !== null;
    progress.replaceChildren(
      problem
        ? h('span', { class: 'problem' }, problem)
        : decided < n
          ? h(
              'span',
              null,
              h('strong', null, `${decided} of ${n}`),
              ` tool call${n === 1 ? '' : 's'} decided — choose a decision for each.`,
            )
          : h(
              'span',
              null,
              h('strong', null, n === 1 ? 'Ready.' : `All ${n} decided.`),
              ' One resolution is sent for the whole action.',
            ),
    );
  };

  const calls = payload.action_requests.map((request) => {
    const config = configs.get(request.tool_call_id);
    const allowed = config?.allowed_decisions ?? ['approve', 'reject', 'edit', 'respond'];
    const original = JSON.stringify(request.arguments, null, 2);
    /** @type {CallState} */
    const state = {
      decision: null,
      scope: 'once',
      reason: '',
      editText: original,
      editError: null,
      editValue: request.arguments,
      responseText: '',
    };
    states.set(request.tool_call_id, state);
    return callCard(run, request, allowed, state, canDecide, update);
  });

  /** @param {SubmitEvent} event */
  const onSubmit = (event) => {
    event.preventDefault();
    if (button.disabled) return;
    const decisions = payload.action_requests.map((request) => {
      const state = /** @type {CallState} */ (states.get(request.tool_call_id));
      const id = request.tool_call_id;
      switch (state.decision) {
        case 'approve':
          return { tool_call_id: id, decision: 'approve', scope: state.scope };
        case 'reject':
          return state.reason.trim()
            ? { tool_call_id: id, decision: 'reject', reason: state.reason.trim() }
            : { tool_call_id: id, decision: 'reject' };
        case 'edit':
          return { tool_call_id: id, decision: 'edit', editedArguments: state.editValue };
        default:
          return { tool_call_id: id, decision: 'respond', responseText: state.responseText };
      }
    });
    void submit({ actionId: action.actionId, decisions }, button);
  };

  update();
  return h(
    'form',
    { onsubmit: onSubmit, novalidate: true, 'aria-label': 'Decisions' },
    h('div', { class: 'calls' }, calls),
    canDecide ? h('div', { class: 'card-footer' }, progress, h('div', { class: 'footer-actions' }, button)) : null,
  );
}

/**
 * @param {RunView} run
 * @param {ActionRequest} request
 * @param {DecisionKind[]} allowed
 * @param {CallState} state
 * @param {boolean} canDecide
 * @param {() => void} update
 */
function callCard(run, request, allowed, state, canDecide, update) {
  const id = uid('call');
  const panel = h('div', { class: 'panel' });
  /** @type {Record<DecisionKind, [string, string]>} */
  const labels = { approve: ['✓', 'Approve'], reject: ['✕', 'Reject'], edit: ['✎', 'Edit'], respond: ['↩', 'Respond'] };

  const renderPanel = () => {
    panel.replaceChildren();
    switch (state.decision) {
      case 'approve':
        panel.append(scopeChoice(run, request, state, id));
        break;
      case 'reject':
        panel.append(
          textField(
            `${id}-reason`,
            'Reason (optional) — the model sees it',
            state.reason,
            'e.g. Keep this file, it is still needed.',
            (value) => {
              state.reason = value;
              update();
            },
          ),
        );
        break;
      case 'edit':
        panel.append(jsonEditor(`${id}-edit`, request, state, update));
        break;
      case 'respond':
        panel.append(
          textField(
            `${id}-respond`,
            'Response to the model — the tool is not run',
            state.responseText,
            'e.g. Skip it, the file is already archived.',
            (value) => {
              state.responseText = value;
              update();
            },
          ),
        );
        break;
      default:
        break;
    }
  };

  return h(
    'article',
    { class: 'call', 'aria-labelledby': `${id}-name`, 'data-tool-call-id': request.tool_call_id },
    h(
      'header',
      { class: 'call-header' },
      h('h3', { class: 'tool-name', id: `${id}-name` }, request.name),
      h('span', { class: 'call-id' }, request.tool_call_id),
    ),
    request.description ? h('p', { class: 'reason' }, request.description) : null,
    h('span', { class: 'field-label' }, 'Arguments'),
    jsonBlock(request.arguments),
    canDecide
      ? h(
          'fieldset',
          { class: 'decision' },
          h('legend', { class: 'visually-hidden' }, `Decision for ${request.name} (${request.tool_call_id})`),
          h(
            'div',
            { class: 'segmented' },
            allowed.map((kind) =>
              h(
                'label',
                null,
                h('input', {
                  type: 'radio',
                  name: `${id}-decision`,
                  value: kind,
                  onchange: () => {
                    state.decision = kind;
                    renderPanel();
                    update();
                    const first = panel.querySelector('textarea, input');
                    if (first instanceof HTMLElement && kind !== 'approve') first.focus();
                  },
                }),
                h('span', null, h('span', { class: 'glyph', 'aria-hidden': 'true' }, labels[kind][0]), labels[kind][1]),
              ),
            ),
          ),
        )
      : null,
    panel,
  );
}

/**
 * @param {RunView} run
 * @param {ActionRequest} request
 * @param {CallState} state
 * @param {string} id
 */
function scopeChoice(run, request, state, id) {
  // Only the scopes that can take effect: a remembered approval never beats an explicit ask entry, so
  // for such a tool "don't ask again" would silently do nothing. The API says which (grantOffers).
  const offer = run.grantOffers ? run.grantOffers[request.name] : undefined;
  const offered = offer ? offer.scopes : run.grantOffers === null ? [] : ['session', 'always'];
  /** @type {[Scope, string, string][]} */
  const all = [
    ['once', 'Once', 'Ask again next time.'],
    [
      'session',
      'This conversation',
      `Don’t ask again for ${request.name} in ${run.conversationId ?? 'this conversation'}.`,
    ],
    ['always', 'Always', `Don’t ask again for ${request.name} anywhere (revocable).`],
  ];
  const scopes = all.filter(([value]) => value === 'once' || offered.includes(value));
  if (!scopes.some(([value]) => value === state.scope)) state.scope = 'once';
  const why =
    offer?.why ??
    (run.grantOffers === null ? 'Whether a remembered approval would take effect cannot be told yet.' : undefined);
  if (scopes.length === 1) {
    return h(
      'div',
      { class: 'field', 'data-grant-offer': 'once-only' },
      h('span', { class: 'field-label first' }, 'Approved once'),
      h('p', { class: 'hint' }, `It will ask again next time: ${why ?? 'remembering is not available here.'}`),
    );
  }
  return h(
    'fieldset',
    null,
    h('legend', { class: 'field-label first' }, 'Remember this approval'),
    h(
      'div',
      { class: 'options inline' },
      scopes.map(([value, label, help]) =>
        h(
          'label',
          { class: 'option' },
          h('input', {
            type: 'radio',
            name: `${id}-scope`,
            value,
            checked: state.scope === value,
            onchange: () => {
              state.scope = value;
            },
          }),
          h('span', null, h('span', { class: 'option-label' }, label), h('span', { class: 'option-help' }, help)),
        ),
      ),
    ),
  );
}

/**
 * @param {string} id
 * @param {string} label
 * @param {string} value
 * @param {string} placeholder
 * @param {(value: string) => void} onInput
 */
function textField(id, label, value, placeholder, onInput) {
  return h(
    'div',
    { class: 'field' },
    h('label', { class: 'label', for: id }, label),
    h('textarea', {
      id,
      rows: 3,
      value,
      placeholder,
      maxlength: 4000,
      oninput: (/** @type {Event} */ event) => onInput(/** @type {HTMLTextAreaElement} */ (event.target).value),
    }),
  );
}

/**
 * A JSON textarea validated on every keystroke: invalid JSON (or not an object) shows the parse error and
 * keeps the form from being submitted.
 * @param {string} id
 * @param {ActionRequest} request
 * @param {CallState} state
 * @param {() => void} update
 */
function jsonEditor(id, request, state, update) {
  const status = h('div', { class: 'validation', id: `${id}-status`, 'aria-live': 'polite' });
  const lines = state.editText.split('\n').length;
  const textarea = /** @type {HTMLTextAreaElement} */ (
    h('textarea', {
      id,
      class: 'code',
      rows: Math.min(Math.max(lines + 1, 4), 18),
      spellcheck: 'false',
      autocapitalize: 'off',
      autocomplete: 'off',
      value: state.editText,
      'aria-describedby': `${id}-status`,
      oninput: () => validate(),
      onkeydown: (/** @type {KeyboardEvent} */ event) => {
        if (event.key !== 'Tab' || event.shiftKey) return;
        event.preventDefault();
        textarea.setRangeText('  ', textarea.selectionStart, textarea.selectionEnd, 'end');
        validate();
      },
    })
  );
  const validate = () => {
    state.editText = textarea.value;
    try {
      const value = JSON.parse(textarea.value);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new Error('The arguments must be a JSON object: { … }');
      }
      state.editValue = value;
      state.editError = null;
      status.className = 'validation ok';
      status.textContent = '✓ Valid JSON object — the tool runs with these arguments.';
      textarea.setAttribute('aria-invalid', 'false');
    } catch (error) {
      state.editValue = null;
      state.editError = error instanceof Error ? error.message : String(error);
      status.className = 'validation error';
      status.textContent = `Invalid JSON: ${state.editError}`;
      textarea.setAttribute('aria-invalid', 'true');
    }
    update();
  };
  validate();
  return h(
    'div',
    { class: 'field' },
    h(
      'div',
      { class: 'label-row' },
      h('label', { class: 'label', for: id }, `Edited arguments for ${request.name} (JSON object)`),
      h(
        'button',
        {
          type: 'button',
          class: 'link-button',
          onclick: () => {
            textarea.value = JSON.stringify(request.arguments, null, 2);
            validate();
            textarea.focus();
          },
        },
        'Reset',
      ),
    ),
    textarea,
    status,
  );
}

/**
 * Pretty JSON in a monospace block; long ones start collapsed with a toggle.
 * @param {unknown} value
 */
function jsonBlock(value) {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  return codeBlock(text);
}

/** @param {string} text */
function codeBlock(text) {
  const lines = text.split('\n').length;
  const pre = h('pre', { class: 'json' }, h('code', null, text));
  if (lines <= 12 && text.length <= 900) return pre;
  const wrap = h('div', { class: 'json-wrap collapsed' }, pre);
  const toggle = /** @type {HTMLButtonElement} */ (
    h(
      'button',
      {
        type: 'button',
        class: 'link-button json-toggle',
        'aria-expanded': 'false',
        onclick: () => {
          const collapsed = wrap.classList.toggle('collapsed');
          toggle.setAttribute('aria-expanded', String(!collapsed));
          toggle.textContent = collapsed ? `Show all ${lines} lines` : 'Show less';
        },
      },
      `Show all ${lines} lines`,
    )
  );
  return h('div', null, wrap, toggle);
}

/**
 * @param {PendingAction} action
 * @param {QuestionPayload} payload
 * @param {boolean} canDecide
 * @param {(body: Record<string, unknown>, button: HTMLButtonElement) => Promise<void>} submit
 */
function questionForm(action, payload, canDecide, submit) {
  const batch = payload.questions !== undefined;
  const questions = payload.questions ?? [payload.question];
  const progress = h('p', { class: 'progress', 'aria-live': 'polite' });
  const button = /** @type {HTMLButtonElement} */ (
    h(
      'button',
      { type: 'submit', class: 'btn btn-primary', disabled: true },
      questions.length === 1 ? 'Send answer' : 'Send answers',
    )
  );
  /** @type {(() => string | string[] | null)[]} */
  const readers = [];

  const update = () => {
    const answered = readers.filter((read) => read() !== null).length;
    button.disabled = !canDecide || answered < questions.length;
    progress.replaceChildren(
      h(
        'span',
        null,
        h('strong', null, `${answered} of ${questions.length}`),
        ` question${questions.length === 1 ? '' : 's'} answered.`,
      ),
    );
  };

  const fieldsets = questions.map((question, index) => {
    const id = uid('q');
    const options = question.options ?? [];
    const multi = question.multiSelect === true;
    const titleId = `${id}-title`;
    /** Single choice: typing an own answer clears the chosen option, choosing an option clears the text. */
    const other = /** @type {HTMLInputElement} */ (
      h('input', {
        type: 'text',
        id: `${id}-other`,
        maxlength: 16000,
        placeholder:
          options.length === 0 ? 'Your answer' : multi ? 'Add your own (optional)' : 'Or write your own answer',
        'aria-label': options.length > 0 ? `Own answer to: ${question.question}` : `Answer to: ${question.question}`,
        oninput: () => {
          if (!multi && other.value.trim() !== '') {
            for (const input of fieldset.querySelectorAll('input[type=radio]')) {
              /** @type {HTMLInputElement} */ (input).checked = false;
            }
          }
          update();
        },
      })
    );
    const read = () => {
      const chosen = Array.from(
        fieldset.querySelectorAll('input[type=radio]:checked, input[type=checkbox]:checked'),
      ).map((input) => /** @type {HTMLInputElement} */ (input).value);
      const text = other.value.trim();
      if (multi) {
        const all = text === '' ? chosen : [...chosen, text];
        return all.length === 0 ? null : all;
      }
      if (text !== '') return text;
      return chosen[0] ?? null;
    };
    readers.push(read);
    const fieldset = h(
      'fieldset',
      { 'data-question-id': question.id ?? '', 'aria-labelledby': titleId },
      h(
        'div',
        { class: 'question-title', id: titleId },
        question.header ? h('span', { class: 'badge badge-info plain' }, question.header) : null,
        h('span', null, batch ? `${index + 1}. ${question.question}` : question.question),
      ),
      question.description ? h('p', { class: 'description' }, question.description) : null,
      multi ? h('p', { class: 'hint' }, 'Choose any that apply.') : null,
      options.length > 0
        ? h(
            'div',
            { class: 'options choices' },
            options.map((option) =>
              h(
                'label',
                { class: 'option' },
                h('input', {
                  type: multi ? 'checkbox' : 'radio',
                  name: `${id}-choice`,
                  value: option.value,
                  onchange: () => {
                    if (!multi) other.value = '';
                    update();
                  },
                }),
                h(
                  'span',
                  null,
                  h('span', { class: 'option-label' }, option.label),
                  option.description ? h('span', { class: 'option-help' }, option.description) : null,
                ),
              ),
            ),
          )
        : null,
      h('div', { class: 'other' }, other),
    );
    return h('div', { class: 'question' }, fieldset);
  });

  /** @param {SubmitEvent} event */
  const onSubmit = (event) => {
    event.preventDefault();
    if (button.disabled) return;
    const values = readers.map((read) => read());
    if (!batch) {
      void submit({ actionId: action.actionId, answer: values[0] }, button);
      return;
    }
    /** @type {Record<string, unknown>} */
    const answers = {};
    questions.forEach((question, index) => {
      answers[question.id ?? ''] = values[index];
    });
    void submit({ actionId: action.actionId, answers }, button);
  };

  update();
  return h(
    'form',
    { onsubmit: onSubmit, novalidate: true, 'aria-label': 'Answers' },
    fieldsets,
    canDecide ? h('div', { class: 'card-footer' }, progress, h('div', { class: 'footer-actions' }, button)) : null,
  );
}

// ---------------------------------------------------------------------------------------------------
// An MCP server asks for input (elicitation)

/**
 * The card of an `mcp_elicitation` action: who asks and why, then a form generated from the requested schema
 * (or, in URL mode, the link to open), answered with Accept / Decline / Cancel (Done / Decline / Cancel). A
 * refusal (InvalidElicitationContent) is shown in the form, next to its buttons, with the fields to fix marked;
 * the action stays pending. Every string of the server goes into the page as text.
 * @param {RunView} run
 * @param {PendingAction} action
 * @param {ElicitationPayload} payload
 * @param {ActionCallbacks} callbacks
 */
function elicitationCard(run, action, payload, callbacks) {
  const canDecide = run.caller.approver;
  const model = elicitationFormModel(payload);
  /** @type {HTMLButtonElement[]} */
  const buttons = [];
  const refusal = h('div', { class: 'elicitation-refusal', 'aria-live': 'polite' });
  /** Per field: its wrapper, its error line and its inputs, to mark a refused field. */
  /** @type {Map<string, { wrap: HTMLElement, error: HTMLElement, inputs: HTMLElement[] }>} */
  const controls = new Map();
  const values = model.mode === 'form' ? initialValues(model.fields) : {};

  const clearMarks = () => {
    refusal.replaceChildren();
    for (const control of controls.values()) {
      control.wrap.classList.remove('invalid');
      control.error.textContent = '';
      for (const input of control.inputs) input.removeAttribute('aria-invalid');
    }
  };

  /** @param {unknown} error */
  const showRefusal = (error) => {
    refusal.replaceChildren(errorAlert(error));
    const problems = asFailure(error).details?.problems;
    if (!Array.isArray(problems)) return;
    /** @type {HTMLElement | null} */
    let first = null;
    for (const problem of problems) {
      const control = controls.get(typeof problem?.field === 'string' ? problem.field : '');
      if (!control) continue;
      control.wrap.classList.add('invalid');
      control.error.textContent = typeof problem.message === 'string' ? problem.message : 'not accepted';
      for (const input of control.inputs) input.setAttribute('aria-invalid', 'true');
      first ??= control.inputs[0] ?? null;
    }
    first?.focus();
  };

  /** @type {SubmitFn} */
  const submit = async (body, button) => {
    callbacks.onSubmit();
    clearMarks();
    const label = button.textContent;
    for (const b of buttons) b.disabled = true;
    button.textContent = 'Sending…';
    try {
      /** @type {{ decidedBy: string }} */
      const result = await api('POST', `/runs/${encodeURIComponent(run.runId)}/resolve`, body, {
        'idempotency-key': randomKey(),
      });
      button.textContent = 'Sent';
      form.classList.add('sent');
      for (const control of form.querySelectorAll('input, select, textarea, button')) {
        /** @type {HTMLInputElement} */ (control).disabled = true;
      }
      callbacks.onResolved(result.decidedBy);
    } catch (error) {
      for (const b of buttons) b.disabled = false;
      button.textContent = label;
      const failure = asFailure(error);
      if (failure.status === 401) return;
      // Someone else decided, the action expired or was replaced: the page shows it and reloads the run.
      if (failure.status === 409) callbacks.onRefused(error);
      else showRefusal(error);
    }
  };

  /**
   * @param {'accept' | 'decline' | 'cancel'} answer
   * @param {HTMLButtonElement} button
   */
  const send = (answer, button) => {
    const elicitation =
      answer === 'accept' && model.mode === 'form'
        ? { action: 'accept', content: elicitationContent(model.fields, values) }
        : { action: answer };
    void submit({ actionId: action.actionId, elicitation }, button);
  };

  /**
   * @param {string} label
   * @param {'accept' | 'decline' | 'cancel'} answer
   * @param {string} className
   */
  const button = (label, answer, className) => {
    const el = /** @type {HTMLButtonElement} */ (
      h(
        'button',
        {
          type: answer === 'accept' ? 'submit' : 'button',
          class: `btn ${className}`,
          'data-answer': answer,
          onclick: answer === 'accept' ? undefined : () => send(answer, el),
        },
        label,
      )
    );
    buttons.push(el);
    return el;
  };
  const accept = button(model.mode === 'url' ? 'Done' : 'Accept', 'accept', 'btn-primary');
  const decline = button('Decline', 'decline', 'btn-secondary');
  const cancel = button('Cancel', 'cancel', 'btn-secondary');

  const body =
    model.mode === 'url'
      ? elicitationLink(model)
      : h(
          'div',
          { class: 'elicitation-fields' },
          model.fields.length === 0
            ? h('p', { class: 'hint' }, 'The server asks for nothing to fill in: accept, decline or cancel.')
            : model.fields.map((field) => {
                const control = fieldControl(field, values, canDecide);
                controls.set(field.name, control);
                return control.wrap;
              }),
        );

  /** @param {SubmitEvent} event */
  const onSubmit = (event) => {
    event.preventDefault();
    if (!canDecide || accept.disabled) return;
    send('accept', accept);
  };

  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'elicitation', onsubmit: onSubmit, novalidate: true, 'aria-label': 'Answer to the MCP server' },
      h('div', { class: 'elicitation-message' }, model.message),
      body,
      canDecide
        ? h(
            'div',
            { class: 'card-footer' },
            h(
              'p',
              { class: 'progress' },
              model.mode === 'url'
                ? 'Done: you finished on that page. Decline: you will not. Cancel: dismiss the request.'
                : 'Accept sends these values to the server. Decline: you will not give them. Cancel: dismiss the request.',
            ),
            h('div', { class: 'footer-actions' }, cancel, decline, accept),
          )
        : null,
      refusal,
    )
  );

  return h(
    'section',
    {
      class: 'card attention',
      'aria-labelledby': 'action-title',
      'data-action-id': action.actionId,
      'data-action-type': 'mcp_elicitation',
    },
    h(
      'div',
      { class: 'card-header' },
      h(
        'div',
        null,
        h('h2', { class: 'action-title', id: 'action-title' }, 'An MCP server asks for input'),
        h(
          'div',
          { class: 'sub' },
          'MCP server ',
          h('code', { class: 'elicitation-server' }, model.server),
          ' · during ',
          h('code', null, model.tool),
          ' · action ',
          h('code', { title: action.actionId }, action.actionId.slice(0, 8)),
        ),
      ),
      h(
        'div',
        { class: 'expiry' },
        'Expires ',
        h('strong', null, timeAgo(action.expiresAt)),
        h('div', { class: 'sub' }, absoluteTime(action.expiresAt)),
      ),
    ),
    canDecide
      ? null
      : h(
          'div',
          { class: 'alert alert-info readonly-note' },
          h(
            'div',
            { class: 'alert-body' },
            `You can read this request, but only ${run.approvers.join(', ') || 'its approvers'} may answer it.`,
          ),
        ),
    form,
  );
}

/**
 * URL mode: the link to open, never opened by the page; an http(s) URL only becomes a link (new tab, no
 * opener, no referrer), anything else is shown as text.
 * @param {Extract<import('./elicitation-form.mjs').ElicitationFormModel, { mode: 'url' }>} model
 */
function elicitationLink(model) {
  if (!model.link) {
    return h(
      'div',
      { class: 'elicitation-url' },
      h(
        'div',
        { class: 'alert alert-warn', role: 'status' },
        h(
          'div',
          { class: 'alert-body' },
          h('div', { class: 'alert-title' }, h('strong', null, 'Not a web link')),
          h(
            'div',
            { class: 'alert-detail' },
            'The server sent an address that is not http or https, so the console does not make it clickable:',
          ),
        ),
      ),
      h('code', { class: 'url-text' }, model.url || '(no address)'),
    );
  }
  return h(
    'div',
    { class: 'elicitation-url' },
    h('span', { class: 'field-label first' }, 'The server asks you to open'),
    h(
      'a',
      {
        class: 'btn btn-secondary elicitation-link',
        href: model.link.href,
        target: '_blank',
        rel: 'noopener noreferrer',
        referrerpolicy: 'no-referrer',
      },
      `Open ${model.link.host}`,
      h('span', { class: 'icon', 'aria-hidden': 'true' }, '↗'),
    ),
    h('code', { class: 'url-text' }, model.url),
    h(
      'p',
      { class: 'hint' },
      `It opens in a new tab, only when you click it. Check that you expect ${model.link.host}; finish there, then press Done.`,
    ),
  );
}

/**
 * One field of the form: its label (required marked), its control with the server's default, its hints and
 * an error line for a refusal. Changes go to `values`.
 * @param {FieldModel} field
 * @param {import('./elicitation-form.mjs').FormValues} values
 * @param {boolean} canDecide
 * @returns {{ wrap: HTMLElement, error: HTMLElement, inputs: HTMLElement[] }}
 */
function fieldControl(field, values, canDecide) {
  const id = uid('el');
  const error = h('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
  /** @type {string[]} */
  const hints = [];
  if (field.hint) hints.push(field.hint);
  if (field.control === 'number') {
    const kind = field.integer ? 'A whole number' : 'A number';
    if (field.min !== undefined && field.max !== undefined) hints.push(`${kind} from ${field.min} to ${field.max}`);
    else if (field.min !== undefined) hints.push(`${kind}, at least ${field.min}`);
    else if (field.max !== undefined) hints.push(`${kind}, at most ${field.max}`);
    else hints.push(kind);
  }
  if (field.control === 'text' && (field.minLength !== undefined || field.maxLength !== undefined)) {
    hints.push(
      field.minLength !== undefined && field.maxLength !== undefined
        ? `${field.minLength} to ${field.maxLength} characters`
        : field.minLength !== undefined
          ? `At least ${field.minLength} characters`
          : `At most ${field.maxLength} characters`,
    );
  }
  if (field.control === 'multiselect') {
    const { minItems: min, maxItems: max } = field;
    hints.push(
      min !== undefined && max !== undefined
        ? `Choose ${min} to ${max}`
        : min !== undefined
          ? `Choose at least ${min}`
          : max !== undefined
            ? `Choose at most ${max}`
            : 'Choose any that apply',
    );
  }
  const described = [`${id}-hint`, `${id}-error`].join(' ');
  const hintEl = h(
    'p',
    { class: 'hint', id: `${id}-hint` },
    [field.description, ...hints].filter((text) => text !== undefined && text !== '').join(' · '),
  );
  const required = field.required ? h('span', { class: 'required', title: 'required' }, ' *') : null;
  const name = field.label !== field.name ? h('code', { class: 'field-name' }, field.name) : null;
  const common = {
    disabled: !canDecide,
    'aria-required': field.required ? 'true' : false,
    'aria-describedby': described,
    'data-field': field.name,
  };

  if (field.control === 'checkbox') {
    const input = h('input', {
      ...common,
      type: 'checkbox',
      id,
      checked: values[field.name] === true,
      onchange: (/** @type {Event} */ event) => {
        values[field.name] = /** @type {HTMLInputElement} */ (event.target).checked;
      },
    });
    const wrap = h(
      'div',
      { class: 'field elicitation-field', 'data-field': field.name },
      h('label', { class: 'check', for: id }, input, h('span', null, field.label, required), name),
      hintEl,
      error,
    );
    return { wrap, error, inputs: [input] };
  }

  if (field.control === 'multiselect') {
    const chosen = new Set(Array.isArray(values[field.name]) ? /** @type {string[]} */ (values[field.name]) : []);
    const boxes = (field.options ?? []).map((option) =>
      h('input', {
        type: 'checkbox',
        value: option.value,
        checked: chosen.has(option.value),
        disabled: !canDecide,
        onchange: () => {
          values[field.name] = boxes
            .filter((box) => /** @type {HTMLInputElement} */ (box).checked)
            .map((box) => /** @type {HTMLInputElement} */ (box).value);
        },
      }),
    );
    const wrap = h(
      'fieldset',
      { class: 'field elicitation-field', 'data-field': field.name, 'aria-describedby': described },
      h('legend', { class: 'label' }, field.label, required, name),
      h(
        'div',
        { class: 'options choices' },
        (field.options ?? []).map((option, i) =>
          h(
            'label',
            { class: 'option' },
            boxes[i],
            h(
              'span',
              null,
              h('span', { class: 'option-label' }, option.label),
              option.label !== option.value ? h('span', { class: 'option-help' }, option.value) : null,
            ),
          ),
        ),
      ),
      hintEl,
      error,
    );
    return { wrap, error, inputs: boxes };
  }

  /** @type {HTMLElement} */
  let input;
  if (field.control === 'select') {
    const current = typeof values[field.name] === 'string' ? values[field.name] : '';
    const options = field.options ?? [];
    // An empty choice, unless a required field starts on the server's default.
    const empty = !(field.required && current !== '');
    input = h(
      'select',
      {
        ...common,
        id,
        onchange: (/** @type {Event} */ event) => {
          values[field.name] = /** @type {HTMLSelectElement} */ (event.target).value;
        },
      },
      empty ? h('option', { value: '', selected: current === '' }, field.required ? '— Choose —' : '— None —') : null,
      options.map((option) =>
        h(
          'option',
          { value: option.value, selected: option.value === current },
          option.label !== option.value ? `${option.label} (${option.value})` : option.label,
        ),
      ),
    );
  } else {
    const number = field.control === 'number';
    input = h('input', {
      ...common,
      id,
      type: number ? 'number' : (field.inputType ?? 'text'),
      value: typeof values[field.name] === 'string' ? values[field.name] : '',
      ...(number
        ? {
            step: field.integer ? '1' : 'any',
            min: field.min,
            max: field.max,
            inputmode: field.integer ? 'numeric' : 'decimal',
          }
        : { maxlength: field.maxLength, minlength: field.minLength }),
      placeholder: field.inputType === 'text' && field.hint ? '2026-11-26T14:30:00Z' : undefined,
      spellcheck: 'false',
      autocomplete: 'off',
      oninput: (/** @type {Event} */ event) => {
        values[field.name] = /** @type {HTMLInputElement} */ (event.target).value;
      },
    });
  }
  const wrap = h(
    'div',
    { class: 'field elicitation-field', 'data-field': field.name },
    h('label', { class: 'label', for: id }, field.label, required, name),
    input,
    hintEl,
    error,
  );
  return { wrap, error, inputs: [input] };
}

// ---------------------------------------------------------------------------------------------------
// Transcript and audit log

/**
 * The run's messages: the latest ones as the run state shows them (long contents previewed), or, once asked
 * for, the whole transcript read from the content store.
 * @param {RunView} run
 * @param {{ full: () => ({ messages: ChatMessage[]; total: number } | null); load: (total: number) => Promise<void> }} transcript
 */
function transcriptCard(run, transcript) {
  const total = run.messagesTotal ?? run.messages.length;
  const full = transcript.full();
  const whole = full !== null && full.total >= total;
  const messages = whole ? full.messages : run.messages;
  const partial =
    !whole && (total > run.messages.length || run.messages.some((message) => message.contentChars !== undefined));
  const more = partial
    ? h(
        'button',
        {
          type: 'button',
          class: 'btn btn-secondary btn-sm',
          onclick: (/** @type {Event} */ event) => {
            const button = /** @type {HTMLButtonElement} */ (event.currentTarget);
            button.disabled = true;
            button.textContent = 'Loading…';
            transcript.load(total).catch(() => {
              button.disabled = false;
              button.textContent = 'Could not load the transcript; try again';
            });
          },
        },
        `Show all ${plural(total, 'message')} in full`,
      )
    : null;
  const items = messages.map((message) => {
    switch (message.role) {
      case 'assistant':
        return h(
          'li',
          { class: 'message message-assistant' },
          h('span', { class: 'role' }, 'Assistant'),
          h(
            'div',
            null,
            message.content ? h('div', { class: 'message-text' }, message.content) : null,
            (message.tool_calls ?? []).map((call) =>
              h(
                'div',
                { class: 'tool-call' },
                h('span', { class: 'arrow' }, '→ '),
                h('strong', null, call.name),
                ` ${clip(JSON.stringify(call.arguments), 160)}`,
                h('span', { class: 'muted' }, `  ${call.id}`),
              ),
            ),
          ),
        );
      case 'tool':
        return h(
          'li',
          { class: 'message message-tool tool-result' },
          h('span', { class: 'role' }, 'Tool'),
          h(
            'div',
            null,
            h(
              'div',
              { class: 'tool-result-head' },
              h(
                'span',
                { class: 'tool-call flat' },
                h('strong', null, message.name),
                h('span', { class: 'muted' }, ` ${message.tool_call_id}`),
              ),
              h('span', { class: `badge badge-${message.status}` }, message.status),
            ),
            codeBlock(message.content),
          ),
        );
      default:
        return h(
          'li',
          { class: `message message-${message.role}` },
          h('span', { class: 'role' }, message.role === 'user' ? 'User' : 'System'),
          h('div', { class: 'message-text' }, message.content),
        );
    }
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'transcript-title' },
    h(
      'div',
      { class: 'card-header' },
      h('h2', { id: 'transcript-title' }, 'Transcript'),
      h(
        'span',
        { class: 'count' },
        partial
          ? `latest ${messages.length} of ${plural(total, 'message')}, long ones shortened`
          : plural(total, 'message'),
      ),
      more,
    ),
    h('ol', { class: 'transcript' }, items),
  );
}

/** @param {AuditEntry[]} entries */
function auditCard(entries) {
  const body =
    entries.length === 0
      ? h(
          'div',
          { class: 'empty' },
          h('strong', null, 'No decisions yet'),
          'Every resolution attempt, accepted or refused, is listed here.',
        )
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'audit' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                h('th', { scope: 'col', class: 'nowrap' }, 'When'),
                h('th', { scope: 'col' }, 'Outcome'),
                h('th', { scope: 'col' }, 'By'),
                h('th', { scope: 'col' }, 'Via'),
                h('th', { scope: 'col' }, 'Details'),
              ),
            ),
            h(
              'tbody',
              null,
              [...entries]
                .reverse()
                .map((entry) =>
                  h(
                    'tr',
                    null,
                    h(
                      'td',
                      { class: 'nowrap' },
                      h('time', { datetime: entry.at, title: absoluteTime(entry.at) }, clockTime(entry.at)),
                    ),
                    h('td', null, h('span', { class: `badge badge-${entry.outcome}` }, entry.outcome)),
                    h('td', null, entry.approver ?? h('span', { class: 'muted' }, '—')),
                    h('td', null, h('span', { class: 'chip' }, entry.via)),
                    h('td', null, auditDetails(entry)),
                  ),
                ),
            ),
          ),
        );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'audit-title' },
    h(
      'div',
      { class: 'card-header' },
      h(
        'div',
        null,
        h('h2', { id: 'audit-title' }, 'Audit log'),
        h('div', { class: 'sub' }, 'Newest first · recorded in the workflow history'),
      ),
      h('span', { class: 'count' }, plural(entries.length, 'entry', 'entries')),
    ),
    h('div', { class: 'card-body flush' }, body),
  );
}

/** @param {AuditEntry} entry */
function auditDetails(entry) {
  /** @type {Child[]} */
  const parts = [];
  if (entry.decisions && entry.decisions.length > 0) {
    parts.push(
      h(
        'div',
        { class: 'decisions' },
        entry.decisions.map((d) =>
          h(
            'span',
            null,
            h('code', null, d.tool_call_id),
            ` ${d.decision}${d.decision === 'approve' && d.scope ? ` · ${d.scope}` : ''}`,
          ),
        ),
      ),
    );
  }
  if (entry.grant) parts.push(h('div', null, `Remembered ${entry.grant.tool} (${entry.grant.scope})`));
  if (entry.refusal) {
    parts.push(h('div', { class: 'refusal' }, h('strong', null, entry.refusal.type), ` — ${entry.refusal.message}`));
  }
  if (entry.message && !entry.refusal) parts.push(h('div', { class: 'muted' }, entry.message));
  if (entry.actionId)
    parts.push(h('div', { class: 'muted small' }, 'action ', h('code', null, entry.actionId.slice(0, 8))));
  return parts.length > 0 ? parts : h('span', { class: 'muted' }, '—');
}

// ---------------------------------------------------------------------------------------------------
// Grants

function grantsView() {
  const content = h('div', { class: 'card-body flush' }, h('p', { class: 'loading padded' }, 'Loading…'));
  const notices = h('div', { class: 'notices' });
  let stopped = false;

  const load = async () => {
    try {
      /** @type {{ grants: Grant[] }} */
      const body = await api('GET', '/grants');
      if (stopped) return;
      content.replaceChildren(grantsTable(body.grants, revoke));
    } catch (error) {
      if (!stopped && asFailure(error).status !== 401)
        notices.replaceChildren(errorAlert(error, 'The grants could not be read'));
    }
  };

  /**
   * @param {Grant} grant
   * @param {HTMLButtonElement} button
   */
  const revoke = async (grant, button) => {
    button.disabled = true;
    button.textContent = 'Revoking…';
    try {
      /** @type {{ revoked: number }} */
      const result = await api('POST', '/grants/revoke', {
        tool: grant.tool,
        scope: grant.scope,
        ...(grant.scope === 'session' && grant.conversationId ? { conversationId: grant.conversationId } : {}),
      });
      notices.replaceChildren(
        result.revoked > 0
          ? notice(
              'success',
              `Revoked ${grant.tool} (${grantScopeLabel(grant)})`,
              'Runs ask again from their next decision on.',
            )
          : notice('info', 'Nothing to revoke', 'That grant was already gone.'),
      );
      await load();
    } catch (error) {
      button.disabled = false;
      button.textContent = 'Revoke';
      if (asFailure(error).status !== 401) notices.replaceChildren(errorAlert(error, 'The grant could not be revoked'));
    }
  };

  const el = h(
    'section',
    null,
    h(
      'div',
      { class: 'page-header' },
      h(
        'div',
        null,
        h('h1', null, 'Remembered approvals'),
        h(
          'p',
          { class: 'lede' },
          'Tools you approved with “This conversation” or “Always”. They run without asking until you revoke them (a policy deny or explicit ask still wins).',
        ),
      ),
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: load }, 'Refresh'),
    ),
    notices,
    h('div', { class: 'card' }, content),
  );
  void load();
  return {
    el,
    dispose() {
      stopped = true;
    },
  };
}

/** @param {Grant} grant */
function grantScopeLabel(grant) {
  return grant.scope === 'always' ? 'always' : `conversation ${grant.conversationId ?? ''}`;
}

/**
 * @param {Grant[]} grants
 * @param {(grant: Grant, button: HTMLButtonElement) => Promise<void>} revoke
 */
function grantsTable(grants, revoke) {
  if (grants.length === 0) {
    return h(
      'div',
      { class: 'empty' },
      h('strong', null, 'No remembered approvals'),
      'Approve a tool call with “This conversation” or “Always” and it is listed here.',
    );
  }
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      null,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Tool'),
          h('th', { scope: 'col' }, 'Scope'),
          h('th', { scope: 'col' }, 'Conversation'),
          h('th', { scope: 'col' }, 'Granted by'),
          h('th', { scope: 'col' }, 'From run'),
          h('th', { scope: 'col', class: 'nowrap' }, 'Granted'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
        ),
      ),
      h(
        'tbody',
        null,
        grants.map((grant) => {
          const button = /** @type {HTMLButtonElement} */ (
            h(
              'button',
              {
                type: 'button',
                class: 'btn btn-danger btn-sm',
                'aria-label': `Revoke ${grant.tool} (${grantScopeLabel(grant)})`,
                onclick: () => void revoke(grant, button),
              },
              'Revoke',
            )
          );
          return h(
            'tr',
            { 'data-tool': grant.tool },
            h('td', null, h('span', { class: 'chip' }, grant.tool)),
            h(
              'td',
              null,
              h(
                'span',
                { class: `badge ${grant.scope === 'always' ? 'badge-info' : 'badge-ok'} plain` },
                grant.scope === 'always' ? 'Always' : 'Conversation',
              ),
            ),
            h('td', null, grant.conversationId ?? h('span', { class: 'muted' }, 'every conversation')),
            h('td', null, grant.grantedBy),
            h('td', null, h('a', { class: 'run-link', href: runHref(grant.runId), title: grant.runId }, grant.runId)),
            h('td', { class: 'nowrap' }, timeAgo(grant.grantedAt)),
            h('td', { class: 'actions' }, button),
          );
        }),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------
// Start

async function loadConfig() {
  try {
    const response = await fetch('/console/config.json', { headers: { accept: 'application/json' } });
    if (response.ok) app.config = { ...app.config, ...(await response.json()) };
  } catch {
    // The console works without it; only the Web UI links are missing.
  }
}

async function start() {
  takeTokenFromFragment();
  app.token = sessionStorage.getItem(TOKEN_KEY);
  $('#sign-out').addEventListener('click', () => signOut());
  await loadConfig();
  renderSession();
  window.addEventListener('hashchange', () => {
    takeTokenFromFragment();
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token !== app.token) {
      app.token = token;
      renderSession();
    }
    route();
  });
  route();
  // Relative times ("in 23 h") stay current.
  setInterval(() => {
    for (const el of document.querySelectorAll('time[data-relative]')) {
      if (!(el instanceof HTMLElement)) continue;
      el.textContent = relativeTime(el.getAttribute('datetime') ?? '');
      markSoon(el);
    }
  }, 20_000);
}

void start();
