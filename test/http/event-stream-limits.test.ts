// Event streams are bounded (found by a trust review): one caller may hold only so many open at once (each polls
// a worker every second), and a stream ends when the token it was opened with expires.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApi, issueDevToken, type ErrorBody } from '../../src/server';
import { call, eventually, scriptedInput, startHarness, type Harness } from '../workflow/harness';
import { openSse, request, type SseStream } from './client';

const SECRET = randomBytes(32).toString('base64url');

describe('HTTP API: event stream limits (real dev server)', function () {
  this.timeout(120_000);
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  const user = `streams-${randomUUID()}`;
  let token: string;
  let runId: string;
  const opened: SseStream[] = [];

  before(async () => {
    h = await startHarness();
    app = buildApi({
      client: h.client,
      auth: { kind: 'secret', secret: SECRET },
      events: { pollIntervalMs: 200 },
      maxStreamsPerCaller: 2,
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    token = await issueDevToken(SECRET, user, 600);
    // A run that stays paused: its streams stay open.
    ({ runId } = await h.client.startRun(
      scriptedInput(
        [
          { tool_calls: [call('call_1', 'append_file', { path: 'streams/a.txt', content: 'A' })] },
          { content: 'Done.' },
        ],
        { userId: user, conversationId: `c-${randomUUID()}` },
      ),
    ));
    await h.client.waitForPendingAction(runId, { timeoutMs: 60_000 });
  });
  after(async () => {
    for (const stream of opened) stream.close();
    await app?.close();
    await h?.stop();
  });

  const open = async (withToken = token): Promise<SseStream> => {
    const stream = await openSse(`${base}/runs/${runId}/events`, withToken);
    opened.push(stream);
    return stream;
  };

  it('one caller holds at most maxStreamsPerCaller streams (429 TooManyStreams); a closed one frees its slot', async () => {
    const first = await open();
    const second = await open();
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal((await second.next())?.event, 'status');
    const refused = await request<ErrorBody>(base, 'GET', `/runs/${runId}/events`, { token });
    assert.equal(refused.status, 429);
    assert.equal(refused.body.type, 'TooManyStreams');

    first.close();
    second.close();
    const again = await eventually(async () => {
      const stream = await open();
      if (stream.status === 200) return stream;
      stream.close();
      return undefined;
    }, 'a slot frees up');
    assert.equal((await again.next())?.event, 'status');
    again.close();
  });

  it('a stream ends with an error event TokenExpired when its token expires', async () => {
    const shortLived = await issueDevToken(SECRET, user, 3);
    const stream = await eventually(async () => {
      const candidate = await open(shortLived);
      if (candidate.status === 200) return candidate;
      candidate.close();
      return undefined;
    }, 'a stream opens');
    const events = await stream.rest(15_000);
    const last = events[events.length - 1];
    assert.equal(last?.event, 'error', JSON.stringify(events));
    assert.equal((last?.data as { type?: string }).type, 'TokenExpired');
  });
});
