import { Pool, type PoolClient } from 'pg';
import { checkFork, planAppend } from './append-plan';
import { DEFAULT_MAX_CONTENT_BYTES, DEFAULT_POSTGRES_POOL_SIZE } from './config';
import {
  DEFAULT_OPEN_RUNS_PAGE,
  DEFAULT_TRANSCRIPT_PAGE,
  type ClosingRuns,
  type ContentStore,
  type ListOpenRunsOptions,
  type TranscriptPage,
} from './content-store';
import { ContentNotFound, ContentStoreClosed } from './errors';
import type { ContentRef } from './refs';
import { orderContents, pageFromRows } from './rows';
import {
  distinctByRef,
  encodeContents,
  parseAppend,
  parseFork,
  parseListOpenRuns,
  parsePutAndAppend,
  parseReadOptions,
  parseRef,
  parseRefs,
  parseRunId,
  parseRunIds,
  type AppendArgs,
  type EncodedContent,
} from './validate';

export interface PostgresContentStoreOptions {
  /** `postgres://user:password@host:port/database`; a secret, never logged. */
  connectionString: string;
  poolSize?: number;
  maxContentBytes?: number;
  /** An idle pooled connection failed (server restart, network): the pool replaces it; report it here. */
  onIdleError?: (error: Error) => void;
}

