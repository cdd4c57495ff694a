import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import {
  DEFAULT_SQLITE_PATH,
  loadContentStoreConfig,
  openContentStore,
  readTranscriptContents,
  SqliteContentStore,
} from '../../src/content-store';
import { contentStoreContract } from './contract';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

interface ProcessSummary {
  name: string;
  won: number[];
  lost: number;
  errors: string[];
}

/** Starts `count` writer processes (sqlite-process.ts), lets them go at once, and collects their summaries. */
async function raceProcesses(count: number, args: string[]): Promise<ProcessSummary[]> {
  const children = Array.from({ length: count }, (_, i) =>
    spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'sqlite-process.ts'), ...args, `p${i}`],
      { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    ),
  );
  const outputs = children.map((child) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = new Promise<void>((resolve) => {
      const check = () => (stdout.includes('ready\n') ? resolve() : undefined);
      child.stdout.on('data', check);
    });
    const exited = new Promise<void>((resolve, reject) =>
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`)))),
    );
    return { ready, exited, result: () => stdout };
  });
  await Promise.all(outputs.map((o) => o.ready));
  for (const child of children) child.stdin.end('go\n');
  await Promise.all(outputs.map((o) => o.exited));
  return outputs.map((o) => JSON.parse(o.result().split('\n').filter(Boolean).pop()!) as ProcessSummary);
}

describe('content store: SQLite', function () {
  let dir: string;
  let file: string;
  let fresh = 0;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hitl-content-'));
    file = path.join(dir, 'nested', 'content.db');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const countRows = (dbFile: string, runId: string): number => {
    const db = new Database(dbFile, { readonly: true });
    try {
      const row = db
        .prepare<[string], { n: number }>('SELECT count(*) AS n FROM hitl_content WHERE run_id = ?')
        .get(runId);
      return row?.n ?? 0;
    } finally {
      db.close();
    }
  };
  const freshFiles: string[] = [];

  describe('contract', () => {
    contentStoreContract({
      open: async (options) => new SqliteContentStore({ path: file, ...options }),
      openFresh: async () => {
        const freshFile = path.join(dir, `fresh-${++fresh}.db`);
        freshFiles.push(freshFile);
        return new SqliteContentStore({ path: freshFile });
      },
      countContentRows: async (runId) =>
        [file, ...freshFiles].reduce((n, f) => n + (fs.existsSync(f) ? countRows(f, runId) : 0), 0),
    });
  });

  describe('several processes on one host', () => {
    it('share one file: no busy errors, each contested seq won once, idempotent appends all succeed', async function () {
      this.timeout(120_000);
      const shared = path.join(dir, 'processes.db');
      const rounds = 40;
      const processes = 4;
      const summaries = await raceProcesses(processes, [shared, 'contested', 'shared', 'own', String(rounds)]);
      assert.deepEqual(
        summaries.flatMap((s) => s.errors),
        [],
      );
      const wins = summaries.flatMap((s) => s.won).sort((a, b) => a - b);
      assert.deepEqual(
        wins,
        Array.from({ length: rounds }, (_, i) => i),
        'every seq won exactly once',
      );
      assert.equal(
        summaries.reduce((n, s) => n + s.lost, 0),
        (processes - 1) * rounds,
      );
      const store = new SqliteContentStore({ path: shared });
      try {
        const contested = await readTranscriptContents(store, 'contested');
        for (const { seq, content } of contested) {
          const winner = summaries.find((s) => s.won.includes(seq))!;
          assert.equal(content, `${winner.name} round ${seq}`);
        }
        assert.deepEqual(
          (await readTranscriptContents(store, 'shared')).map((m) => m.content),
          Array.from({ length: rounds }, (_, i) => `shared round ${i}`),
        );
        for (const { name } of summaries) {
          const own = await readTranscriptContents(store, `own-${name}`);
          assert.equal(own.length, rounds * 2);
          assert.equal(own[own.length - 1]!.content, `${name} tool result ${rounds - 1}`);
        }
      } finally {
        await store.close();
      }
      // How the wins fell shows whether the processes really raced (not asserted: it depends on scheduling).
      console.log(`      seqs won per process: ${summaries.map((s) => `${s.name} ${s.won.length}`).join(', ')}`);
    });
  });

  describe('file', () => {
    it('is created with its folder, readable by its owner only, in WAL mode', async () => {
      const target = path.join(dir, 'private', 'deeper', 'content.db');
      const store = new SqliteContentStore({ path: target });
      try {
        await store.put('run', 'secret conversation');
        assert.equal(fs.statSync(target).mode & 0o777, 0o600);
        const db = new Database(target, { readonly: true });
        try {
          assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
        } finally {
          db.close();
        }
      } finally {
        await store.close();
      }
    });

    it('is .temporal/content.db under the repository root by default, or HITL_CONTENT_STORE=sqlite:<path>', async () => {
      assert.equal(DEFAULT_SQLITE_PATH, path.join(REPO_ROOT, '.temporal', 'content.db'));
      assert.deepEqual(loadContentStoreConfig({}), {
        kind: 'sqlite',
        path: DEFAULT_SQLITE_PATH,
        retentionMs: 30 * 86_400_000,
        closeOrphans: true,
        maxContentBytes: 64 * 1024 * 1024,
      });
      const target = path.join(dir, 'from-env.db');
      const store = openContentStore(loadContentStoreConfig({ HITL_CONTENT_STORE: `sqlite:${target}` }));
      try {
        assert.equal(store.kind, 'sqlite');
        const ref = await store.put('run', 'via config');
        assert.ok(fs.existsSync(target));
        assert.deepEqual(await store.getMany('run', [ref]), ['via config']);
      } finally {
        await store.close();
      }
    });
  });
});
