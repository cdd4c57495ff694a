import type Database from 'better-sqlite3';
import { checkFork, planAppend } from './append-plan';
import {
  DEFAULT_OPEN_RUNS_PAGE,
  DEFAULT_TRANSCRIPT_PAGE,
  type ClosingRuns,
  type ContentStore,
  type ListOpenRunsOptions,
  type TranscriptPage,
} from './content-store';
import { DEFAULT_MAX_CONTENT_BYTES } from './config';
import { ContentNotFound, ContentStoreClosed } from './errors';
import type { ContentRef } from './refs';
import { orderContents, pageFromRows } from './rows';
import { acquireSqlite, prepared, releaseSqlite } from './sqlite-connection';
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

export interface SqliteContentStoreOptions {
  /** Database file; created (with its folder) when missing. */
  path: string;
  maxContentBytes?: number;
}

/** Runs deleted per transaction by a sweep, so other processes' writers never wait long for the lock. */
const DELETE_BATCH = 100;

/**
 * The embedded store: one SQLite file (WAL mode) that the processes of one host share. Calls run
 * synchronously under the hood; every write is one `BEGIN IMMEDIATE` transaction, so a writer in another
 * process waits for the lock instead of failing half-way.
 */
export class SqliteContentStore implements ContentStore {
  readonly kind = 'sqlite';
  readonly maxContentBytes: number;
  readonly path: string;
  private db: Database.Database | undefined;

  constructor(options: SqliteContentStoreOptions) {
    this.path = options.path;
    this.maxContentBytes = options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES;
    this.db = acquireSqlite(options.path);
  }

  async put(runId: string, content: string): Promise<ContentRef> {
    const [ref] = await this.putMany(runId, [content]);
    return ref!;
  }

  async putMany(runId: string, contents: readonly string[]): Promise<ContentRef[]> {
    const id = parseRunId(runId);
    const encoded = encodeContents(contents, this.maxContentBytes);
    const db = this.open();
    db.transaction(() => this.insertContents(db, id, encoded)).immediate();
    return encoded.map((c) => c.ref);
  }

  async putAndAppend(
    runId: string,
    fromSeq: number,
    contents: readonly string[],
    close?: ClosingRuns,
  ): Promise<{ refs: ContentRef[]; length: number }> {
    const { encoded, append } = parsePutAndAppend(runId, fromSeq, contents, this.maxContentBytes);
    const closing = close === undefined ? undefined : parseRunIds(close.runIds);
    const db = this.open();
    const { length } = db
      .transaction(() => {
        this.insertContents(db, append.runId, encoded);
        const appended = this.appendRefs(db, append);
        if (closing !== undefined) this.closeRows(db, closing, close!.closedAt);
        return appended;
      })
      .immediate();
    return { refs: append.refs, length };
  }

