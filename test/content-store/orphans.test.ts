// The sweep that closes content of runs that ended without closing it (terminated, timed out, reset, a start
// that failed after staging), on a real SQLite store. What Temporal answers is given here by a table of
// workflow ids; test/workflow/orphaned-content.test.ts runs the sweep against the dev server.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import {
  closeOrphanedContent,
  DEFAULT_OPEN_RUNS_PAGE,
  LIVENESS_BATCH,
  ORPHAN_GRACE_MS,
  SqliteContentStore,
  workflowIdsOfKey,
  type RunLiveness,
} from '../../src/content-store';

/** Liveness from two lists, recording what the sweep asked. */
function livenessOf(listed: string[], runningNow: string[] = []) {
  const asked: string[] = [];
  const listings: number[] = [];
  const liveness: RunLiveness = {
    runningAmong: async (workflowIds) => {
      assert.ok(workflowIds.length <= LIVENESS_BATCH);
      listings.push(workflowIds.length);
      return new Set(workflowIds.filter((id) => listed.includes(id)));
    },
    isRunning: async (workflowId) => {
      asked.push(workflowId);
      return listed.includes(workflowId) || runningNow.includes(workflowId);
    },
  };
  return { liveness, asked, listings };
}

describe('content store: closing the content of runs that ended without closing it', () => {
  let dir: string;
  let store: SqliteContentStore;
  const now = new Date(Date.now() + 2 * ORPHAN_GRACE_MS);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hitl-orphans-'));
    store = new SqliteContentStore({ path: path.join(dir, 'content.db') });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function closedAt(key: string): number | null {
    const db = new Database(store.path, { readonly: true });
    try {
      const row = db.prepare<[string], { closed_at: number | null }>(
        'SELECT closed_at FROM hitl_content_runs WHERE run_id = ?',
      );
      return row.get(key)?.closed_at ?? null;
    } finally {
      db.close();
    }
  }

  it('reads a key as its workflow id, or up to its last slash (workflow ids may hold one)', () => {
    assert.deepEqual(workflowIdsOfKey('conv-1'), ['conv-1']);
    assert.deepEqual(workflowIdsOfKey('conv-1/0192-run'), ['conv-1', 'conv-1/0192-run']);
    assert.deepEqual(workflowIdsOfKey('tenant/conv-1/0192-run'), ['tenant/conv-1', 'tenant/conv-1/0192-run']);
    assert.deepEqual(workflowIdsOfKey('/odd'), ['/odd']);
  });

  it('closes the keys of workflows that are not running, and keeps those of running ones', async () => {
    const keys = {
      paused: 'paused-run/first', // listed by visibility
      pausedStaging: 'paused-run',
      pausedFork: 'paused-run/fork-of-a-reset', // any key of a running workflow is kept
      terminated: 'terminated-run/first',
      terminatedFork: 'terminated-run/fork',
      neverStarted: 'start-failed', // staged, then the start failed
      justStarted: 'just-started/first', // running, not listed yet (visibility lags)
      slashInId: 'tenant/a/first', // workflow id "tenant/a", running
    };
    for (const key of Object.values(keys)) await store.put(key, `content of ${key}`);
    await store.put('ended-cleanly/first', 'closed by its run');
    await store.markClosed('ended-cleanly/first', new Date('2026-01-01T00:00:00Z'));

    const { liveness, asked } = livenessOf(['paused-run'], ['just-started', 'tenant/a']);
    const result = await closeOrphanedContent(store, liveness, { now });

    assert.deepEqual(result, { checked: Object.keys(keys).length, closed: 3 });
    for (const key of [keys.terminated, keys.terminatedFork, keys.neverStarted]) {
      assert.equal(closedAt(key), now.getTime(), `${key} is closed at the sweep's time`);
    }
    for (const key of [keys.paused, keys.pausedStaging, keys.pausedFork, keys.justStarted, keys.slashInId]) {
      assert.equal(closedAt(key), null, `${key} stays open`);
    }
    assert.equal(closedAt('ended-cleanly/first'), Date.parse('2026-01-01T00:00:00Z'), 'a closed key is left alone');
    // Listed workflows are not asked about again; every other workflow once, however many keys it has.
    assert.ok(!asked.includes('paused-run'));
    assert.equal(asked.filter((id) => id === 'terminated-run').length, 1);

    // The next sweep finds only what is still open, and closes nothing more.
    assert.deepEqual(await closeOrphanedContent(store, liveness, { now }), { checked: 5, closed: 0 });
  });

  it('keeps content younger than the grace: a staged conversation whose run is about to start', async () => {
    await store.put('about-to-start', 'a large conversation');
    const { liveness } = livenessOf([]);
    assert.deepEqual(await closeOrphanedContent(store, liveness, { now: new Date() }), { checked: 0, closed: 0 });
    assert.equal(closedAt('about-to-start'), null);
    assert.deepEqual(await closeOrphanedContent(store, liveness, { now: new Date(), graceMs: 0 }), {
      checked: 1,
      closed: 1,
    });
  });

  it('closes nothing when Temporal cannot say, and fails the sweep', async () => {
    await store.put('unknown/first', 'content');
    const liveness: RunLiveness = {
      runningAmong: async () => new Set(),
      isRunning: async () => {
        throw new Error('14 UNAVAILABLE: connection refused');
      },
    };
    await assert.rejects(closeOrphanedContent(store, liveness, { now }), /UNAVAILABLE/);
    assert.equal(closedAt('unknown/first'), null);
  });

  it('goes through more open keys than one page', async () => {
    const count = DEFAULT_OPEN_RUNS_PAGE + 5;
    const db = new Database(store.path);
    try {
      // Rows written behind the store's back: a thousand puts would only slow the test down.
      const insert = db.prepare('INSERT INTO hitl_content_runs (run_id, created_at) VALUES (?, ?)');
      db.transaction(() => {
        for (let i = 0; i < count; i++) insert.run(`run-${String(i).padStart(5, '0')}/first`, 0);
      })();
    } finally {
      db.close();
    }
    const running = Array.from({ length: 10 }, (_, i) => `run-${String(i * 101).padStart(5, '0')}`);
    const { liveness, listings } = livenessOf(running);
    assert.deepEqual(await closeOrphanedContent(store, liveness, { now }), { checked: count, closed: count - 10 });
    // Asked in batches, never about every open key at once.
    assert.ok(listings.length >= count / LIVENESS_BATCH, `${listings.length} listings`);
    assert.equal((await store.listOpenRuns({ createdBefore: now })).length, 10);
  });
});
