// Issue 13: conversations of any length. Contents live in the content store; nothing that crosses a Temporal
// boundary grows with the conversation. Against the real dev server (which suggests continue-as-new early,
// see test/hooks.ts), with the SQLite store of this test run.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { userSandboxDir } from '../../src/activities';
import { HitlClient, PayloadTooLargeError } from '../../src/client';
import { deleteExpiredContent, sharedContentStore } from '../../src/content-store';
import { RECENT_MESSAGES, MESSAGE_PREVIEW_CHARS, type ChatMessage } from '../../src/contracts';
import { chainHistories, largestPayloadBytes, workflowTaskFailures } from '../../src/dev/history';
import {
  call,
  maybeRecordHistory,
  readSandboxFile,
  scriptedInput,
  startHarness,
  waitForPending,
  type Harness,
} from './harness';

const KIB = 1024;
/** No payload of any event may come near Temporal's 2 MB limit: the issue asks for none over 256 KB. */
const MAX_EVENT_PAYLOAD_BYTES = 256 * KIB;

/** `size` characters of text that differ per `seed` (so each stored result is its own content). */
function text(size: number, seed: string): string {
  const line = `${seed} ${'lorem ipsum dolor sit amet '.repeat(3)}\n`;
  return line.repeat(Math.ceil(size / line.length)).slice(0, size);
}

async function readWholeTranscript(client: HitlClient, runId: string): Promise<ChatMessage[]> {
  const messages: ChatMessage[] = [];
  for (let fromSeq = 0; ;) {
    const page = await client.readMessages(runId, { fromSeq });
    messages.push(...page.messages);
    if (page.nextSeq >= page.total) return messages;
    fromSeq = page.nextSeq;
  }
}

