// The content store's contract: one suite, run against every implementation (sqlite.test.ts,
// postgres.test.ts). A harness opens stores; everything else goes through the ContentStore interface.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  ContentNotFound,
  contentRefOf,
  ContentStoreClosed,
  ContentTooLarge,
  DEFAULT_MAX_CONTENT_BYTES,
  deleteExpiredContent,
  InvalidContentStoreArgument,
  readTranscriptContents,
  TranscriptConflict,
  TranscriptGap,
  transcriptPages,
  type ContentRef,
  type ContentStore,
} from '../../src/content-store';

export interface StoreHarness {
  /** A store on the suite's database; each call is a separate instance, as another process or host would be. */
  open(options?: { maxContentBytes?: number }): Promise<ContentStore>;
  /** A store on an empty database of its own (retention counts every run in its database). */
  openFresh(): Promise<ContentStore>;
  /** Content rows the database holds for the run, counted behind the store's back. */
  countContentRows(runId: string): Promise<number>;
}

const DAY = 86_400_000;
const newRun = () => `run-${randomUUID()}`;

export function contentStoreContract(harness: StoreHarness): void {
  let store: ContentStore;
  before(async () => {
    store = await harness.open();
  });
  after(async () => {
    await store?.close();
  });

  describe('put and get', () => {
    it('round-trips unicode, the empty string, U+0000 and 5 MB', async () => {
      const run = newRun();
      const contents = [
        '',
        'plain ascii',
        'héllo wörld — ünïcödé, 日本語のテキスト, עברית, emoji 🦜👩🏽‍💻, combining e\u0301',
        'nul \u0000 inside, and a newline\nand tab\t',
        JSON.stringify({ role: 'tool', content: 'x'.repeat(1000) }),
        'ab'.repeat(2_500_000), // 5 MB
      ];
      for (const content of contents) {
        const ref = await store.put(run, content);
        assert.equal(ref, contentRefOf(content));
        assert.match(ref, /^sha256:[0-9a-f]{64}$/);
        assert.equal(await store.get(run, ref), content);
      }
    });

    it('references are the SHA-256 of the UTF-8 bytes', async () => {
      const ref = await store.put(newRun(), '');
      assert.equal(ref, 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      const abc = await store.put(newRun(), 'abc');
      assert.equal(abc, 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });

    it('stores an unpaired surrogate as U+FFFD (what UTF-8 can carry) under the reference of what it returns', async () => {
      const run = newRun();
      const ref = await store.put(run, 'a\ud800b');
      assert.equal(await store.get(run, ref), 'a\ufffdb');
      assert.equal(ref, contentRefOf('a\ufffdb'));
    });

    it('is idempotent: the same content twice is one row and one reference', async () => {
      const run = newRun();
      const first = await store.put(run, 'same text');
      const second = await store.put(run, 'same text');
      const [third, other] = await store.putMany(run, ['same text', 'other text']);
      assert.equal(second, first);
      assert.equal(third, first);
      assert.notEqual(other, first);
      assert.equal(await harness.countContentRows(run), 2);
    });

    it('keeps content per run: another run does not see it', async () => {
      const [runA, runB] = [newRun(), newRun()];
      const ref = await store.put(runA, 'only in A');
      await assert.rejects(store.get(runB, ref), ContentNotFound);
      await store.put(runB, 'only in A');
      assert.equal(await store.get(runB, ref), 'only in A');
      assert.equal(await harness.countContentRows(runA), 1);
      assert.equal(await harness.countContentRows(runB), 1);
    });

    it('putMany returns refs in order (repeats included) and getMany reads them back in any order', async () => {
      const run = newRun();
      const refs = await store.putMany(run, ['one', 'two', 'one', 'three']);
      assert.deepEqual(refs, ['one', 'two', 'one', 'three'].map(contentRefOf));
      assert.equal(await harness.countContentRows(run), 3);
      const [one, two, , three] = refs as [ContentRef, ContentRef, ContentRef, ContentRef];
      assert.deepEqual(await store.getMany(run, [three, one, three, two]), ['three', 'one', 'three', 'two']);
      assert.deepEqual(await store.putMany(run, []), []);
      assert.deepEqual(await store.getMany(run, []), []);
    });

    it('a missing ref is a typed ContentNotFound naming every missing ref', async () => {
      const run = newRun();
      const held = await store.put(run, 'held');
      const missingA = contentRefOf('never stored A');
      const missingB = contentRefOf('never stored B');
      await assert.rejects(store.get(run, missingA), (error: unknown) => {
        assert.ok(error instanceof ContentNotFound);
        assert.equal(error.name, 'ContentNotFound');
        assert.equal(error.runId, run);
        assert.deepEqual(error.refs, [missingA]);
        return true;
      });
      await assert.rejects(store.getMany(run, [held, missingA, missingB, missingA]), (error: unknown) => {
        assert.ok(error instanceof ContentNotFound);
        assert.deepEqual(error.refs, [missingA, missingB]);
        return true;
      });
      await assert.rejects(store.get(newRun(), held), ContentNotFound);
    });

    it('refuses malformed refs and run ids with InvalidContentStoreArgument', async () => {
      const run = newRun();
      await assert.rejects(store.get(run, 'sha256:xyz'), InvalidContentStoreArgument);
      await assert.rejects(store.get(run, contentRefOf('a').toUpperCase()), InvalidContentStoreArgument);
      await assert.rejects(store.put('', 'x'), InvalidContentStoreArgument);
      await assert.rejects(store.put(run, 42 as unknown as string), InvalidContentStoreArgument);
      await assert.rejects(store.appendTranscript(run, -1, []), InvalidContentStoreArgument);
      await assert.rejects(store.readTranscript(run, { limit: 0 }), InvalidContentStoreArgument);
    });
  });

  describe('size limit', () => {
    it('defaults to 64 MiB and refuses more with a typed ContentTooLarge', async () => {
      assert.equal(store.maxContentBytes, DEFAULT_MAX_CONTENT_BYTES);
      assert.equal(DEFAULT_MAX_CONTENT_BYTES, 64 * 1024 * 1024);
      const run = newRun();
      await assert.rejects(store.put(run, 'x'.repeat(DEFAULT_MAX_CONTENT_BYTES + 1)), (error: unknown) => {
        assert.ok(error instanceof ContentTooLarge);
        assert.equal(error.name, 'ContentTooLarge');
        assert.equal(error.sizeBytes, DEFAULT_MAX_CONTENT_BYTES + 1);
        assert.equal(error.maxBytes, DEFAULT_MAX_CONTENT_BYTES);
        return true;
      });
      assert.equal(await harness.countContentRows(run), 0);
    });

    it('counts UTF-8 bytes, not characters, against a configured maximum; a batch is all or nothing', async () => {
      const small = await harness.open({ maxContentBytes: 10 });
      try {
        const run = newRun();
        assert.equal(await small.get(run, await small.put(run, 'é'.repeat(5))), 'é'.repeat(5)); // 10 bytes
        await assert.rejects(small.put(run, 'é'.repeat(6)), ContentTooLarge); // 6 characters, 12 bytes
        await assert.rejects(small.putMany(run, ['fits', '0123456789A']), ContentTooLarge);
        await assert.rejects(small.get(run, contentRefOf('fits')), ContentNotFound);
        assert.equal(await harness.countContentRows(run), 1);
      } finally {
        await small.close();
      }
    });
  });

  describe('transcript', () => {
    async function putAll(run: string, ...contents: string[]): Promise<ContentRef[]> {
      return store.putMany(run, contents);
    }

    it('appends and reads back in seq order, with the length', async () => {
      const run = newRun();
      const [a, b, c, d] = await putAll(run, 'a', 'b', 'c', 'd');
      assert.deepEqual(await store.readTranscript(run), { entries: [], length: 0 });
      assert.deepEqual(await store.appendTranscript(run, 0, [a!, b!]), { length: 2 });
      assert.deepEqual(await store.appendTranscript(run, 2, [c!, d!, a!]), { length: 5 });
      const page = await store.readTranscript(run);
      assert.equal(page.length, 5);
      assert.deepEqual(
        page.entries,
        [a, b, c, d, a].map((ref, seq) => ({ seq, ref })),
      );
      assert.deepEqual(await store.readTranscript(run, { fromSeq: 1, limit: 2 }), {
        entries: [
          { seq: 1, ref: b },
          { seq: 2, ref: c },
        ],
        length: 5,
      });
      assert.deepEqual(await store.readTranscript(run, { fromSeq: 5 }), { entries: [], length: 5 });
      assert.deepEqual(await store.readTranscript(run, { fromSeq: 99 }), { entries: [], length: 5 });
      assert.deepEqual(await store.appendTranscript(run, 5, []), { length: 5 });
    });

    it('pages through a long transcript (transcriptPages, readTranscriptContents)', async () => {
      const run = newRun();
      const contents = Array.from({ length: 2500 }, (_, i) => `message ${i}`);
      const refs = await store.putMany(run, contents);
      for (let from = 0; from < refs.length; from += 700) {
        await store.appendTranscript(run, from, refs.slice(from, from + 700));
      }
      const pages: number[] = [];
      const seqs: number[] = [];
      for await (const entries of transcriptPages(store, run, { pageSize: 1000 })) {
        pages.push(entries.length);
        seqs.push(...entries.map((e) => e.seq));
      }
      assert.deepEqual(pages, [1000, 1000, 500]);
      assert.deepEqual(
        seqs,
        contents.map((_, i) => i),
      );
      const tail = await readTranscriptContents(store, run, { fromSeq: 2497, pageSize: 2 });
      assert.deepEqual(
        tail.map((m) => [m.seq, m.content]),
        [
          [2497, 'message 2497'],
          [2498, 'message 2498'],
          [2499, 'message 2499'],
        ],
      );
      const all = await readTranscriptContents(store, run);
      assert.deepEqual(
        all.map((m) => m.content),
        contents,
      );
      const empty: unknown[] = [];
      for await (const entries of transcriptPages(store, newRun())) empty.push(entries);
      assert.deepEqual(empty, []);
    });

    it('a repeated append (a retried activity) is a no-op; an overlapping one adds only its new tail', async () => {
      const run = newRun();
      const [a, b, c, d] = await putAll(run, 'a', 'b', 'c', 'd');
      await store.appendTranscript(run, 0, [a!, b!, c!]);
      assert.deepEqual(await store.appendTranscript(run, 0, [a!, b!, c!]), { length: 3 });
      assert.deepEqual(await store.appendTranscript(run, 1, [b!]), { length: 3 });
      assert.deepEqual(await store.appendTranscript(run, 1, [b!, c!, d!]), { length: 4 });
      assert.deepEqual(
        (await store.readTranscript(run)).entries.map((e) => e.ref),
        [a, b, c, d],
      );
    });

    it('refuses a conflicting write to an existing seq, and writes nothing of that append', async () => {
      const run = newRun();
      const [a, b, c, x, y] = await putAll(run, 'a', 'b', 'c', 'x', 'y');
      await store.appendTranscript(run, 0, [a!, b!, c!]);
      await assert.rejects(store.appendTranscript(run, 2, [x!, y!]), (error: unknown) => {
        assert.ok(error instanceof TranscriptConflict);
        assert.equal(error.name, 'TranscriptConflict');
        assert.equal(error.seq, 2);
        assert.equal(error.existingRef, c);
        assert.equal(error.attemptedRef, x);
        return true;
      });
      await assert.rejects(store.appendTranscript(run, 0, [a!, y!]), TranscriptConflict);
      assert.deepEqual(await store.readTranscript(run), {
        entries: [a, b, c].map((ref, seq) => ({ seq, ref })),
        length: 3,
      });
    });

    it('refuses a hole (TranscriptGap) and refs the run does not hold (ContentNotFound)', async () => {
      const run = newRun();
      const [a] = await putAll(run, 'a');
      await assert.rejects(store.appendTranscript(run, 1, [a!]), (error: unknown) => {
        assert.ok(error instanceof TranscriptGap);
        assert.equal(error.length, 0);
        return true;
      });
      const foreign = await store.put(newRun(), 'stored for another run');
      await assert.rejects(store.appendTranscript(run, 0, [a!, foreign]), ContentNotFound);
      await assert.rejects(store.appendTranscript(newRun(), 0, [a!]), ContentNotFound);
      assert.deepEqual(await store.readTranscript(run), { entries: [], length: 0 });
    });

    it('two concurrent appenders of the same range with the same refs both succeed, once', async () => {
      const other = await harness.open();
      try {
        const run = newRun();
        const refs = await putAll(run, ...Array.from({ length: 30 }, (_, i) => `turn ${i}`));
        const appender = async (s: ContentStore) => {
          for (let from = 0; from < refs.length; from += 3)
            await s.appendTranscript(run, from, refs.slice(from, from + 3));
        };
        await Promise.all([appender(store), appender(other), appender(store), appender(other)]);
        const page = await other.readTranscript(run);
        assert.equal(page.length, 30);
        assert.deepEqual(
          page.entries.map((e) => e.ref),
          refs,
        );
      } finally {
        await other.close();
      }
    });

    it('two concurrent appenders of different refs at the same seq: exactly one wins, whole', async () => {
      const other = await harness.open();
      try {
        for (let round = 0; round < 20; round++) {
          const run = newRun();
          const mine = await putAll(run, 'm1', 'm2', 'm3');
          const theirs = await other.putMany(run, ['t1', 't2', 't3']);
          const results = await Promise.allSettled([
            store.appendTranscript(run, 0, mine),
            other.appendTranscript(run, 0, theirs),
          ]);
          const won = results.filter((r) => r.status === 'fulfilled');
          const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
          assert.equal(won.length, 1, `round ${round}: ${JSON.stringify(results)}`);
          assert.ok(lost[0]!.reason instanceof TranscriptConflict, String(lost[0]!.reason));
          const winner = results[0].status === 'fulfilled' ? mine : theirs;
          assert.deepEqual(
            (await store.readTranscript(run)).entries.map((e) => e.ref),
            winner,
          );
        }
      } finally {
        await other.close();
      }
    });

    it('putAndAppend stores and appends in one transaction; a retry is a no-op; refs in order', async () => {
      const run = newRun();
      const [a] = await putAll(run, 'a');
      await store.appendTranscript(run, 0, [a!]);
      const first = await store.putAndAppend(run, 1, ['b', 'c', 'b']);
      assert.deepEqual(first, { refs: ['b', 'c', 'b'].map(contentRefOf), length: 4 });
      assert.deepEqual(await store.putAndAppend(run, 1, ['b', 'c', 'b']), first);
      assert.deepEqual(await store.putAndAppend(run, 4, []), { refs: [], length: 4 });
      assert.deepEqual(await store.getMany(run, first.refs), ['b', 'c', 'b']);
      assert.deepEqual(
        (await store.readTranscript(run)).entries.map((e) => e.ref),
        [a, ...first.refs],
      );
      assert.equal(await harness.countContentRows(run), 3);
    });

    it('putAndAppend writes nothing when the append is refused (conflict, gap) or a content is too large', async () => {
      const run = newRun();
      await store.putAndAppend(run, 0, ['a', 'b']);
      await assert.rejects(store.putAndAppend(run, 1, ['x']), TranscriptConflict);
      await assert.rejects(store.putAndAppend(run, 3, ['y']), TranscriptGap);
      await assert.rejects(store.get(run, contentRefOf('x')), ContentNotFound);
      await assert.rejects(store.get(run, contentRefOf('y')), ContentNotFound);
      const small = await harness.open({ maxContentBytes: 4 });
      try {
        await assert.rejects(small.putAndAppend(run, 2, ['fits', 'too large']), ContentTooLarge);
      } finally {
        await small.close();
      }
      await assert.rejects(store.get(run, contentRefOf('fits')), ContentNotFound);
      assert.deepEqual(await store.readTranscript(run, { fromSeq: 2 }), { entries: [], length: 2 });
      assert.equal(await harness.countContentRows(run), 2);
    });

    it('two concurrent putAndAppend of different contents at the same seq: exactly one wins, whole', async () => {
      const other = await harness.open();
      try {
        for (let round = 0; round < 10; round++) {
          const run = newRun();
          const results = await Promise.allSettled([
            store.putAndAppend(run, 0, ['m1', 'm2']),
            other.putAndAppend(run, 0, ['t1', 't2']),
          ]);
          const won = results.filter((r) => r.status === 'fulfilled');
          const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
          assert.equal(won.length, 1, `round ${round}: ${JSON.stringify(results)}`);
          assert.ok(lost[0]!.reason instanceof TranscriptConflict, String(lost[0]!.reason));
          const winner = results[0].status === 'fulfilled' ? ['m1', 'm2'] : ['t1', 't2'];
          assert.deepEqual(
            (await store.readTranscript(run)).entries.map((e) => e.ref),
            winner.map(contentRefOf),
          );
          assert.equal(await harness.countContentRows(run), 2);
        }
      } finally {
        await other.close();
      }
    });

    it('concurrent writers of many runs do not disturb each other', async () => {
      const other = await harness.open();
      try {
        const runs = Array.from({ length: 8 }, newRun);
        await Promise.all(
          runs.map(async (run, i) => {
            const s = i % 2 === 0 ? store : other;
            for (let turn = 0; turn < 10; turn++) {
              const [message, result] = await s.putMany(run, [`${run} says ${turn}`, `tool result ${turn}`]);
              await s.appendTranscript(run, turn * 2, [message!, result!]);
            }
          }),
        );
        for (const run of runs) {
          const messages = await readTranscriptContents(store, run);
          assert.equal(messages.length, 20);
          assert.equal(messages[18]!.content, `${run} says 9`);
        }
      } finally {
        await other.close();
      }
    });
  });

  describe('two instances (as two processes or hosts)', () => {
    it('see each other’s writes', async () => {
      const hostA = await harness.open();
      const hostB = await harness.open();
      try {
        const run = newRun();
        const [first] = await hostA.putMany(run, ['written by A']);
        await hostA.appendTranscript(run, 0, [first!]);
        assert.equal(await hostB.get(run, first!), 'written by A');
        const second = await hostB.put(run, 'written by B');
        assert.deepEqual(await hostB.appendTranscript(run, 1, [second]), { length: 2 });
        assert.deepEqual(
          (await readTranscriptContents(hostA, run)).map((m) => m.content),
          ['written by A', 'written by B'],
        );
        await hostA.appendTranscript(run, 1, [second]); // A retries B's append: no-op
        await assert.rejects(hostA.appendTranscript(run, 1, [first!]), TranscriptConflict);
      } finally {
        await hostA.close();
        await hostB.close();
      }
    });
  });

  describe('listOpenRuns', () => {
    it('pages through the runs not closed that it heard of before the time given, in run id order', async () => {
      const fresh = await harness.openFresh();
      try {
        // Ids that sort the same in any collation; '/' as in the workflow's keys.
        const open = ['a-run', 'a-run/first', 'b-run', 'c-run/fork', 'd-run'];
        for (const run of open) await fresh.put(run, `content of ${run}`);
        await fresh.put('closed-run', 'closed');
        await fresh.markClosed('closed-run', new Date());
        // A run the store first heard of by its closing is closed, so never listed either.
        await fresh.markClosed('closed-unknown', new Date());

        const later = new Date(Date.now() + 60_000);
        assert.deepEqual(await fresh.listOpenRuns({ createdBefore: later }), open);
        const pages: string[][] = [];
        let after: string | undefined;
        for (;;) {
          const page = await fresh.listOpenRuns({ createdBefore: later, limit: 2, ...(after ? { after } : {}) });
          if (page.length === 0) break;
          pages.push(page);
          after = page[page.length - 1];
        }
        assert.deepEqual(pages, [open.slice(0, 2), open.slice(2, 4), open.slice(4)]);
        // Runs the store heard of at or after the time are left out (a run that has only just started).
        assert.deepEqual(await fresh.listOpenRuns({ createdBefore: new Date(Date.now() - 60_000) }), []);
        await assert.rejects(fresh.listOpenRuns({ createdBefore: later, limit: 0 }), InvalidContentStoreArgument);
      } finally {
        await fresh.close();
      }
    });
  });

  describe('retention', () => {
    it('deletes only runs closed before the cutoff, with their content and transcript', async () => {
      const fresh = await harness.openFresh();
      try {
        const now = new Date('2026-11-26T12:00:00Z');
        const cutoff = new Date(now.getTime() - 30 * DAY);
        const runs = {
          closedLongAgo: newRun(),
          closedAtCutoff: newRun(),
          closedRecently: newRun(),
          neverClosed: newRun(),
          alsoLongAgo: newRun(),
        };
        const refs = new Map<string, ContentRef[]>();
        for (const run of Object.values(runs)) {
          const stored = await fresh.putMany(run, [`content of ${run}`, 'shared text']);
          await fresh.appendTranscript(run, 0, stored);
          refs.set(run, stored);
        }
        await fresh.markClosed(runs.closedLongAgo, new Date(now.getTime() - 45 * DAY));
        await fresh.markClosed(runs.alsoLongAgo, new Date(now.getTime() - 31 * DAY));
        await fresh.markClosed(runs.closedAtCutoff, cutoff);
        await fresh.markClosed(runs.closedRecently, new Date(now.getTime() - DAY));

        assert.equal(await deleteExpiredContent(fresh, 30 * DAY, now), 2);

        for (const run of [runs.closedLongAgo, runs.alsoLongAgo]) {
          await assert.rejects(fresh.getMany(run, refs.get(run)!), ContentNotFound);
          assert.deepEqual(await fresh.readTranscript(run), { entries: [], length: 0 });
          assert.equal(await harness.countContentRows(run), 0);
        }
        for (const run of [runs.closedAtCutoff, runs.closedRecently, runs.neverClosed]) {
          assert.deepEqual(await fresh.getMany(run, refs.get(run)!), [`content of ${run}`, 'shared text']);
          assert.equal((await fresh.readTranscript(run)).length, 2);
        }
        assert.equal(await fresh.deleteClosedBefore(cutoff), 0, 'a second sweep deletes nothing');
        // Content of a run not closed is never deleted, however far the cutoff.
        assert.equal(await fresh.deleteClosedBefore(new Date('2100-01-01T00:00:00Z')), 2);
        assert.equal((await fresh.readTranscript(runs.neverClosed)).length, 2);
        // A deleted run's id can be written again from scratch.
        const again = await fresh.put(runs.closedLongAgo, 'new life');
        assert.deepEqual(await fresh.appendTranscript(runs.closedLongAgo, 0, [again]), { length: 1 });
      } finally {
        await fresh.close();
      }
    });

    it('deletes more runs than one batch, and nothing of the open ones', async () => {
      const fresh = await harness.openFresh();
      try {
        const closedAt = new Date('2020-01-01T00:00:00Z');
        const open = newRun();
        await fresh.appendTranscript(open, 0, [await fresh.put(open, 'open run')]);
        for (let i = 0; i < 250; i++) {
          const run = newRun();
          await fresh.appendTranscript(run, 0, [await fresh.put(run, `closed ${i}`)]);
          await fresh.markClosed(run, closedAt);
        }
        assert.equal(await fresh.deleteClosedBefore(new Date('2021-01-01T00:00:00Z')), 250);
        assert.equal((await readTranscriptContents(fresh, open))[0]!.content, 'open run');
      } finally {
        await fresh.close();
      }
    });

    it('markClosed closes several runs at once, or none when one id is invalid', async () => {
      const fresh = await harness.openFresh();
      try {
        const [first, second, untouched] = [newRun(), newRun(), newRun()];
        for (const run of [first, second, untouched]) await fresh.put(run, 'x');
        await assert.rejects(
          fresh.markClosed([untouched, ''], new Date('2020-01-01T00:00:00Z')),
          InvalidContentStoreArgument,
        );
        // A key with no content yet (a run that staged nothing) is closed too: content put later goes with it.
        const empty = newRun();
        await fresh.markClosed([first, second, empty, first], new Date('2020-01-01T00:00:00Z'));
        await fresh.put(empty, 'late');
        assert.equal(await fresh.deleteClosedBefore(new Date('2021-01-01T00:00:00Z')), 3);
        assert.equal(await fresh.get(untouched, contentRefOf('x')), 'x', 'not closed by the refused call');
        await assert.rejects(fresh.get(first, contentRefOf('x')), ContentNotFound);
        await assert.rejects(fresh.get(empty, contentRefOf('late')), ContentNotFound);
      } finally {
        await fresh.close();
      }
    });

    it('putAndAppend with close closes the runs in its transaction; a refused append closes nothing', async () => {
      const fresh = await harness.openFresh();
      try {
        const [run, staging, refused] = [newRun(), newRun(), newRun()];
        const closedAt = new Date('2020-01-01T00:00:00Z');
        await fresh.putAndAppend(refused, 0, ['a']);
        // A gap (seq 5 of a transcript of 1): nothing is written, the run stays open.
        await assert.rejects(fresh.putAndAppend(refused, 5, ['b'], { runIds: refused, closedAt }), TranscriptGap);
        const done = await fresh.putAndAppend(run, 0, ['question', 'answer'], { runIds: [run, staging], closedAt });
        assert.equal(done.length, 2);
        assert.equal(
          await fresh.deleteClosedBefore(new Date('2021-01-01T00:00:00Z')),
          2,
          'the run and its staging key',
        );
        await assert.rejects(fresh.get(run, contentRefOf('answer')), ContentNotFound);
        assert.equal(await fresh.get(refused, contentRefOf('a')), 'a');
      } finally {
        await fresh.close();
      }
    });

    it('markClosed is idempotent and the latest closing time counts', async () => {
      const fresh = await harness.openFresh();
      try {
        const run = newRun();
        await fresh.put(run, 'x');
        await fresh.markClosed(run, new Date('2020-01-01T00:00:00Z'));
        await fresh.markClosed(run, new Date('2020-01-01T00:00:00Z'));
        await fresh.markClosed(run, new Date('2024-01-01T00:00:00Z'));
        assert.equal(await fresh.deleteClosedBefore(new Date('2023-01-01T00:00:00Z')), 0);
        assert.equal(await fresh.deleteClosedBefore(new Date('2025-01-01T00:00:00Z')), 1);
      } finally {
        await fresh.close();
      }
    });
  });

  describe('forkTranscript', () => {
    it('starts a branch with the first entries and every content; both go on apart', async () => {
      const trunk = newRun();
      const branch = newRun();
      const { refs } = await store.putAndAppend(trunk, 0, ['user', 'assistant', 'old tool result', 'old answer']);
      const extra = await store.put(trunk, 'a large argument, kept apart');
      await store.forkTranscript(trunk, branch, 2);
      const page = await store.readTranscript(branch);
      assert.equal(page.length, 2);
      assert.deepEqual(
        page.entries.map((e) => e.ref),
        refs.slice(0, 2),
      );
      // Every content is there, not only the copied entries' (a message may name others).
      assert.equal(await store.get(branch, extra), 'a large argument, kept apart');
      assert.equal(await store.get(branch, refs[3]!), 'old answer');
      // The branch goes on differently; the trunk keeps its own entries.
      await store.putAndAppend(branch, 2, ['new tool result']);
      assert.equal((await store.readTranscript(branch)).length, 3);
      assert.equal((await store.readTranscript(trunk)).length, 4);
      assert.deepEqual(
        (await readTranscriptContents(store, branch)).map((e) => e.content),
        ['user', 'assistant', 'new tool result'],
      );
    });

    it('is idempotent (a retried activity forks again), and refuses a gap, a conflict and itself', async () => {
      const trunk = newRun();
      const branch = newRun();
      await store.putAndAppend(trunk, 0, ['a', 'b', 'c']);
      await store.forkTranscript(trunk, branch, 2);
      await store.putAndAppend(branch, 2, ['d']);
      await store.forkTranscript(trunk, branch, 2);
      assert.deepEqual(
        (await readTranscriptContents(store, branch)).map((e) => e.content),
        ['a', 'b', 'd'],
        'a repeated fork keeps what the branch appended since',
      );
      await assert.rejects(store.forkTranscript(trunk, newRun(), 4), TranscriptGap);
      // The branch holds 'd' at seq 2, the trunk 'c': a fork of 3 entries would change it.
      await assert.rejects(store.forkTranscript(trunk, branch, 3), TranscriptConflict);
      await assert.rejects(store.forkTranscript(trunk, trunk, 1), InvalidContentStoreArgument);
    });
  });

  describe('ping', () => {
    it('answers on a fresh database, and throws ContentStoreClosed after close', async () => {
      const fresh = await harness.openFresh();
      await fresh.ping();
      await fresh.close();
      await assert.rejects(fresh.ping(), ContentStoreClosed);
    });
  });

  describe('close', () => {
    it('is idempotent; later calls throw ContentStoreClosed; other instances go on', async () => {
      const doomed = await harness.open();
      const survivor = await harness.open();
      try {
        const run = newRun();
        const ref = await doomed.put(run, 'before close');
        await doomed.close();
        await doomed.close();
        await assert.rejects(doomed.put(run, 'after close'), ContentStoreClosed);
        await assert.rejects(doomed.get(run, ref), ContentStoreClosed);
        assert.equal(await survivor.get(run, ref), 'before close');
      } finally {
        await survivor.close();
      }
    });
  });
}