// Same tables as the SQLite store. Content is bytea, not text: text refuses U+0000, which a tool result may hold.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS hitl_content_runs (
  run_id text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  transcript_length integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS hitl_content_runs_closed_at ON hitl_content_runs (closed_at) WHERE closed_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS hitl_content (
  run_id text NOT NULL REFERENCES hitl_content_runs (run_id),
  ref text NOT NULL,
  size integer NOT NULL,
  bytes bytea NOT NULL,
  PRIMARY KEY (run_id, ref)
);
CREATE TABLE IF NOT EXISTS hitl_transcript (
  run_id text NOT NULL,
  seq integer NOT NULL,
  ref text NOT NULL,
  PRIMARY KEY (run_id, seq),
  FOREIGN KEY (run_id, ref) REFERENCES hitl_content (run_id, ref)
);
`;

/** Advisory lock key ('hitl' in ASCII) that serializes schema creation across hosts. */
const SCHEMA_LOCK = 0x6869746c;
/** Runs deleted per transaction by a sweep. */
const DELETE_BATCH = 100;

/** `markClosed`'s statement: all the runs in one; `$1` from {@link closeIds}, `$2` the closing time. */
const CLOSE_RUNS_SQL = `INSERT INTO hitl_content_runs (run_id, closed_at) SELECT id, $2 FROM unnest($1::text[]) AS u (id)
  ON CONFLICT (run_id) DO UPDATE SET closed_at = excluded.closed_at`;

/** Distinct and sorted, so two closers lock rows in the same order. */
function closeIds(runIds: string | readonly string[]): string[] {
  return [...new Set(parseRunIds(runIds))].sort();
}

/**
 * Locks the rows of `sortedIds` (creating the missing ones) in that order, for the rest of the transaction. The
 * strength of an update that changes no key: what appending and closing take.
 */
async function lockRuns(client: PoolClient, sortedIds: readonly string[]): Promise<void> {
  await client.query(
    `INSERT INTO hitl_content_runs (run_id) SELECT id FROM unnest($1::text[]) AS u (id) ON CONFLICT DO NOTHING`,
    [sortedIds],
  );
  // Ordered by position in the array, not by run_id: the column's collation may sort differently from closeIds.
  await client.query(
    `SELECT r.run_id FROM unnest($1::text[]) WITH ORDINALITY AS u (id, n)
     JOIN hitl_content_runs r ON r.run_id = u.id ORDER BY u.n FOR NO KEY UPDATE OF r`,
    [sortedIds],
  );
}

/**
 * The networked store: PostgreSQL through a small node-postgres pool, for several worker hosts. Tables are
 * created on first use. Inserts are `ON CONFLICT DO NOTHING` (two hosts storing the same content is one
 * row); appends to one run's transcript are serialized by a row lock on the run.
 */
export class PostgresContentStore implements ContentStore {
  readonly kind = 'postgres';
  readonly maxContentBytes: number;
  private readonly pool: Pool;
  private schema: Promise<void> | undefined;
  private closed = false;

  constructor(options: PostgresContentStoreOptions) {
    this.maxContentBytes = options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES;
    this.pool = new Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? DEFAULT_POSTGRES_POOL_SIZE,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 15_000,
      application_name: 'temporal-hitl content store',
    });
    // Without a listener, an idle connection's error (e.g. the server restarted) would crash the process.
    this.pool.on('error', (error) => options.onIdleError?.(error));
  }

  async put(runId: string, content: string): Promise<ContentRef> {
    const [ref] = await this.putMany(runId, [content]);
    return ref!;
  }

  async putMany(runId: string, contents: readonly string[]): Promise<ContentRef[]> {
    const id = parseRunId(runId);
    const encoded = encodeContents(contents, this.maxContentBytes);
    await this.transaction((client) => this.insertContents(client, id, encoded));
    return encoded.map((c) => c.ref);
  }

  async putAndAppend(
    runId: string,
    fromSeq: number,
    contents: readonly string[],
    close?: ClosingRuns,
  ): Promise<{ refs: ContentRef[]; length: number }> {
    const { encoded, append } = parsePutAndAppend(runId, fromSeq, contents, this.maxContentBytes);
    const closing = close === undefined ? undefined : closeIds(close.runIds);
    const { length } = await this.transaction(async (client) => {
      // Appending locks the run's row and closing the rows of `closing`: take them all first, in the sorted
      // order markClosed takes them in, or a markClosed of the same runs could deadlock with this.
      if (closing !== undefined) await lockRuns(client, closeIds([append.runId, ...closing]));
      await this.insertContents(client, append.runId, encoded);
      const appended = await this.appendRefs(client, append);
      if (closing !== undefined) await client.query(CLOSE_RUNS_SQL, [closing, close!.closedAt]);
      return appended;
    });
    return { refs: append.refs, length };
  }

  /** The rows of `putMany`; runs inside the caller's transaction. */
  private async insertContents(client: PoolClient, id: string, encoded: readonly EncodedContent[]): Promise<void> {
    // In ref order, so two hosts storing overlapping batches lock rows in the same order (no deadlock).
    const rows = distinctByRef(encoded).sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    await client.query('INSERT INTO hitl_content_runs (run_id) VALUES ($1) ON CONFLICT DO NOTHING', [id]);
    for (const { ref, bytes } of rows) {
      await client.query(
        'INSERT INTO hitl_content (run_id, ref, size, bytes) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [id, ref, bytes.length, bytes],
      );
    }
  }

  async get(runId: string, ref: string): Promise<string> {
    const [content] = await this.getMany(runId, [parseRef(ref)]);
    return content!;
  }

  async getMany(runId: string, refs: readonly string[]): Promise<string[]> {
    const id = parseRunId(runId);
    const wanted = parseRefs(refs);
    const { rows } = await this.query<{ ref: string; bytes: Buffer }>(
      'SELECT ref, bytes FROM hitl_content WHERE run_id = $1 AND ref = ANY($2::text[])',
      [id, [...new Set(wanted)]],
    );
    const { contents, missing } = orderContents(wanted, new Map(rows.map((r) => [r.ref, r.bytes])));
    if (missing.length > 0) throw new ContentNotFound(id, missing);
    return contents;
  }

  async appendTranscript(runId: string, fromSeq: number, refs: readonly string[]): Promise<{ length: number }> {
    const args = parseAppend(runId, fromSeq, refs);
    return this.transaction((client) => this.appendRefs(client, args));
  }

  async forkTranscript(fromRunId: string, toRunId: string, length: number): Promise<void> {
    const fork = parseFork(fromRunId, toRunId, length);
    await this.transaction(async (client) => {
      // The branch is written and the source read: both rows locked, in the order closers take them.
      await lockRuns(client, closeIds([fork.fromRunId, fork.toRunId]));
      const source = await client.query<{ length: number }>(
        'SELECT transcript_length AS length FROM hitl_content_runs WHERE run_id = $1',
        [fork.fromRunId],
      );
      const refsBelow = async (id: string) =>
        new Map(
          (
            await client.query<{ seq: number; ref: string }>(
              'SELECT seq, ref FROM hitl_transcript WHERE run_id = $1 AND seq < $2',
              [id, fork.length],
            )
          ).rows.map((e) => [e.seq, e.ref]),
        );
      checkFork(
        { runId: fork.fromRunId, length: source.rows[0]?.length ?? 0 },
        { runId: fork.toRunId, refs: await refsBelow(fork.toRunId) },
        await refsBelow(fork.fromRunId),
        fork.length,
      );
      await client.query(
        `INSERT INTO hitl_content (run_id, ref, size, bytes)
         SELECT $1, ref, size, bytes FROM hitl_content WHERE run_id = $2 ORDER BY ref ON CONFLICT DO NOTHING`,
        [fork.toRunId, fork.fromRunId],
      );
      await client.query(
        `INSERT INTO hitl_transcript (run_id, seq, ref)
         SELECT $1, seq, ref FROM hitl_transcript WHERE run_id = $2 AND seq < $3 ON CONFLICT DO NOTHING`,
        [fork.toRunId, fork.fromRunId, fork.length],
      );
      await client.query(
        'UPDATE hitl_content_runs SET transcript_length = GREATEST(transcript_length, $2) WHERE run_id = $1',
        [fork.toRunId, fork.length],
      );
    });
  }

  /** The writes of `appendTranscript`; runs inside the caller's transaction. */
  private async appendRefs(client: PoolClient, args: AppendArgs): Promise<{ length: number }> {
    // NO KEY UPDATE: serializes appenders of this run, yet lets puts (whose foreign key check takes a
    // KEY SHARE lock on the same row) go on.
    const run = await client.query<{ length: number }>(
      'SELECT transcript_length AS length FROM hitl_content_runs WHERE run_id = $1 FOR NO KEY UPDATE',
      [args.runId],
    );
    const existing = await client.query<{ seq: number; ref: string }>(
      'SELECT seq, ref FROM hitl_transcript WHERE run_id = $1 AND seq >= $2 AND seq < $3::bigint',
      [args.runId, args.fromSeq, args.fromSeq + args.refs.length],
    );
    const plan = planAppend(
      args.runId,
      run.rows[0]?.length ?? 0,
      args.fromSeq,
      args.refs,
      new Map(existing.rows.map((e) => [e.seq, e.ref])),
    );
    if (plan.insert.length === 0) return { length: plan.length };
    const inserted = [...new Set(plan.insert.map((e) => e.ref))];
    const held = await client.query<{ ref: string }>(
      'SELECT ref FROM hitl_content WHERE run_id = $1 AND ref = ANY($2::text[])',
      [args.runId, inserted],
    );
    const found = new Set(held.rows.map((r) => r.ref));
    const missing = inserted.filter((ref) => !found.has(ref));
    if (missing.length > 0) throw new ContentNotFound(args.runId, missing);
    await client.query(
      `INSERT INTO hitl_transcript (run_id, seq, ref)
       SELECT $1, u.seq, u.ref FROM unnest($2::integer[], $3::text[]) AS u (seq, ref) ON CONFLICT DO NOTHING`,
      [args.runId, plan.insert.map((e) => e.seq), plan.insert.map((e) => e.ref)],
    );
    await client.query('UPDATE hitl_content_runs SET transcript_length = $2 WHERE run_id = $1', [
      args.runId,
      plan.length,
    ]);
    return { length: plan.length };
  }

  async readTranscript(runId: string, options?: { fromSeq?: number; limit?: number }): Promise<TranscriptPage> {
    const id = parseRunId(runId);
    const { fromSeq = 0, limit = DEFAULT_TRANSCRIPT_PAGE } = parseReadOptions(options);
    // One statement: the length and the entries come from the same snapshot.
    const { rows } = await this.query<{ length: number; seq: number | null; ref: string | null }>(
      `SELECT r.transcript_length AS length, t.seq AS seq, t.ref AS ref
       FROM hitl_content_runs r
       LEFT JOIN hitl_transcript t ON t.run_id = r.run_id AND t.seq >= $2 AND t.seq < $3::bigint
       WHERE r.run_id = $1 ORDER BY t.seq`,
      [id, fromSeq, fromSeq + limit],
    );
    return pageFromRows(rows);
  }

  async markClosed(runIds: string | readonly string[], closedAt: Date): Promise<void> {
    // One statement, so one commit, for all of them.
    await this.query(CLOSE_RUNS_SQL, [closeIds(runIds), closedAt]);
  }

  async listOpenRuns(options: ListOpenRunsOptions): Promise<string[]> {
    const { createdBefore, after, limit = DEFAULT_OPEN_RUNS_PAGE } = parseListOpenRuns(options);
    const { rows } = await this.query<{ run_id: string }>(
      `SELECT run_id FROM hitl_content_runs WHERE closed_at IS NULL AND created_at < $1 AND run_id > $2
       ORDER BY run_id LIMIT $3`,
      [createdBefore, after ?? '', limit],
    );
    return rows.map((row) => row.run_id);
  }

  async deleteClosedBefore(before: Date): Promise<number> {
    let deleted = 0;
    for (;;) {
      const batch = await this.transaction(async (client) => {
        // SKIP LOCKED: two hosts sweeping at once share the work instead of waiting for each other.
        const { rows } = await client.query<{ run_id: string }>(
          `SELECT run_id FROM hitl_content_runs WHERE closed_at < $1
           ORDER BY closed_at LIMIT ${DELETE_BATCH} FOR UPDATE SKIP LOCKED`,
          [before],
        );
        const ids = rows.map((r) => r.run_id);
        if (ids.length === 0) return 0;
        // Children first: the foreign keys refuse a run whose content is still there.
        for (const table of ['hitl_transcript', 'hitl_content', 'hitl_content_runs']) {
          await client.query(`DELETE FROM ${table} WHERE run_id = ANY($1::text[])`, [ids]);
        }
        return ids.length;
      });
      deleted += batch;
      if (batch < DELETE_BATCH) return deleted;
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1 FROM hitl_content_runs LIMIT 1', []);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** Creates the tables once per store (again after a failure); hosts starting together take turns. */
  private ensureSchema(): Promise<void> {
    if (this.closed) return Promise.reject(new ContentStoreClosed());
    this.schema ??= this.inTransaction(async (client) => {
      // Concurrent CREATE TABLE IF NOT EXISTS of one table can still fail on the catalog's unique index.
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      await client.query(SCHEMA);
    }).catch((error: unknown) => {
      this.schema = undefined;
      throw error;
    });
    return this.schema;
  }

  private async query<R extends object>(text: string, values: unknown[]): Promise<{ rows: R[] }> {
    await this.ensureSchema();
    return this.pool.query<R>(text, values);
  }

  private async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    await this.ensureSchema();
    return this.inTransaction(fn);
  }

  private async inTransaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new ContentStoreClosed();
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        // The connection is unusable: drop it from the pool rather than hand it to the next caller.
        broken = rollbackError;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