describe('content store: conversations of any length (real dev server)', function () {
  this.timeout(15 * 60_000);
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  it('a run of 200 turns whose tool returns 500 KB each time completes; no payload over 256 KB, no failed task', async () => {
    const turns = 200;
    const folder = userSandboxDir(h.sandboxDir, 'u1');
    await mkdir(folder, { recursive: true });
    // One file per turn (each result is new content), 500 KB each: 100 MB through the run.
    for (let n = 0; n < turns; n += 1) await writeFile(join(folder, `big-${n}.txt`), text(500 * KIB, `file ${n}`));
    const script = Array.from({ length: turns }, (_, n) => ({
      tool_calls: [call(`read_${n}`, 'read_file', { path: `big-${n}.txt` })],
    }));
    const { runId } = await h.client.startRun(
      scriptedInput([...script, { content: 'read them all' }], {
        maxTurns: turns + 1,
        policy: { enabled: true, allow: ['read_file'] },
      }),
    );
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(result.finalMessage, 'read them all');
    // user + 200 × (assistant + tool) + final assistant
    assert.equal(result.messagesTotal, 1 + 2 * turns + 1);
    assert.ok(result.messages.length <= RECENT_MESSAGES);
    const shownTool = result.messages.find((m) => m.role === 'tool');
    assert.ok(shownTool && shownTool.content.length <= MESSAGE_PREVIEW_CHARS);
    assert.equal(shownTool.contentChars, 500 * KIB);

    const histories = await chainHistories(h.env.client, runId);
    assert.ok(histories.length > 1, 'the run continued as new on the way');
    assert.deepEqual(workflowTaskFailures(histories), []);
    const largest = largestPayloadBytes(histories);
    assert.ok(largest <= MAX_EVENT_PAYLOAD_BYTES, `largest payload ${largest} bytes`);

    // The store has every result whole, in order.
    const transcript = await readWholeTranscript(h.client, runId);
    assert.equal(transcript.length, 1 + 2 * turns + 1);
    const results = transcript.filter((m) => m.role === 'tool');
    assert.equal(results.length, turns);
    assert.equal(results[0]!.content, text(500 * KIB, 'file 0'));
    assert.equal(results[turns - 1]!.content, text(500 * KIB, `file ${turns - 1}`));
  });

  it('a run started with a 20 MB conversation completes: the client stages it; no payload over 256 KB', async () => {
    const conversation: ChatMessage[] = [];
    for (let n = 0; n < 200; n += 1) {
      conversation.push({ role: n % 2 === 0 ? 'user' : 'assistant', content: text(100 * KIB, `message ${n}`) });
    }
    conversation.push({ role: 'user', content: 'Summarise all of that' });
    const { runId } = await h.client.startRun(scriptedInput([{ content: 'summary' }], { messages: conversation }));
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    assert.equal(result.finalMessage, 'summary');
    assert.equal(result.messagesTotal, conversation.length + 1);

    const histories = await chainHistories(h.env.client, runId);
    assert.deepEqual(workflowTaskFailures(histories), []);
    const largest = largestPayloadBytes(histories);
    assert.ok(largest <= MAX_EVENT_PAYLOAD_BYTES, `largest payload ${largest} bytes`);

    const transcript = await readWholeTranscript(h.client, runId);
    assert.deepEqual(transcript.slice(0, conversation.length), conversation);
    assert.deepEqual(transcript[conversation.length], { role: 'assistant', content: 'summary' });
  });

  it('large tool arguments: the pending action holds a reference, the approver reads them whole, the tool gets them', async () => {
    const content = text(20 * KIB, 'report');
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('w1', 'write_file', { path: 'report.txt', content })] }, { content: 'ok' }]),
    );
    const pending = await waitForPending(h.client, runId);
    assert.equal(pending.payload.type, 'tool_approval');
    const request = pending.payload.action_requests[0]!;
    assert.deepEqual(request.arguments, {});
    assert.match(request.arguments_ref ?? '', /^sha256:/);
    const full = await h.client.pendingActionInFull(runId, pending);
    assert.equal(full.payload.type, 'tool_approval');
    assert.deepEqual(full.payload.action_requests[0]!.arguments, { path: 'report.txt', content });

    const outcome = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      decisions: [{ tool_call_id: 'w1', decision: 'approve' }],
    });
    assert.ok(outcome.ok);
    assert.equal((await h.client.result(runId)).status, 'completed');
    assert.equal(await readSandboxFile(h.sandboxDir, 'report.txt'), content);
    await maybeRecordHistory(h, runId, 'content-store-large-arguments');
    const transcript = await readWholeTranscript(h.client, runId);
    const assistant = transcript[1];
    assert.equal(assistant?.role, 'assistant');
    assert.deepEqual(assistant.role === 'assistant' && assistant.tool_calls?.[0]?.arguments, {
      path: 'report.txt',
      content,
    });
  });

  it('a closed run’s content is deleted by retention; a running one’s is kept', async () => {
    const store = sharedContentStore();
    const closed = await h.client.startRun(scriptedInput([{ content: 'bye' }]));
    await h.client.result(closed.runId);
    const open = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('a1', 'append_file', { path: 'r.txt', content: 'x' })] }]),
    );
    await waitForPending(h.client, open.runId);
    assert.equal((await h.client.readMessages(closed.runId)).total, 2);
    assert.equal((await h.client.readMessages(open.runId)).total, 2);

    // Retention 0, as seen a second from now: everything closed so far goes, nothing that runs.
    const deleted = await deleteExpiredContent(store, 0, new Date(Date.now() + 1000));
    assert.ok(deleted >= 1);
    assert.equal((await h.client.readMessages(closed.runId)).total, 0);
    assert.equal((await h.client.readMessages(open.runId)).total, 2);
    await h.client.abort(open.runId);
  });

  it('refuses what would exceed a payload before sending it: a large conversation without a content store', async () => {
    const storeless = new HitlClient(h.env.client, 'no-worker-needed');
    const conversation: ChatMessage[] = [{ role: 'user', content: text(300 * KIB, 'too long') }];
    await assert.rejects(storeless.startRun(scriptedInput([], { messages: conversation })), (error: unknown) => {
      assert.ok(error instanceof PayloadTooLargeError);
      assert.equal(error.type, 'PayloadTooLarge');
      assert.match(error.message, /HITL_CONTENT_STORE/);
      return true;
    });
  });
});
