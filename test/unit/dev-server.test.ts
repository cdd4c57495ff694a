import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  assertPortFree,
  DevServerError,
  devServerTuningArgs,
  PortInUseError,
  startDevServer,
} from '../../src/dev/dev-server';
import { acquireStateLock, lockFileOf, StateInUseError } from '../../src/dev/state-lock';
import { REPO_ROOT, TEMPORAL_DIR } from '../../src/dev/temporal-cli';
import { searchAttributeCliArgs } from '../../src/dev/search-attributes';
import { resolveTemporalCliPath, TemporalCliNotFoundError } from '../../src/dev/temporal-cli';

// Only the parts that need no Temporal server; `npm start` and test/workflow/smoke.test.ts cover the rest.
describe('dev server launcher', () => {
  it('passes the five Hitl* search attributes to start-dev with the CLI type names', () => {
    assert.deepEqual(searchAttributeCliArgs(), [
      '--search-attribute',
      'HitlStatus=Keyword',
      '--search-attribute',
      'HitlUserId=Keyword',
      '--search-attribute',
      'HitlConversationId=Keyword',
      '--search-attribute',
      'HitlPendingTools=KeywordList',
      '--search-attribute',
      'HitlExpiresAt=Datetime',
    ]);
  });

  it('the fast setup: transfer limiter lifted always, SQLite WAL + synchronous=normal only for a file', () => {
    const limiter = ['--dynamic-config-value', 'history.transferProcessorMaxPollRPS=100000'];
    const pragmas = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'];
    assert.deepEqual(devServerTuningArgs(true), [...limiter, ...pragmas]);
    assert.deepEqual(devServerTuningArgs(false), limiter);
    assert.deepEqual(devServerTuningArgs(true, { liftTransferLimiter: false }), pragmas);
    assert.deepEqual(devServerTuningArgs(true, { sqliteWal: false }), limiter);
  });

  it('startDevServer (npm start, the benchmark) passes the fast setup to start-dev', async function () {
    this.timeout(30_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hitl-args-'));
    try {
      // A stand-in CLI that records its arguments, one a line, and exits before it is ready.
      const argsFile = path.join(dir, 'args');
      const cli = path.join(dir, 'temporal');
      fs.writeFileSync(cli, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\nexit 3\n`, { mode: 0o755 });
      const start = async (dbFilename: string) =>
        assert.rejects(
          startDevServer({
            cliPath: cli,
            ip: '127.0.0.1',
            port: await freePort(),
            headless: true,
            dbFilename,
            logFile: '',
            handleSignals: false,
            onOutput: () => undefined,
          }),
          /exited \(code 3\) before it was ready/,
        );
      const argsOf = () => fs.readFileSync(argsFile, 'utf8').trim().split('\n');
      const db = path.join(dir, 'dev.db');
      await start(db);
      let args = argsOf();
      assert.deepEqual(args.slice(0, 2), ['server', 'start-dev']);
      assert.ok(includesRun(args, ['--db-filename', db]), args.join(' '));
      assert.ok(includesRun(args, devServerTuningArgs(true)), args.join(' '));
      await start('');
      args = argsOf();
      assert.ok(includesRun(args, devServerTuningArgs(false)), args.join(' '));
      assert.ok(!args.includes('--sqlite-pragma'), 'no pragmas for an in-memory server');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a port in use with a one-line message naming the variable', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      await assert.rejects(assertPortFree('127.0.0.1', port, 'TEMPORAL_DEV_PORT'), (err: unknown) => {
        assert.ok(err instanceof PortInUseError);
        assert.ok(err instanceof DevServerError);
        assert.equal(err.port, port);
        assert.match(
          err.message,
          new RegExp(`^port ${port} is in use — is another Temporal server running\\? Set TEMPORAL_DEV_PORT=`),
        );
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    await assertPortFree('127.0.0.1', port, 'TEMPORAL_DEV_PORT'); // free again
  });

  it('refuses a port variable that is not a port', async () => {
    await assert.rejects(startDevServer({ env: { TEMPORAL_DEV_PORT: '72x3' } }), {
      name: 'DevServerError',
      message: 'TEMPORAL_DEV_PORT=72x3 is not a port number (1-65535)',
    });
  });

  it('resolveTemporalCliPath says how to install the CLI when TEMPORAL_CLI_PATH is wrong', () => {
    assert.throws(
      () => resolveTemporalCliPath({ TEMPORAL_CLI_PATH: '/nonexistent/temporal' }),
      (err: unknown) => err instanceof TemporalCliNotFoundError && /npm run temporal-cli/.test(err.message),
    );
  });

  describe('one server per state file', () => {
    let dir: string;
    let holder: ChildProcess | undefined;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hitl-lock-'));
    });
    afterEach(() => {
      holder?.kill('SIGKILL');
      holder = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    });

    /** A live process other than us, standing in for another npm start. */
    function liveProcess(): number {
      holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
      return holder.pid!;
    }

    /** The pid of a process that has exited. */
    function deadPid(): number {
      return Number(
        spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim(),
      );
    }

    it('refuses a database another live npm start holds, naming it and TEMPORAL_DEV_DB; takes over a stale lock', () => {
      const db = path.join(dir, 'dev.db');
      const other = liveProcess();
      fs.writeFileSync(
        lockFileOf(db),
        JSON.stringify({ ownerPid: other, address: '127.0.0.1:17233', startedAt: '2026-11-26T10:00:00.000Z' }),
      );
      const info = { ownerPid: process.pid, address: '127.0.0.1:27233', startedAt: new Date().toISOString() };
      assert.throws(
        () => acquireStateLock(db, info),
        (err: unknown) => {
          assert.ok(err instanceof StateInUseError);
          assert.ok(err instanceof DevServerError, 'printed as one line by npm start');
          assert.match(
            err.message,
            new RegExp(
              `^${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another npm start \\(pid ${other}, Temporal at 127\\.0\\.0\\.1:17233, since 2026-11-26T10:00:00\\.000Z\\) — stop it, or set TEMPORAL_DEV_DB=<another file>`,
            ),
          );
          assert.doesNotMatch(err.message, /\n/);
          return true;
        },
      );
      // The holder is gone (crash, kill -9): its lock is taken over.
      fs.writeFileSync(
        lockFileOf(db),
        JSON.stringify({ ownerPid: deadPid(), address: 'x:1', startedAt: '2026-11-26T10:00:00.000Z' }),
      );
      const lock = acquireStateLock(db, info);
      assert.equal((JSON.parse(fs.readFileSync(lock.file, 'utf8')) as { ownerPid: number }).ownerPid, process.pid);
      assert.throws(() => acquireStateLock(db, { ...info, ownerPid: other }), StateInUseError, 'we hold it now');
      lock.release();
      assert.equal(fs.existsSync(lock.file), false);
    });

    it('npm start refuses a held database before starting anything, in one line', async function () {
      this.timeout(120_000);
      const db = path.join(dir, 'dev.db');
      const other = liveProcess();
      fs.writeFileSync(
        lockFileOf(db),
        JSON.stringify({ ownerPid: other, address: '127.0.0.1:7233', startedAt: '2026-11-26T10:00:00.000Z' }),
      );
      const ran = await runStart({
        TEMPORAL_DEV_DB: db,
        TEMPORAL_DEV_PORT: String(await freePort()),
        TEMPORAL_UI_PORT: String(await freePort()),
        HITL_API_PORT: String(await freePort()),
      });
      assert.equal(ran.code, 1, ran.stderr);
      assert.match(ran.stderr, new RegExp(`^\\S*dev\\.db is in use by another npm start \\(pid ${other}, `));
      assert.equal(ran.stderr.trim().split('\n').length, 1, ran.stderr);
      assert.equal(fs.existsSync(db), false, 'no server opened the database');
    });

    it("npm start: the API's port in use is one line, before anything starts", async function () {
      this.timeout(120_000);
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const { port } = blocker.address() as net.AddressInfo;
      try {
        const ran = await runStart({
          TEMPORAL_DEV_DB: path.join(dir, 'dev.db'),
          TEMPORAL_DEV_PORT: String(await freePort()),
          TEMPORAL_UI_PORT: String(await freePort()),
          HITL_API_PORT: String(port),
        });
        assert.equal(ran.code, 1, ran.stderr);
        assert.equal(
          ran.stderr,
          `port ${port} is in use — is another npm start (its HTTP API) running? Set HITL_API_PORT=<free port> to use another one\n`,
        );
        assert.equal(fs.existsSync(path.join(dir, 'dev.db')), false, 'nothing started');
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });

    it("the port-in-use hint does not call a live npm start's server a leftover", async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const { port } = blocker.address() as net.AddressInfo;
      const record = path.join(TEMPORAL_DIR, `dev-server-${port}.json`);
      const server = liveProcess();
      try {
        fs.mkdirSync(TEMPORAL_DIR, { recursive: true });
        const db = path.join(dir, 'dev.db');
        fs.writeFileSync(
          record,
          JSON.stringify({ serverPid: server, ownerPid: process.pid, address: `127.0.0.1:${port}`, dbFilename: db }),
        );
        await assert.rejects(assertPortFree('127.0.0.1', port, 'TEMPORAL_DEV_PORT'), (err: Error) => {
          assert.match(err.message, new RegExp(`the dev server of the npm start running as pid ${process.pid}`));
          assert.match(err.message, /TEMPORAL_DEV_DB=<another file>/);
          assert.doesNotMatch(err.message, /kill/);
          return true;
        });
        // Its npm start is gone: now it is a leftover, and the hint says how to stop it.
        fs.writeFileSync(
          record,
          JSON.stringify({ serverPid: server, ownerPid: deadPid(), address: `127.0.0.1:${port}` }),
        );
        await assert.rejects(assertPortFree('127.0.0.1', port, 'TEMPORAL_DEV_PORT'), (err: Error) => {
          assert.match(err.message, new RegExp(`still runs as pid ${server}: kill ${server}\\)$`));
          return true;
        });
      } finally {
        fs.rmSync(record, { force: true });
        await new Promise((resolve) => blocker.close(resolve));
      }
    });
  });
});

/** `run` appears in `args` as consecutive items. */
function includesRun(args: string[], run: string[]): boolean {
  return args.some((_, i) => run.every((item, j) => args[i + j] === item));
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs `npm start`'s entry (src/dev/start.ts) with `env` added; resolves when it exits. */
function runStart(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/dev/start.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