  /** The rows of `putMany`; runs inside the caller's transaction. */
  private insertContents(db: Database.Database, id: string, encoded: readonly EncodedContent[]): void {
    const insertRun = prepared<[string, number]>(
      db,
      'INSERT INTO hitl_content_runs (run_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
    );
    const insertContent = prepared<[string, string, number, Buffer]>(
      db,
      'INSERT INTO hitl_content (run_id, ref, size, bytes) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    insertRun.run(id, Date.now());
    for (const { ref, bytes } of distinctByRef(encoded)) insertContent.run(id, ref, bytes.length, bytes);
  }

  async get(runId: string, ref: string): Promise<string> {
    const [content] = await this.getMany(runId, [parseRef(ref)]);
    return content!;
  }

  async getMany(runId: string, refs: readonly string[]): Promise<string[]> {
    const id = parseRunId(runId);
    const wanted = parseRefs(refs);
    const rows = this.selectContent(id, wanted);
    const { contents, missing } = orderContents(wanted, new Map(rows.map((r) => [r.ref, r.bytes])));
    if (missing.length > 0) throw new ContentNotFound(id, missing);
    return contents;
  }

  async appendTranscript(runId: string, fromSeq: number, refs: readonly string[]): Promise<{ length: number }> {
    const args = parseAppend(runId, fromSeq, refs);
    const db = this.open();
    return db.transaction(() => this.appendRefs(db, args)).immediate();
  }

  async forkTranscript(fromRunId: string, toRunId: string, length: number): Promise<void> {
    const fork = parseFork(fromRunId, toRunId, length);
    const db = this.open();
    db.transaction(() => {
      const lengthOf = prepared<[string], { length: number }>(
        db,
        'SELECT transcript_length AS length FROM hitl_content_runs WHERE run_id = ?',
      );
      const refsBelow = (id: string) =>
        new Map(
          prepared<[string, number], { seq: number; ref: string }>(
            db,
            'SELECT seq, ref FROM hitl_transcript WHERE run_id = ? AND seq < ?',
          )
            .all(id, fork.length)
            .map((e) => [e.seq, e.ref]),
        );
      checkFork(
        { runId: fork.fromRunId, length: lengthOf.get(fork.fromRunId)?.length ?? 0 },
        { runId: fork.toRunId, refs: refsBelow(fork.toRunId) },
        refsBelow(fork.fromRunId),
        fork.length,
      );
      prepared<[string, number]>(
        db,
        'INSERT INTO hitl_content_runs (run_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
      ).run(fork.toRunId, Date.now());
      prepared<[string, string]>(
        db,
        `INSERT INTO hitl_content (run_id, ref, size, bytes)
         SELECT ?, ref, size, bytes FROM hitl_content WHERE run_id = ? ON CONFLICT DO NOTHING`,
      ).run(fork.toRunId, fork.fromRunId);
      prepared<[string, string, number]>(
        db,
        `INSERT INTO hitl_transcript (run_id, seq, ref)
         SELECT ?, seq, ref FROM hitl_transcript WHERE run_id = ? AND seq < ? ON CONFLICT DO NOTHING`,
      ).run(fork.toRunId, fork.fromRunId, fork.length);
      prepared<[number, string]>(
        db,
        'UPDATE hitl_content_runs SET transcript_length = max(transcript_length, ?) WHERE run_id = ?',
      ).run(fork.length, fork.toRunId);
    }).immediate();
  }

  /** The writes of `appendTranscript`; runs inside the caller's transaction. */
  private appendRefs(db: Database.Database, args: AppendArgs): { length: number } {
    const run = prepared<[string], { length: number }>(
      db,
      'SELECT transcript_length AS length FROM hitl_content_runs WHERE run_id = ?',
    ).get(args.runId);
    const existing = prepared<[string, number, number], { seq: number; ref: string }>(
      db,
      'SELECT seq, ref FROM hitl_transcript WHERE run_id = ? AND seq >= ? AND seq < ?',
    ).all(args.runId, args.fromSeq, args.fromSeq + args.refs.length);
    const plan = planAppend(
      args.runId,
      run?.length ?? 0,
      args.fromSeq,
      args.refs,
      new Map(existing.map((e) => [e.seq, e.ref])),
    );
    if (plan.insert.length === 0) return { length: plan.length };
    const inserted = plan.insert.map((e) => e.ref);
    const held = new Set(this.selectHeldRefs(args.runId, inserted));
    const missing = [...new Set(inserted.filter((ref) => !held.has(ref)))];
    if (missing.length > 0) throw new ContentNotFound(args.runId, missing);
    const insert = prepared<[string, number, string]>(
      db,
      'INSERT INTO hitl_transcript (run_id, seq, ref) VALUES (?, ?, ?)',
    );
    for (const entry of plan.insert) insert.run(args.runId, entry.seq, entry.ref);
    prepared<[number, string]>(db, 'UPDATE hitl_content_runs SET transcript_length = ? WHERE run_id = ?').run(
      plan.length,
      args.runId,
    );
    return { length: plan.length };
  }

  async readTranscript(runId: string, options?: { fromSeq?: number; limit?: number }): Promise<TranscriptPage> {
    const id = parseRunId(runId);
    const { fromSeq = 0, limit = DEFAULT_TRANSCRIPT_PAGE } = parseReadOptions(options);
    // One statement: the length and the entries come from the same snapshot.
    const rows = prepared<[number, number, string], { length: number; seq: number | null; ref: string | null }>(
      this.open(),
      `SELECT r.transcript_length AS length, t.seq AS seq, t.ref AS ref
         FROM hitl_content_runs r
         LEFT JOIN hitl_transcript t ON t.run_id = r.run_id AND t.seq >= ? AND t.seq < ?
         WHERE r.run_id = ? ORDER BY t.seq`,
    ).all(fromSeq, fromSeq + limit, id);
    return pageFromRows(rows);
  }

  async markClosed(runIds: string | readonly string[], closedAt: Date): Promise<void> {
    const ids = parseRunIds(runIds);
    const db = this.open();
    db.transaction(() => this.closeRows(db, ids, closedAt)).immediate();
  }

  /** The writes of `markClosed`; runs inside the caller's transaction. */
  private closeRows(db: Database.Database, ids: readonly string[], closedAt: Date): void {
    const close = prepared<[string, number, number]>(
      db,
      `INSERT INTO hitl_content_runs (run_id, created_at, closed_at) VALUES (?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET closed_at = excluded.closed_at`,
    );
    for (const id of ids) close.run(id, Date.now(), closedAt.getTime());
  }

  async listOpenRuns(options: ListOpenRunsOptions): Promise<string[]> {
    const { createdBefore, after, limit = DEFAULT_OPEN_RUNS_PAGE } = parseListOpenRuns(options);
    return prepared<[number, string, number], string>(
      this.open(),
      `SELECT run_id FROM hitl_content_runs WHERE closed_at IS NULL AND created_at < ? AND run_id > ?
         ORDER BY run_id LIMIT ?`,
    )
      .pluck()
      .all(createdBefore.getTime(), after ?? '', limit);
  }

  async deleteClosedBefore(before: Date): Promise<number> {
    const db = this.open();
    const sweep = db.transaction((cutoff: number): number => {
      const ids = prepared<[number, number], string>(
        db,
        `SELECT run_id FROM hitl_content_runs WHERE closed_at IS NOT NULL AND closed_at < ?
           ORDER BY closed_at LIMIT ?`,
      )
        .pluck()
        .all(cutoff, DELETE_BATCH);
      const list = JSON.stringify(ids);
      // Children first: the foreign keys refuse a run whose content is still there.
      for (const table of ['hitl_transcript', 'hitl_content', 'hitl_content_runs']) {
        prepared<[string]>(db, `DELETE FROM ${table} WHERE run_id IN (SELECT value FROM json_each(?))`).run(list);
      }
      return ids.length;
    });
    let deleted = 0;
    for (;;) {
      const batch = sweep.immediate(before.getTime());
      deleted += batch;
      if (batch < DELETE_BATCH) break;
      // Let the process's other work (activities, heartbeats) run between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (deleted > 0) db.pragma('incremental_vacuum');
    return deleted;
  }

  async ping(): Promise<void> {
    this.open().prepare('SELECT 1 FROM hitl_content_runs LIMIT 1').get();
  }

  async close(): Promise<void> {
    if (this.db === undefined) return;
    this.db = undefined;
    releaseSqlite(this.path);
  }

  private open(): Database.Database {
    if (this.db === undefined) throw new ContentStoreClosed();
    return this.db;
  }

  /** Which of `refs` the run holds: an append's check, which needs no contents (reading them copies every blob). */
  private selectHeldRefs(runId: string, refs: readonly string[]): string[] {
    return prepared<[string, string], { ref: string }>(
      this.open(),
      'SELECT ref FROM hitl_content WHERE run_id = ? AND ref IN (SELECT value FROM json_each(?))',
    )
      .all(runId, JSON.stringify([...new Set(refs)]))
      .map((row) => row.ref);
  }

  private selectContent(runId: string, refs: readonly string[]): { ref: string; bytes: Buffer }[] {
    return prepared<[string, string], { ref: string; bytes: Buffer }>(
      this.open(),
      'SELECT ref, bytes FROM hitl_content WHERE run_id = ? AND ref IN (SELECT value FROM json_each(?))',
    ).all(runId, JSON.stringify([...new Set(refs)]));
  }
}
