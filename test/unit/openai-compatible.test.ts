import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { CallModelRequest, ChatMessage } from '../../src/contracts';
import {
  createActivities,
  createDefaultToolRegistry,
  INVALID_ARGUMENTS_KEY,
  ModelErrorType,
  OpenAICompatibleModel,
  parseActivitiesConfig,
  retryAfterMsFromHeaders,
  RETRY_AFTER_MAX_MS,
  RETRY_AFTER_MIN_MS,
  toModelMessages,
  type ActivitiesConfigInput,
  type ModelFailureDetails,
} from '../../src/activities';
import { Secret } from '../../src/activities/config';

const API_KEY = 'sk-test-0123456789-very-secret';

interface ReceivedRequest {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

interface FakeReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A tiny OpenAI-compatible endpoint on 127.0.0.1: records requests, answers from a queue. */
class FakeOpenAIServer {
  readonly requests: ReceivedRequest[] = [];
  readonly replies: Array<FakeReply | 'hang' | ((request: ReceivedRequest) => FakeReply)> = [];
  #server: Server | undefined;

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const received: ReceivedRequest = {
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        };
        this.requests.push(received);
        const next = this.replies.shift() ?? { status: 500, body: { error: { message: 'no reply queued' } } };
        if (next === 'hang') return; // never answer: the client has to abort
        const reply = typeof next === 'function' ? next(received) : next;
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/v1`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

function completion(message: Record<string, unknown>, finishReason: string): FakeReply {
  return {
    status: 200,
    body: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'fake-model',
      choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    },
  };
}

const transcript: ChatMessage[] = [
  { role: 'system', content: 'You manage files.' },
  { role: 'user', content: 'Delete old.txt and read notes.txt' },
  {
    role: 'assistant',
    content: 'Reading first.',
    tool_calls: [
      { id: 'call_1', name: 'read_file', arguments: { path: 'notes.txt' } },
      { id: 'call_2', name: 'delete_file', arguments: { path: 'old.txt' } },
    ],
  },
  { role: 'tool', tool_call_id: 'call_1', name: 'read_file', status: 'success', content: 'hello notes' },
  { role: 'tool', tool_call_id: 'call_2', name: 'delete_file', status: 'error', content: 'Blocked: too risky' },
  { role: 'assistant', content: 'The delete was blocked.' },
  { role: 'user', content: 'Try again' },
];

function request(overrides: Partial<CallModelRequest> = {}): CallModelRequest {
  return {
    runId: 'run-1',
    callIndex: 0,
    model: { provider: 'openai-compatible' },
    messages: transcript,
    tools: ['read_file', 'delete_file', 'not_registered'],
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

describe('openai-compatible model provider', function () {
  const server = new FakeOpenAIServer();
  let baseUrl: string;

  before(async function () {
    baseUrl = await server.start();
  });
  after(async function () {
    await server.stop();
  });
  beforeEach(function () {
    server.requests.length = 0;
    server.replies.length = 0;
  });

  function activities(model: ActivitiesConfigInput['model'] = {}) {
    return createActivities(
      parseActivitiesConfig({
        sandboxDir: '/nonexistent-sandbox',
        model: { baseUrl, apiKey: API_KEY, defaultModel: 'fake-model', ...model },
      }),
    );
  }

  it('sends the mapped transcript and the offered tools, and maps a tool-call answer', async function () {
    server.replies.push(
      completion(
        {
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'delete_file', arguments: '{"path":"old.txt"}' } },
            { id: 'call_b', type: 'function', function: { name: 'list_files', arguments: '{}' } },
          ],
        },
        'tool_calls',
      ),
    );
    const turn = await activities().callModel(request());

    assert.deepEqual(turn, {
      tool_calls: [
        { id: 'call_a', name: 'delete_file', arguments: { path: 'old.txt' } },
        { id: 'call_b', name: 'list_files', arguments: {} },
      ],
    });

    assert.equal(server.requests.length, 1, 'one model step, no SDK retries');
    const received = server.requests[0]!;
    assert.equal(received.method, 'POST');
    assert.equal(received.url, '/v1/chat/completions');
    assert.equal(received.headers.authorization, `Bearer ${API_KEY}`);
    const body = received.body;
    assert.equal(body.model, 'fake-model');
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'You manage files.' },
      { role: 'user', content: 'Delete old.txt and read notes.txt' },
      {
        role: 'assistant',
        content: 'Reading first.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"path":"notes.txt"}' } },
          { id: 'call_2', type: 'function', function: { name: 'delete_file', arguments: '{"path":"old.txt"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'hello notes' },
      { role: 'tool', tool_call_id: 'call_2', content: 'Blocked: too risky' },
      { role: 'assistant', content: 'The delete was blocked.' },
      { role: 'user', content: 'Try again' },
    ]);

    const tools = body.tools as Array<{
      type: string;
      function: { name: string; description: string; parameters: Record<string, unknown> };
    }>;
    assert.deepEqual(
      tools.map((t) => t.function.name),
      ['read_file', 'delete_file'],
      'only requested tools that exist in the registry',
    );
    for (const t of tools) {
      assert.equal(t.type, 'function');
      assert.ok(t.function.description.length > 0);
      assert.equal(t.function.parameters.type, 'object');
      assert.deepEqual(t.function.parameters.required, ['path']);
      assert.deepEqual((t.function.parameters.properties as Record<string, { type: string }>).path?.type, 'string');
    }
    assert.equal(body.tool_choice, 'auto');
  });

  it('maps a text answer and honours model / temperature / maxOutputTokens from the run input', async function () {
    server.replies.push(completion({ content: 'All done.' }, 'stop'));
    const turn = await activities().callModel(
      request({
        model: { provider: 'openai-compatible', model: 'other-model', temperature: 0.2, maxOutputTokens: 64 },
        tools: [],
      }),
    );
    assert.deepEqual(turn, { content: 'All done.' });
    const body = server.requests[0]!.body;
    assert.equal(body.model, 'other-model');
    assert.equal(body.temperature, 0.2);
    assert.equal(body.max_tokens, 64);
    assert.equal(body.tools, undefined, 'no tools offered when none are requested');
  });

  it('keeps text and tool calls of one turn together', async function () {
    server.replies.push(
      completion(
        {
          content: 'Let me look.',
          tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'read_file', arguments: '{"path":"a"}' } }],
        },
        'tool_calls',
      ),
    );
    const turn = await activities().callModel(request());
    assert.deepEqual(turn, {
      content: 'Let me look.',
      tool_calls: [{ id: 'call_x', name: 'read_file', arguments: { path: 'a' } }],
    });
  });

  it('carries unparseable tool arguments so the registry refuses them', async function () {
    server.replies.push(
      completion(
        {
          content: null,
          tool_calls: [{ id: 'call_bad', type: 'function', function: { name: 'read_file', arguments: '{"path":' } }],
        },
        'tool_calls',
      ),
    );
    const turn = await activities().callModel(request());
    const call = turn.tool_calls?.[0];
    assert.ok(call);
    assert.equal(call.name, 'read_file');
    assert.equal(call.arguments[INVALID_ARGUMENTS_KEY], '{"path":');
    const result = await createDefaultToolRegistry().execute(call.name, call.arguments, {
      idempotencyKey: 'k',
      runId: 'r',
      userId: 'u1',
      conversationId: 'c1',
      toolCallId: call.id,
      sandboxDir: '/nonexistent-sandbox',
    });
    assert.equal(result.status, 'error');
    assert.match(result.content, /^Invalid arguments for "read_file"/);
  });

  it('turns a 401 into a non-retryable failure that does not leak the key', async function () {
    server.replies.push((req) => ({
      status: 401,
      // A hostile server that echoes the credential back.
      body: {
        error: {
          message: `Incorrect API key provided: ${String(req.headers.authorization)}`,
          type: 'invalid_request_error',
        },
      },
    }));
    const error = await rejection(activities().callModel(request()));
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, ModelErrorType.RequestRejected);
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /HTTP 401/);
    assert.match(error.message, /\[redacted\]/);
    assert.equal(error.cause, undefined, 'no cause chain to serialize');
    const everything = JSON.stringify({ message: error.message, stack: error.stack, details: error.details });
    assert.ok(!everything.includes(API_KEY), 'the key must not appear in the failure');
  });

  for (const status of [408, 429, 500, 503]) {
    it(`turns HTTP ${status} into a retryable failure`, async function () {
      server.replies.push({ status, body: { error: { message: 'try later' } } });
      const error = await rejection(activities().callModel(request()));
      assert.ok(error instanceof ApplicationFailure, String(error));
      assert.equal(error.type, ModelErrorType.Unavailable);
      assert.equal(error.nonRetryable, false);
      assert.equal(server.requests.length, 1, 'Temporal retries, not the SDK');
    });
  }

  it('turns a network error into a retryable failure', async function () {
    const unused = new FakeOpenAIServer();
    const deadUrl = await unused.start();
    await unused.stop();
    const error = await rejection(activities({ baseUrl: deadUrl }).callModel(request()));
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, ModelErrorType.Unavailable);
    assert.equal(error.nonRetryable, false);
    assert.ok(!error.message.includes(API_KEY));
  });

  it('fails non-retryably when the worker has no base URL', async function () {
    const unconfigured = createActivities(parseActivitiesConfig({ sandboxDir: '/tmp/x', model: { apiKey: API_KEY } }));
    const error = await rejection(
      unconfigured.callModel(request({ model: { provider: 'openai-compatible', model: 'm' } })),
    );
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.type, ModelErrorType.NotConfigured);
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /HITL_MODEL_BASE_URL/);
    assert.ok(!error.message.includes(API_KEY));
  });

  it('fails non-retryably when no model name is known', async function () {
    const error = await rejection(activities({ defaultModel: undefined }).callModel(request()));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.type, ModelErrorType.NotConfigured);
    assert.match(error.message, /HITL_MODEL_NAME/);
    assert.equal(server.requests.length, 0);
  });

  it('refuses a transcript with a tool call that has no result, without calling the endpoint', async function () {
    const error = await rejection(
      activities().callModel(
        request({
          messages: [
            { role: 'user', content: 'hi' },
            { role: 'assistant', tool_calls: [{ id: 'c1', name: 'noop', arguments: {} }] },
          ],
        }),
      ),
    );
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, ModelErrorType.InvalidRequest);
    assert.equal(error.nonRetryable, true);
    assert.equal(server.requests.length, 0);
  });

  it('heartbeats while waiting and aborts the HTTP call when the activity is cancelled', async function () {
    server.replies.push('hang');
    const env = new MockActivityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => (heartbeats += 1));
    const running = env.run(activities().callModel, request());
    // Heartbeats come every second from the first second on (not at the start).
    setTimeout(() => env.cancel(), 2300);
    const error = await rejection(running);
    assert.ok(error instanceof Error);
    assert.ok(['AbortError', 'CancelledFailure'].includes(error.name), `${error.name}: ${error.message}`);
    assert.ok(heartbeats >= 2, `heartbeats: ${heartbeats}`);
  });

  it('merges consecutive tool messages into one AI SDK tool message', function () {
    const messages = toModelMessages(transcript);
    assert.deepEqual(
      messages.map((m) => m.role),
      ['system', 'user', 'assistant', 'tool', 'assistant', 'user'],
    );
    const toolMessage = messages[3];
    assert.ok(toolMessage?.role === 'tool');
    assert.deepEqual(toolMessage.content, [
      {
        type: 'tool-result',
        toolCallId: 'call_1',
        toolName: 'read_file',
        output: { type: 'text', value: 'hello notes' },
      },
      {
        type: 'tool-result',
        toolCallId: 'call_2',
        toolName: 'delete_file',
        output: { type: 'error-text', value: 'Blocked: too risky' },
      },
    ]);
  });
});

describe('model failures tell Temporal how to retry (real HTTP endpoint on 127.0.0.1)', function () {
  const server = new FakeOpenAIServer();
  let baseUrl: string;

  before(async function () {
    baseUrl = await server.start();
  });
  after(async function () {
    await server.stop();
  });
  beforeEach(function () {
    server.requests.length = 0;
    server.replies.length = 0;
  });

  function activities(model: ActivitiesConfigInput['model'] = {}) {
    return createActivities(
      parseActivitiesConfig({
        sandboxDir: '/nonexistent-sandbox',
        model: { baseUrl, apiKey: API_KEY, defaultModel: 'fake-model', ...model },
      }),
    );
  }

  /** The failure of one call; the key must appear nowhere in it (the endpoint echoes it back, multi-line). */
  async function failureFor(
    status: number | undefined,
    headers: Record<string, string> = {},
    model: ActivitiesConfigInput['model'] = {},
  ): Promise<ApplicationFailure & { details: [ModelFailureDetails] }> {
    if (status !== undefined) {
      server.replies.push((req) => ({
        status,
        headers,
        body: { error: { message: `Refused for ${String(req.headers.authorization)}\nsee the docs`, type: 'x' } },
      }));
    }
    const error = await rejection(activities(model).callModel(request()));
    assert.ok(error instanceof ApplicationFailure, String(error));
    const everything = JSON.stringify({ message: error.message, stack: error.stack, details: error.details });
    assert.ok(!everything.includes(API_KEY), `the key leaked: ${error.message}`);
    assert.ok(!everything.includes(API_KEY.slice(0, 12)), `part of the key leaked: ${error.message}`);
    assert.ok(!error.message.includes('\n'), 'one line');
    assert.equal(error.cause, undefined, 'no cause chain to serialize');
    assert.equal(error.details?.length, 1);
    if (status !== undefined) assert.equal(server.requests.length, 1, 'the SDK does not retry');
    return error as ApplicationFailure & { details: [ModelFailureDetails] };
  }

  it('429 with Retry-After: 7 → retryable ModelUnavailable, nextRetryDelay 7 s', async function () {
    const error = await failureFor(429, { 'retry-after': '7' });
    assert.equal(error.type, ModelErrorType.Unavailable);
    assert.equal(error.nonRetryable, false);
    assert.equal(error.nextRetryDelay, 7000);
    assert.deepEqual(error.details[0], { statusCode: 429, retryAfterMs: 7000 });
    assert.equal(
      error.message,
      'The model endpoint is unavailable: HTTP 429 Too Many Requests (retry after 7 s): Refused for Bearer [redacted] see the docs',
    );
  });

  it('429 with Retry-After as an HTTP date → the time until that date', async function () {
    const error = await failureFor(429, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() });
    assert.equal(error.type, ModelErrorType.Unavailable);
    assert.equal(error.nonRetryable, false);
    const delay: unknown = error.nextRetryDelay;
    assert.ok(typeof delay === 'number' && delay > 27_000 && delay <= 30_000, `nextRetryDelay ${String(delay)}`);
    assert.deepEqual(error.details[0], { statusCode: 429, retryAfterMs: delay });
    assert.match(error.message, /^The model endpoint is unavailable: HTTP 429 Too Many Requests \(retry after \d/);
  });

  it('503 without Retry-After → retryable, Temporal’s own back-off (no nextRetryDelay)', async function () {
    const error = await failureFor(503);
    assert.equal(error.type, ModelErrorType.Unavailable);
    assert.equal(error.nonRetryable, false);
    assert.equal(error.nextRetryDelay, undefined);
    assert.deepEqual(error.details[0], { statusCode: 503, retryAfterMs: null });
    assert.match(error.message, /^The model endpoint is unavailable: HTTP 503 Service Unavailable: Refused for/);
  });

  it('503 with retry-after-ms: it wins over Retry-After', async function () {
    const error = await failureFor(503, { 'retry-after-ms': '1500', 'retry-after': '60' });
    assert.equal(error.nextRetryDelay, 1500);
    assert.deepEqual(error.details[0], { statusCode: 503, retryAfterMs: 1500 });
    assert.match(error.message, /\(retry after 1\.5 s\)/);
  });

  it(`Retry-After is clamped to ${RETRY_AFTER_MIN_MS / 1000} s .. ${RETRY_AFTER_MAX_MS / 60_000} min`, async function () {
    const long = await failureFor(429, { 'retry-after': '86400' });
    assert.equal(long.nextRetryDelay, RETRY_AFTER_MAX_MS);
    assert.deepEqual(long.details[0], { statusCode: 429, retryAfterMs: RETRY_AFTER_MAX_MS });
    server.requests.length = 0;
    const zero = await failureFor(503, { 'retry-after': '0' });
    assert.equal(zero.nextRetryDelay, RETRY_AFTER_MIN_MS);
  });

  it('409 → retryable ModelUnavailable', async function () {
    const error = await failureFor(409);
    assert.equal(error.type, ModelErrorType.Unavailable);
    assert.equal(error.nonRetryable, false);
    assert.deepEqual(error.details[0], { statusCode: 409, retryAfterMs: null });
    assert.match(error.message, /HTTP 409 Conflict/);
  });

  it('400 → non-retryable ModelRequestRejected', async function () {
    const error = await failureFor(400);
    assert.equal(error.type, ModelErrorType.RequestRejected);
    assert.equal(error.nonRetryable, true);
    assert.equal(error.nextRetryDelay, undefined);
    assert.deepEqual(error.details[0], { statusCode: 400, retryAfterMs: null });
    assert.equal(
      error.message,
      'The model endpoint rejected the request with HTTP 400 Bad Request: Refused for Bearer [redacted] see the docs',
    );
  });

  it('401 (even with Retry-After) → non-retryable, no nextRetryDelay, the wait kept in details', async function () {
    const error = await failureFor(401, { 'retry-after': '5' });
    assert.equal(error.type, ModelErrorType.RequestRejected);
    assert.equal(error.nonRetryable, true);
    assert.equal(error.nextRetryDelay, undefined);
    assert.deepEqual(error.details[0], { statusCode: 401, retryAfterMs: 5000 });
    assert.match(error.message, /^The model endpoint rejected the request with HTTP 401 Unauthorized: /);
  });

  it('a closed port → retryable ModelUnavailable naming the cause', async function () {
    const unused = new FakeOpenAIServer();
    const deadUrl = await unused.start();
    await unused.stop();
    const port = new URL(deadUrl).port;
    const error = await failureFor(undefined, {}, { baseUrl: deadUrl });
    assert.equal(error.type, ModelErrorType.Unavailable);
    assert.equal(error.nonRetryable, false);
    assert.equal(error.nextRetryDelay, undefined);
    assert.deepEqual(error.details[0], { statusCode: null, retryAfterMs: null });
    assert.equal(error.message, `Cannot connect to the model endpoint: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('a host that does not resolve → retryable ModelUnavailable naming the DNS failure', async function () {
    const error = await failureFor(undefined, {}, { baseUrl: 'http://nowhere.invalid/v1' });
    assert.equal(error.type, ModelErrorType.Unavailable);
    assert.equal(error.nonRetryable, false);
    assert.match(
      error.message,
      /^Cannot connect to the model endpoint: getaddrinfo (ENOTFOUND|EAI_AGAIN) nowhere\.invalid/,
    );
  });

