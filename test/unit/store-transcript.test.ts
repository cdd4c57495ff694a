// The activities' transcript writes: how many commits a model turn costs, and that they stay idempotent.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  MAX_TOOL_RESULT_CHARS,
  MESSAGE_PREVIEW_CHARS,
  type ChatMessage,
  type ModelTurn,
  type TranscriptCursor,
} from '../../src/contracts';
import { SqliteContentStore, type ContentStore } from '../../src/content-store';
import {
  appendEntries,
  callModelFromStore,
  readMessagesPage,
  readTranscriptForModel,
  storeToolResult,
} from '../../src/transcript/store-transcript';

/** Write calls a store received, by method: each is one transaction (one commit, one fsync under FULL sync). */
type Writes = Record<'put' | 'putMany' | 'appendTranscript' | 'putAndAppend' | 'markClosed', number>;

function countingWrites(store: ContentStore): { store: ContentStore; writes: Writes } {
  const writes: Writes = { put: 0, putMany: 0, appendTranscript: 0, putAndAppend: 0, markClosed: 0 };
  const counted = new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        if (typeof key === 'string' && key in writes) writes[key as keyof Writes] += 1;
        return method.apply(target, args);
      };
    },
  });
  return { store: counted, writes };
}

describe('transcript writes of the activities (store-transcript)', () => {
  let dir: string;
  let sqlite: SqliteContentStore;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hitl-store-transcript-'));
    sqlite = new SqliteContentStore({ path: path.join(dir, 'content.db') });
  });
  after(async () => {
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  });

  const user: ChatMessage = { role: 'user', content: 'list the files' };
  const answer: ModelTurn = { content: 'calling ls', tool_calls: [{ id: 'c1', name: 'ls', arguments: {} }] };

  it('a model turn after new messages costs one commit: the messages and the answer, stored and appended at once', async () => {
    const { store, writes } = countingWrites(sqlite);
    const key = 'run-a/first';
    const cursor: TranscriptCursor = { key, stagingKey: 'run-a', length: 0, append: [{ message: user }] };
    let asked = 0;
    const { turn } = await callModelFromStore(store, cursor, async (messages) => {
      asked += 1;
      assert.deepEqual(messages, [user]);
      return answer;
    });
    assert.equal(turn.transcriptLength, 2);
    assert.deepEqual(writes, { put: 0, putMany: 0, appendTranscript: 0, putAndAppend: 1, markClosed: 0 });
    assert.equal(asked, 1);
    assert.deepEqual(await readTranscriptForModel(sqlite, key), [user, { role: 'assistant', ...answer }]);
  });

  it('a retried model call (same cursor) returns the answer its first attempt appended, without asking again', async () => {
    const key = 'run-c/first';
    const cursor: TranscriptCursor = { key, stagingKey: 'run-c', length: 0, append: [{ message: user }] };
    const asks: string[] = [];
    const first = await callModelFromStore(sqlite, cursor, async () => {
      asks.push('first');
      return answer;
    });
    // The first attempt's completion was lost: the activity runs again with the same cursor.
    const again = await callModelFromStore(sqlite, cursor, async () => {
      asks.push('retry');
      return { content: 'a different answer' };
    });
    assert.deepEqual(asks, ['first']);
    assert.deepEqual(again, first);
    assert.deepEqual(await readTranscriptForModel(sqlite, key), [user, { role: 'assistant', ...answer }]);
  });

  it('the model sees the new messages as the store gives them back (a long tool message cut, no content reference)', async () => {
    const key = 'run-e/first';
    await sqlite.putAndAppend(key, 0, [JSON.stringify(user)]);
    const long = 'x'.repeat(MAX_TOOL_RESULT_CHARS + 10);
    const toolMessage = {
      role: 'tool' as const,
      tool_call_id: 'c1',
      name: 'ls',
      status: 'success' as const,
      content: long,
      contentRef: 'sha256:' + 'a'.repeat(64),
      contentChars: long.length,
    };
    const cursor: TranscriptCursor = { key, stagingKey: 'run-e', length: 1, append: [{ message: toolMessage }] };
    let seen: ChatMessage[] = [];
    await callModelFromStore(sqlite, cursor, async (messages) => {
      seen = messages;
      return { content: 'done' };
    });
    // What the model read is what reading the stored transcript gives it now.
    assert.deepEqual(seen, (await readTranscriptForModel(sqlite, key)).slice(0, 2));
    assert.equal(seen[1]?.role, 'tool');
    assert.ok(seen[1].content.length < long.length);
    assert.equal('contentRef' in seen[1], false);
  });

  it('a retry after an attempt that stored only the messages (the two-commit path) asks once and appends the answer after them', async () => {
    const key = 'run-d/first';
    const cursor: TranscriptCursor = { key, stagingKey: 'run-d', length: 0, append: [{ message: user }] };
    // An earlier attempt got as far as storing the user's message.
    await appendEntries(sqlite, cursor);
    const { store, writes } = countingWrites(sqlite);
    let asked = 0;
    const { turn } = await callModelFromStore(store, cursor, async (messages) => {
      asked += 1;
      assert.deepEqual(messages, [user]);
      return answer;
    });
    assert.equal(asked, 1);
    assert.equal(turn.transcriptLength, 2);
    // The messages' append is a no-op (they are there), the answer one commit.
    assert.deepEqual(await readTranscriptForModel(sqlite, key), [user, { role: 'assistant', ...answer }]);
    assert.equal(writes.putAndAppend, 2);
  });

  it('a model turn after a stored tool message and a new message costs one commit; the reference is appended as such', async () => {
    const key = 'run-f/first';
    await sqlite.putAndAppend(key, 0, [JSON.stringify(user), JSON.stringify({ role: 'assistant', ...answer })]);
    const toolMessage = { role: 'tool', tool_call_id: 'c1', name: 'ls', status: 'success', content: 'a.txt' };
    // The tool's activity stored its message; the workflow lists it by reference, then a message of its own.
    const toolMessageRef = await sqlite.put(key, JSON.stringify(toolMessage));
    const note: ChatMessage = { role: 'user', content: 'and now?' };
    const cursor: TranscriptCursor = {
      key,
      stagingKey: 'run-f',
      length: 2,
      append: [{ ref: toolMessageRef }, { message: note }],
    };
    const { store, writes } = countingWrites(sqlite);
    let seen: ChatMessage[] = [];
    const { turn } = await callModelFromStore(store, cursor, async (messages) => {
      seen = messages;
      return { content: 'all done' };
    });
    assert.deepEqual(writes, { put: 0, putMany: 0, appendTranscript: 0, putAndAppend: 1, markClosed: 0 });
    assert.equal(turn.transcriptLength, 5);
    assert.deepEqual(seen, [user, { role: 'assistant', ...answer }, toolMessage, note]);
    const page = await sqlite.readTranscript(key);
    assert.equal(page.entries[2]?.ref, toolMessageRef);
    assert.deepEqual((await readTranscriptForModel(sqlite, key)).at(-1), { role: 'assistant', content: 'all done' });
    // A retry (same cursor) reuses the answer: no second commit of anything new.
    const again = await callModelFromStore(sqlite, cursor, () => Promise.reject(new Error('must not ask')));
    assert.deepEqual(again, { turn, closed: false });
  });

  it('a tool result the workflow holds whole costs no commit: the next model call stores it with its answer', async () => {
    const key = 'run-t/first';
    await sqlite.putAndAppend(key, 0, [JSON.stringify(user), JSON.stringify({ role: 'assistant', ...answer })]);
    const { store, writes } = countingWrites(sqlite);
    const call = { toolCallId: 'c1', name: 'ls' };
    const short = 'a.txt\n'.repeat(MESSAGE_PREVIEW_CHARS / 6);
    assert.ok(short.length <= MESSAGE_PREVIEW_CHARS);
    const result = await storeToolResult(store, key, call, { status: 'success', content: short });
    // Whole, no reference: the activity wrote nothing.
    assert.deepEqual(result, { status: 'success', content: short });
    assert.deepEqual(writes, { put: 0, putMany: 0, appendTranscript: 0, putAndAppend: 0, markClosed: 0 });

    // The workflow lists the message by value (as WorkflowTranscript.addToolOutcome does without a reference).
    const toolMessage: ChatMessage = {
      role: 'tool',
      tool_call_id: 'c1',
      name: 'ls',
      status: 'success',
      content: short,
    };
    const cursor: TranscriptCursor = { key, stagingKey: 'run-t', length: 2, append: [{ message: toolMessage }] };
    let seen: ChatMessage[] = [];
    await callModelFromStore(store, cursor, async (messages) => {
      seen = messages;
      return { content: 'two files' };
    });
    assert.deepEqual(seen.at(-1), toolMessage);
    assert.deepEqual(writes, { put: 0, putMany: 0, appendTranscript: 0, putAndAppend: 1, markClosed: 0 });
    assert.deepEqual((await readTranscriptForModel(sqlite, key)).slice(2), [
      toolMessage,
      { role: 'assistant', content: 'two files' },
    ]);

    // One character more than the preview: stored by the activity, the workflow keeps a preview and the reference.
    const long = short + 'x'.repeat(MESSAGE_PREVIEW_CHARS - short.length + 1);
    const stored = await storeToolResult(store, key, call, { status: 'success', content: long });
    assert.equal(stored.content, long.slice(0, MESSAGE_PREVIEW_CHARS));
    assert.equal(stored.contentChars, long.length);
    assert.match(stored.messageRef ?? '', /^sha256:/);
    assert.equal(writes.put, 1);
    assert.deepEqual(JSON.parse(await sqlite.get(key, stored.messageRef!)), { ...toolMessage, content: long });
  });

  it('a final answer with closeIfFinal is stored and closes the run in one commit; a turn that calls tools does not close', async () => {
    const key = 'run-g/first';
    const closeIfFinal = { runIds: [key, 'run-g'], closedAt: new Date('2020-01-01T00:00:00Z') };
    const asking: TranscriptCursor = { key, stagingKey: 'run-g', length: 0, append: [{ message: user }] };
    const calling = countingWrites(sqlite);
    const first = await callModelFromStore(calling.store, asking, async () => answer, { closeIfFinal });
    assert.equal(first.closed, false, 'a turn that calls tools is not the end');
    const toolMessage: ChatMessage = {
      role: 'tool',
      tool_call_id: 'c1',
      name: 'ls',
      status: 'success',
      content: 'a.txt',
    };
    const final: TranscriptCursor = { key, stagingKey: 'run-g', length: 2, append: [{ message: toolMessage }] };
    const { store, writes } = countingWrites(sqlite);
    const last = await callModelFromStore(store, final, async () => ({ content: 'done' }), { closeIfFinal });
    assert.equal(last.closed, true);
    assert.deepEqual(writes, { put: 0, putMany: 0, appendTranscript: 0, putAndAppend: 1, markClosed: 0 });
    // Closed at closedAt: a sweep past it deletes the run's content (and the staging key's).
    const sweeper = new SqliteContentStore({ path: path.join(dir, 'content.db') });
    try {
      assert.ok((await sweeper.deleteClosedBefore(new Date('2021-01-01T00:00:00Z'))) >= 1);
      assert.equal((await sqlite.readTranscript(key)).length, 0);
    } finally {
      await sweeper.close();
    }
  });

  it('entries that are references (a tool message stored by its activity) are appended as such', async () => {
    const key = 'run-b/first';
    const [toolMessageRef] = await sqlite.putMany(key, [
      JSON.stringify({ role: 'tool', tool_call_id: 'c1', name: 'ls', status: 'success', content: 'a.txt' }),
    ]);
    await sqlite.putAndAppend(key, 0, [JSON.stringify(user)]);
    const { store, writes } = countingWrites(sqlite);
    const { length } = await appendEntries(store, {
      key,
      stagingKey: 'run-b',
      length: 1,
      append: [{ ref: toolMessageRef! }],
    });
    assert.equal(length, 2);
    assert.deepEqual(writes, { put: 0, putMany: 0, appendTranscript: 1, putAndAppend: 0, markClosed: 0 });
    // Mixed entries: a reference and a new message.
    const mixed = await appendEntries(store, {
      key,
      stagingKey: 'run-b',
      length: 2,
      append: [{ ref: toolMessageRef! }, { message: { role: 'user', content: 'thanks' } }],
    });
    assert.deepEqual(mixed, { length: 4 });
    assert.equal((await readTranscriptForModel(sqlite, key)).at(-1)?.content, 'thanks');
  });

  describe('a transcript that holds another branch past the cursor (a reset run going on differently)', () => {
    const toolMessage = (content: string) =>
      JSON.stringify({ role: 'tool', tool_call_id: 'c1', name: 'ls', status: 'success', content });

    /** The old branch: user, answer, tool result, final answer. The new run is at 2 with another tool result. */
    async function branches(key: string): Promise<TranscriptCursor> {
      await sqlite.putAndAppend(key, 0, [JSON.stringify(user), JSON.stringify({ role: 'assistant', ...answer })]);
      await sqlite.putAndAppend(key, 2, [
        toolMessage('old.txt'),
        JSON.stringify({ role: 'assistant', content: 'old' }),
      ]);
      const [newer] = await sqlite.putMany(key, [toolMessage('new.txt')]);
      return { key, stagingKey: key.split('/')[0]!, length: 2, append: [{ ref: newer! }] };
    }

    it('without a key of its own, the conflict fails the call (non-retryable TranscriptConflict)', async () => {
      const cursor = await branches('run-fork-c/first');
      await assert.rejects(appendEntries(sqlite, cursor), { type: 'TranscriptConflict', nonRetryable: true });
      // Its own key being the transcript's (the chain's first run): nowhere to fork to.
      await assert.rejects(appendEntries(sqlite, cursor, { forkKey: cursor.key }), { type: 'TranscriptConflict' });
    });

    it('an append forks to the run’s key and goes on there; the old branch stays as it was', async () => {
      const cursor = await branches('run-fork-d/first');
      const result = await appendEntries(sqlite, cursor, { forkKey: 'run-fork-d/reset' });
      assert.deepEqual(result, { length: 3, transcriptKey: 'run-fork-d/reset' });
      const forked = await readTranscriptForModel(sqlite, 'run-fork-d/reset');
      assert.deepEqual(
        forked.map((m) => m.content),
        ['list the files', 'calling ls', 'new.txt'],
      );
      assert.equal((await readTranscriptForModel(sqlite, 'run-fork-d/first')).length, 4);
      // A retried append (same cursor) forks again as a no-op and lands on the same branch.
      assert.deepEqual(await appendEntries(sqlite, cursor, { forkKey: 'run-fork-d/reset' }), result);
    });

    it('a model call forks, asks the model on the new branch once, and closes that branch with a final answer', async () => {
      const cursor = await branches('run-fork-e/first');
      let asked: ChatMessage[] | undefined;
      const closedAt = new Date();
      const { turn, closed } = await callModelFromStore(
        sqlite,
        cursor,
        async (messages) => {
          assert.equal(asked, undefined, 'asked once');
          asked = messages;
          return { content: 'new' };
        },
        { forkKey: 'run-fork-e/reset', closeIfFinal: { runIds: [cursor.key, cursor.stagingKey], closedAt } },
      );
      assert.equal(turn.transcriptKey, 'run-fork-e/reset');
      assert.equal(turn.transcriptLength, 4);
      assert.equal(closed, true);
      assert.deepEqual(
        asked?.map((m) => m.content),
        ['list the files', 'calling ls', 'new.txt'],
      );
      // The answer closed the branch with the keys it was asked to close: a sweep deletes all of them.
      await sqlite.deleteClosedBefore(new Date(closedAt.getTime() + 1));
      for (const key of ['run-fork-e/reset', 'run-fork-e/first'])
        assert.equal((await sqlite.readTranscript(key)).length, 0, key);
    });
  });

  it('a page read with a readable length stops there (a reset run that has not forked its transcript yet)', async () => {
    const key = 'run-reset/first';
    const messages: ChatMessage[] = [user, { role: 'assistant', content: 'a' }, { role: 'user', content: 'b' }];
    await appendEntries(sqlite, {
      key,
      stagingKey: 'run-reset',
      length: 0,
      append: messages.map((message) => ({ message })),
    });
    assert.equal((await readMessagesPage(sqlite, key, 0, 10)).total, 3);
    const capped = await readMessagesPage(sqlite, key, 0, 10, 2);
    assert.deepEqual(capped, { messages: messages.slice(0, 2), fromSeq: 0, total: 2, nextSeq: 2 });
    assert.deepEqual(await readMessagesPage(sqlite, key, 1, 10, 2), {
      messages: messages.slice(1, 2),
      fromSeq: 1,
      total: 2,
      nextSeq: 2,
    });
    assert.deepEqual(await readMessagesPage(sqlite, key, 2, 10, 2), { messages: [], fromSeq: 2, total: 2, nextSeq: 2 });
    // It asks the store for no more entries than are readable (at least one: the store's smallest page).
    const limits: (number | undefined)[] = [];
    const watched = new Proxy(sqlite, {
      get(target, name, receiver) {
        const value: unknown = Reflect.get(target, name, receiver);
        if (name !== 'readTranscript' || typeof value !== 'function') return value;
        return (runId: string, options?: { fromSeq?: number; limit?: number }) => {
          limits.push(options?.limit);
          return target.readTranscript(runId, options);
        };
      },
    });
    await readMessagesPage(watched, key, 0, 10, 2);
    await readMessagesPage(watched, key, 1, 10, 2);
    await readMessagesPage(watched, key, 2, 10, 2);
    await readMessagesPage(watched, key, 0, 10);
    assert.deepEqual(limits, [2, 1, 1, 10]);
  });
});
