import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import {
  describeContentStoreConfig,
  loadContentStoreConfig,
  openContentStore,
  PostgresContentStore,
  type ContentStore,
} from '../../src/content-store';
import {
  findPostgresBinaries,
  PostgresUnavailableError,
  startPostgres,
  type PostgresServer,
} from '../../src/dev/private-postgres';
import { contentStoreContract } from './contract';

describe('content store: PostgreSQL', function () {
  let server: PostgresServer;
  let shared: string;
  const databases: string[] = [];

  before(async function () {
    this.timeout(120_000);
    server = await startPostgres();
    shared = await server.createDatabase();
    databases.push(shared);
  });
  after(async function () {
    this.timeout(120_000);
    await server?.stop();
  });

  async function countContentRows(connectionString: string, runId: string): Promise<number> {
    const client = new Client({ connectionString });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM hitl_content WHERE run_id = $1', [
        runId,
      ]);
      return Number(rows[0]?.n ?? 0);
    } catch (error) {
      if ((error as { code?: string }).code === '42P01') return 0; // no table yet: the store was never used
      throw error;
    } finally {
      await client.end();
    }
  }

  describe('contract', () => {
    contentStoreContract({
      open: async (options) => new PostgresContentStore({ connectionString: shared, ...options }),
      openFresh: async () => {
        const connectionString = await server.createDatabase();
        databases.push(connectionString);
        return new PostgresContentStore({ connectionString });
      },
      countContentRows: async (runId) => {
        let n = 0;
        for (const db of databases) n += await countContentRows(db, runId);
        return n;
      },
    });
  });

  describe('several hosts', () => {
    it('stores opened at once on an empty database create the schema once and all work', async () => {
      const connectionString = await server.createDatabase();
      const hosts = Array.from({ length: 6 }, () => new PostgresContentStore({ connectionString, poolSize: 2 }));
      try {
        const run = `run-${randomUUID()}`;
        const refs = await Promise.all(hosts.map((host) => host.put(run, 'the same tool result')));
        assert.equal(new Set(refs).size, 1);
        await Promise.all(hosts.map((host) => host.appendTranscript(run, 0, [refs[0]!])));
        assert.deepEqual(await hosts[5]!.readTranscript(run), { entries: [{ seq: 0, ref: refs[0] }], length: 1 });
        assert.equal(await countContentRows(connectionString, run), 1);
      } finally {
        await Promise.all(hosts.map((host) => host.close()));
      }
    });

    it('sweeps from two hosts at once delete each run once', async () => {
      const connectionString = await server.createDatabase();
      const [hostA, hostB] = [
        new PostgresContentStore({ connectionString }),
        new PostgresContentStore({ connectionString }),
      ];
      try {
        for (let i = 0; i < 230; i++) {
          const run = `run-${i}`;
          await hostA.put(run, `content ${i}`);
          await hostA.markClosed(run, new Date('2020-01-01T00:00:00Z'));
        }
        const cutoff = new Date('2021-01-01T00:00:00Z');
        const [a, b] = await Promise.all([hostA.deleteClosedBefore(cutoff), hostB.deleteClosedBefore(cutoff)]);
        assert.equal(a + b, 230);
      } finally {
        await hostA.close();
        await hostB.close();
      }
    });

    it('survives the server dropping its connections (the pool reconnects; idle errors are reported)', async () => {
      const idleErrors: Error[] = [];
      const store = new PostgresContentStore({ connectionString: shared, onIdleError: (e) => idleErrors.push(e) });
      try {
        const run = `run-${randomUUID()}`;
        const ref = await store.put(run, 'before the drop');
        const admin = new Client({ connectionString: server.connectionString() });
        await admin.connect();
        await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'temporal-hitl content store'",
        );
        await admin.end();
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(await store.get(run, ref), 'before the drop');
        assert.ok(idleErrors.length >= 1, 'the idle connection’s error was reported, not thrown');
      } finally {
        await store.close();
      }
    });
  });

  describe('locks', () => {
    /** Resolves once `n` backends of the database wait for a row lock. */
    async function lockWaiters(client: Client, n: number): Promise<void> {
      for (let i = 0; i < 200; i++) {
        const { rows } = await client.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (Number(rows[0]?.n) >= n) return;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`no ${n} backends waiting for a lock`);
    }

    it('putAndAppend with close takes its rows in the order markClosed does: the two never deadlock', async function () {
      this.timeout(30_000);
      const connectionString = await server.createDatabase();
      const store = new PostgresContentStore({ connectionString });
      const closer = new Client({ connectionString });
      const watcher = new Client({ connectionString });
      await closer.connect();
      await watcher.connect();
      try {
        // The staging key sorts before the run's key, so markClosed([run, staging]) locks the staging row first.
        const id = randomUUID();
        const [run, staging] = [`b-${id}`, `a-${id}`];
        await store.putAndAppend(run, 0, ['question']);
        await store.put(staging, 'staged');
        // A markClosed of both, caught between its two rows: it holds the staging row and will want the run's.
        await closer.query('BEGIN');
        await closer.query('SELECT 1 FROM hitl_content_runs WHERE run_id = $1 FOR NO KEY UPDATE', [staging]);
        const final = store.putAndAppend(run, 1, ['answer'], { runIds: [run, staging], closedAt: new Date(0) });
        final.catch(() => undefined);
        await lockWaiters(watcher, 1);
        // Had the final answer locked the run's row before waiting for the staging row, this would close a
        // cycle and PostgreSQL would abort one of the two (deadlock_detected).
        await closer.query('SELECT 1 FROM hitl_content_runs WHERE run_id = $1 FOR NO KEY UPDATE', [run]);
        await closer.query('COMMIT');
        assert.equal((await final).length, 2);
        assert.equal(await store.deleteClosedBefore(new Date(1000)), 2, 'the run and its staging key closed');
      } finally {
        await closer.end().catch(() => undefined);
        await watcher.end();
        await store.close();
      }
    });
  });

  describe('configuration', () => {
    it('HITL_CONTENT_STORE=postgres://… opens this store; its description and errors hide the password', async () => {
      const config = loadContentStoreConfig({ HITL_CONTENT_STORE: shared, HITL_CONTENT_POOL_SIZE: '2' });
      assert.equal(config.kind, 'postgres');
      const described = describeContentStoreConfig(config);
      assert.ok(!described.includes(server.password), described);
      assert.match(described, /^postgres postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/test_/);
      const store: ContentStore = openContentStore(config);
      try {
        assert.equal(store.kind, 'postgres');
        const run = `run-${randomUUID()}`;
        assert.equal(await store.get(run, await store.put(run, 'via config')), 'via config');
      } finally {
        await store.close();
      }
    });

    it('a wrong password fails (ping too: readiness) without echoing the one given', async () => {
      const wrong = server.connectionString().replace(encodeURIComponent(server.password), 'not-the-password-x1');
      const store = new PostgresContentStore({ connectionString: wrong });
      try {
        for (const call of [() => store.put('run', 'x'), () => store.ping()]) {
          await assert.rejects(call(), (error: Error) => {
            assert.match(error.message, /password authentication failed/);
            assert.ok(!error.message.includes('not-the-password-x1'));
            return true;
          });
        }
      } finally {
        await store.close();
      }
    });
  });

  describe('test helper', () => {
    it('says in one line what to install when the binaries are missing', () => {
      assert.throws(
        () => findPostgresBinaries({ HITL_PG_BIN: '/nonexistent/postgresql/bin' }),
        (error: Error) => {
          assert.ok(error instanceof PostgresUnavailableError);
          assert.ok(!error.message.includes('\n'));
          assert.match(error.message, /apt-get install -y postgresql/);
          return true;
        },
      );
    });
  });
});