  it('a configured provider is named by its label; a long answer is cut, the key still redacted', async function () {
    const model = new OpenAICompatibleModel(
      {
        baseUrl,
        apiKey: new Secret(API_KEY),
        defaultModel: 'fake-model',
        label: 'provider "openai" (hitl.config.yaml providers.openai)',
      },
      createDefaultToolRegistry(),
    );
    // The key sits right where the message is cut: it must not survive in part.
    server.replies.push({
      status: 403,
      body: { error: { message: `${'x'.repeat(280)} ${API_KEY} ${'y'.repeat(500)}` } },
    });
    const error = await rejection(model.call(request(), { provider: 'openai-compatible' }));
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, ModelErrorType.RequestRejected);
    assert.match(
      error.message,
      /^Model endpoint provider "openai" \(hitl\.config\.yaml providers\.openai\) rejected the request with HTTP 403 Forbidden: x+ \[redacted\] y+…$/,
    );
    assert.ok(error.message.length < 500, `${error.message.length} characters`);
    assert.ok(!error.message.includes(API_KEY.slice(0, 8)));
  });

  it('reads Retry-After headers: seconds, dates, ms, case, garbage', function () {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMsFromHeaders({ 'retry-after': '7' }, now), 7000);
    assert.equal(retryAfterMsFromHeaders({ 'Retry-After': '2.5' }, now), 2500);
    assert.equal(retryAfterMsFromHeaders({ 'retry-after': 'Thu, 01 Jan 2026 00:01:00 GMT' }, now), 60_000);
    assert.equal(retryAfterMsFromHeaders({ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }, now), RETRY_AFTER_MIN_MS);
    assert.equal(retryAfterMsFromHeaders({ 'retry-after-ms': '250' }, now), RETRY_AFTER_MIN_MS);
    assert.equal(retryAfterMsFromHeaders({ 'retry-after-ms': '4200' }, now), 4200);
    assert.equal(retryAfterMsFromHeaders({ 'retry-after': 'soon' }, now), undefined);
    assert.equal(retryAfterMsFromHeaders({ 'retry-after': '-3' }, now), undefined);
    assert.equal(retryAfterMsFromHeaders({ 'retry-after-ms': 'x', 'retry-after': '3' }, now), 3000);
    assert.equal(retryAfterMsFromHeaders({}, now), undefined);
    assert.equal(retryAfterMsFromHeaders(undefined, now), undefined);
  });
});
