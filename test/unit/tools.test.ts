import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import {
  MAX_TOOL_RESULT_CHARS,
  type CallModelRequest,
  type ExecuteToolRequest,
  type JsonObject,
} from '../../src/contracts';
import {
  createActivities,
  resolveSandboxPath,
  createDefaultToolRegistry,
  defineTool,
  IdempotencyLedger,
  INVALID_ARGUMENTS_KEY,
  LEDGER_DIR_NAME,
  loadActivitiesConfigFromEnv,
  ModelErrorType,
  parseActivitiesConfig,
  SCRIPT_EXHAUSTED_TURN,
  ToolRegistry,
  TransientToolError,
  USERS_DIR_NAME,
  userSandboxDir,
  userSandboxFolder,
  writeFileAtomic,
  type ToolContext,
} from '../../src/activities';
import type { HitlActivities } from '../../src/contracts';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

async function readFileIfExists(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

describe('activities: tools', function () {
  let sandboxDir: string;
  /** The folder of u1, the user of `call`: where its tools read and write. */
  let userDir: string;
  let outsideDir: string;
  let activities: HitlActivities;
  let callCounter = 0;

  beforeEach(async function () {
    sandboxDir = await mkdtemp(path.join(tmpdir(), 'hitl-sandbox-'));
    userDir = userSandboxDir(sandboxDir, 'u1');
    outsideDir = await mkdtemp(path.join(tmpdir(), 'hitl-outside-'));
    activities = createActivities(parseActivitiesConfig({ sandboxDir }));
  });
  afterEach(async function () {
    await rm(sandboxDir, { recursive: true, force: true });
    await rm(outsideDir, { recursive: true, force: true });
  });

  /** One tool call of user u1 with a fresh idempotency key unless one is given. */
  function call(name: string, args: JsonObject, idempotencyKey?: string): Promise<{ status: string; content: string }> {
    return callAs('u1', name, args, idempotencyKey);
  }

  /** One tool call of `userId` with a fresh idempotency key unless one is given. */
  function callAs(
    userId: string,
    name: string,
    args: JsonObject,
    idempotencyKey?: string,
  ): Promise<{ status: string; content: string }> {
    callCounter += 1;
    const request: ExecuteToolRequest = {
      runId: 'run-1',
      userId,
      conversationId: 'c1',
      toolCallId: `call_${callCounter}`,
      name,
      arguments: args,
      idempotencyKey: idempotencyKey ?? `run-1/call_${callCounter}`,
    };
    return activities.executeTool(request);
  }

  describe('registry', function () {
    it('answers an unknown tool with an error result', async function () {
      assert.deepEqual(await call('format_disk', {}), { status: 'error', content: 'Unknown tool "format_disk"' });
    });

    it('answers invalid arguments with readable zod issues', async function () {
      const result = await call('write_file', { path: 42 });
      assert.equal(result.status, 'error');
      assert.match(result.content, /^Invalid arguments for "write_file": /);
      assert.match(result.content, /path: /);
      assert.match(result.content, /content: /);
    });

    it('refuses arguments the model sent as broken JSON', async function () {
      const result = await call('noop', { [INVALID_ARGUMENTS_KEY]: '{"oops' });
      assert.equal(result.status, 'error');
      assert.match(result.content, /^Invalid arguments for "noop"/);
    });

    it('turns a throwing tool into an error result, but rethrows transient errors', async function () {
      const registry = new ToolRegistry()
        .register(
          defineTool({
            name: 'boom',
            description: 'throws',
            argsSchema: z.object({}),
            execute: () => Promise.reject(new Error('disk on fire')),
          }),
        )
        .register(
          defineTool({
            name: 'flaky',
            description: 'transient',
            argsSchema: z.object({}),
            execute: () => Promise.reject(new TransientToolError('upstream busy')),
          }),
        );
      const ctx: ToolContext = {
        idempotencyKey: 'k',
        runId: 'r',
        toolCallId: 'c',
        userId: 'u1',
        conversationId: 'c1',
        sandboxDir,
      };
      assert.deepEqual(await registry.execute('boom', {}, ctx), {
        status: 'error',
        content: 'Tool "boom" failed: disk on fire',
      });
      const error = await rejection(registry.execute('flaky', {}, ctx));
      assert.ok(error instanceof TransientToolError);
    });

    it('stringifies JSON results and truncates long ones', async function () {
      const registry = new ToolRegistry()
        .register(
          defineTool({
            name: 'json',
            description: 'object',
            argsSchema: z.object({ n: z.number() }),
            execute: async (args) => ({ doubled: args.n * 2, list: [1, 'a', null] }),
          }),
        )
        .register(
          defineTool({
            name: 'huge',
            description: 'long',
            argsSchema: z.object({}),
            execute: async () => 'x'.repeat(MAX_TOOL_RESULT_CHARS + 500),
          }),
        );
      const ctx: ToolContext = {
        idempotencyKey: 'k',
        runId: 'r',
        toolCallId: 'c',
        userId: 'u1',
        conversationId: 'c1',
        sandboxDir,
      };
      assert.deepEqual(await registry.execute('json', { n: 21 }, ctx), {
        status: 'success',
        content: '{"doubled":42,"list":[1,"a",null]}',
      });
      const huge = await registry.execute('huge', {}, ctx);
      assert.equal(huge.status, 'success');
      assert.equal(huge.content.length, MAX_TOOL_RESULT_CHARS);
      assert.match(huge.content, /truncated\]$/);
    });

    it('refuses duplicate names, bad names and non-object schemas; describes requested tools', function () {
      const registry = createDefaultToolRegistry();
      assert.throws(() => registry.register(defineTool({ ...registry.get('noop')! })), /already registered/);
      assert.throws(
        () =>
          registry.register(
            defineTool({ name: 'has space', description: '', argsSchema: z.object({}), execute: async () => '' }),
          ),
        /Invalid tool name/,
      );
      assert.throws(
        () =>
          registry.register(
            defineTool({ name: 'scalar', description: '', argsSchema: z.string(), execute: async () => '' }),
          ),
        /JSON object/,
      );
      assert.deepEqual(
        registry.list().map((t) => t.name),
        ['list_files', 'read_file', 'write_file', 'append_file', 'delete_file', 'noop', 'sleep', 'ask_user_question'],
      );
      const described = registry.describe(['delete_file', 'missing', 'noop']);
      assert.deepEqual(
        described.map((d) => d.name),
        ['delete_file', 'noop'],
      );
      assert.deepEqual(described[0]?.inputJsonSchema.required, ['path']);
    });
  });

  describe('sandbox files', function () {
    it('concurrent writes into a folder that does not exist yet are never refused as a "dangling symlink"', async function () {
      // Regression: a folder created by one call between another call's realpath and lstat was taken for
      // a dangling symlink, and that append was refused (seen as missing lines under load).
      const refused: string[] = [];
      for (let round = 0; round < 40; round += 1) {
        const root = path.join(sandboxDir, `round-${round}`);
        await Promise.all(
          Array.from({ length: 40 }, async (_, i) => {
            try {
              const target = await resolveSandboxPath(root, `new/deeper/file-${i}.txt`);
              await mkdir(path.dirname(target.absolute), { recursive: true });
              await writeFile(target.absolute, 'x');
            } catch (error) {
              refused.push(String(error));
            }
          }),
        );
      }
      assert.deepEqual(refused, []);
    });

    it('writes, reads, lists and deletes', async function () {
      assert.deepEqual(await call('write_file', { path: 'notes/todo.txt', content: 'buy milk' }), {
        status: 'success',
        content: 'Wrote 8 bytes to notes/todo.txt',
      });
      assert.equal(await readFile(path.join(userDir, 'notes/todo.txt'), 'utf8'), 'buy milk');
      assert.deepEqual(await call('read_file', { path: 'notes/todo.txt' }), { status: 'success', content: 'buy milk' });

      await call('write_file', { path: 'a.txt', content: 'A' });
      const root = await call('list_files', {});
      assert.equal(root.status, 'success');
      assert.deepEqual(JSON.parse(root.content), {
        path: '.',
        entries: [
          { name: 'a.txt', type: 'file', size: 1 },
          { name: 'notes', type: 'directory' },
        ],
      });
      const notes = await call('list_files', { path: 'notes' });
      assert.deepEqual(JSON.parse(notes.content), {
        path: 'notes',
        entries: [{ name: 'todo.txt', type: 'file', size: 8 }],
      });

      assert.deepEqual(await call('delete_file', { path: 'notes/todo.txt' }), {
        status: 'success',
        content: 'Deleted notes/todo.txt',
      });
      const afterDelete = await call('read_file', { path: 'notes/todo.txt' });
      assert.deepEqual(afterDelete, {
        status: 'error',
        content: 'Tool "read_file" failed: File not found: notes/todo.txt',
      });
      const missing = await call('delete_file', { path: 'never.txt' });
      assert.deepEqual(missing, { status: 'error', content: 'Tool "delete_file" failed: File not found: never.txt' });
    });

    it('overwrites a file with write_file', async function () {
      await call('write_file', { path: 'f.txt', content: 'one' });
      await call('write_file', { path: 'f.txt', content: 'two' });
      assert.equal(await readFile(path.join(userDir, 'f.txt'), 'utf8'), 'two');
    });

    const escapes: Array<[string, RegExp]> = [
      ['../outside.txt', /escapes the sandbox/],
      ['notes/../../outside.txt', /escapes the sandbox/],
      ['/etc/passwd', /Absolute paths are not allowed/],
      ['C:\\Windows\\win.ini', /Absolute paths are not allowed/],
      ['a\u0000b', /NUL byte/],
      [`${LEDGER_DIR_NAME}/x.json`, /reserved/],
    ];
    for (const [p, message] of escapes) {
      it(`refuses the path ${JSON.stringify(p)}`, async function () {
        for (const [tool, extra] of [
          ['read_file', {}],
          ['write_file', { content: 'x' }],
          ['delete_file', {}],
        ] as const) {
          const result = await call(tool, { path: p, ...extra });
          assert.equal(result.status, 'error', `${tool} ${p}`);
          assert.match(result.content, message);
        }
      });
    }

    it('allows .. that stays inside the sandbox', async function () {
      const result = await call('write_file', { path: 'a/../b.txt', content: 'ok' });
      assert.equal(result.status, 'success');
      assert.equal(await readFile(path.join(userDir, 'b.txt'), 'utf8'), 'ok');
    });

    it('refuses symlinks that lead out of the sandbox', async function () {
      await writeFile(path.join(outsideDir, 'secret.txt'), 'top secret');
      await mkdir(userDir, { recursive: true });
      await symlink(path.join(outsideDir, 'secret.txt'), path.join(userDir, 'link.txt'));
      await symlink(outsideDir, path.join(userDir, 'linkdir'));
      await symlink(path.join(outsideDir, 'nowhere.txt'), path.join(userDir, 'dangling.txt'));

      const read = await call('read_file', { path: 'link.txt' });
      assert.equal(read.status, 'error');
      assert.match(read.content, /outside the sandbox via a symlink/);
      const write = await call('write_file', { path: 'linkdir/new.txt', content: 'x' });
      assert.equal(write.status, 'error');
      assert.match(write.content, /outside the sandbox via a symlink/);
      const list = await call('list_files', { path: 'linkdir' });
      assert.equal(list.status, 'error');
      const dangling = await call('write_file', { path: 'dangling.txt', content: 'x' });
      assert.equal(dangling.status, 'error');
      assert.match(dangling.content, /dangling symlink/);

      assert.deepEqual(await readdir(outsideDir), ['secret.txt'], 'nothing was written outside');
      assert.equal(await readFile(path.join(outsideDir, 'secret.txt'), 'utf8'), 'top secret');
    });

    it('follows symlinks that stay inside the sandbox', async function () {
      await mkdir(path.join(userDir, 'real'), { recursive: true });
      await writeFile(path.join(userDir, 'real', 'f.txt'), 'inside');
      await symlink(path.join(userDir, 'real'), path.join(userDir, 'alias'));
      assert.deepEqual(await call('read_file', { path: 'alias/f.txt' }), { status: 'success', content: 'inside' });
    });

    it('hides the ledger from list_files', async function () {
      await call('append_file', { path: 'log.txt', content: 'x' });
      const listing = JSON.parse((await call('list_files', {})).content) as { entries: Array<{ name: string }> };
      assert.deepEqual(
        listing.entries.map((e) => e.name),
        ['log.txt'],
      );
    });
  });

  describe('idempotency', function () {
    it('runs append_file once for the same key and returns the first result again', async function () {
      const first = await call('append_file', { path: 'log.txt', content: 'line\n' }, 'run-1/call_same');
      const second = await call('append_file', { path: 'log.txt', content: 'line\n' }, 'run-1/call_same');
      assert.equal(first.status, 'success');
      assert.deepEqual(second, first);
      assert.equal(await readFile(path.join(userDir, 'log.txt'), 'utf8'), 'line\n');
    });

    it('runs append_file twice for different keys', async function () {
      await call('append_file', { path: 'log.txt', content: 'line\n' }, 'run-1/call_a');
      await call('append_file', { path: 'log.txt', content: 'line\n' }, 'run-1/call_b');
      assert.equal(await readFile(path.join(userDir, 'log.txt'), 'utf8'), 'line\nline\n');
    });

    it('runs concurrent attempts with one key once', async function () {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => call('append_file', { path: 'log.txt', content: 'x' }, 'run-1/call_race')),
      );
      assert.equal(await readFile(path.join(userDir, 'log.txt'), 'utf8'), 'x');
      assert.equal(new Set(results.map((r) => r.content)).size, 1);
    });

    it('refuses a key reused for different arguments', async function () {
      await call('append_file', { path: 'log.txt', content: 'a' }, 'run-1/call_k');
      const reused = await call('append_file', { path: 'log.txt', content: 'b' }, 'run-1/call_k');
      assert.equal(reused.status, 'error');
      assert.match(reused.content, /already used for a different call/);
      assert.equal(await readFile(path.join(userDir, 'log.txt'), 'utf8'), 'a');
    });

    it('treats delete of a missing file after an interrupted attempt as done', async function () {
      const key = 'run-1/call_del';
      await mkdir(userDir, { recursive: true });
      await writeFile(path.join(userDir, 'old.txt'), 'old');
      // Simulate a crash between the unlink and the result record: an intent record, file already gone.
      const ledger = IdempotencyLedger.forSandbox(userDir);
      await mkdir(ledger.dir, { recursive: true });
      await writeFileAtomic(
        ledger.recordPath(key),
        JSON.stringify({ version: 1, key, state: 'intent', attempts: 1, startedAt: new Date().toISOString() }),
      );
      await rm(path.join(userDir, 'old.txt'));
      assert.deepEqual(await call('delete_file', { path: 'old.txt' }, key), {
        status: 'success',
        content: 'Deleted old.txt',
      });
      const record = await ledger.get(key);
      assert.equal(record?.state, 'completed');
      assert.equal(record?.attempts, 2);
    });

    it('runs again after a failed attempt, without calling it resumed', async function () {
      const ledger = new IdempotencyLedger(path.join(sandboxDir, 'ledger'));
      const seen: boolean[] = [];
      await assert.rejects(
        ledger.runOnce('k', async (info) => {
          seen.push(info.resumed);
          throw new Error('failed before the effect');
        }),
      );
      assert.equal((await ledger.get('k'))?.state, 'failed');
      const result = await ledger.runOnce('k', async (info) => {
        seen.push(info.resumed);
        return { ok: true };
      });
      assert.deepEqual(result, { ok: true });
      assert.deepEqual(seen, [false, false]);
      assert.deepEqual(await ledger.runOnce('k', async () => assert.fail('must not run')), { ok: true });
    });

    it('stores records under sha256 names and leaves no temp files', async function () {
      await call('write_file', { path: 'f.txt', content: 'x' }, 'run-1/call_sha');
      const files = await readdir(path.join(userDir, LEDGER_DIR_NAME));
      assert.equal(files.length, 1);
      assert.match(files[0]!, /^[0-9a-f]{64}\.json$/);
      assert.deepEqual((await readdir(userDir)).sort(), [LEDGER_DIR_NAME, 'f.txt'].sort());
    });
  });

  describe('per-user isolation', function () {
    const SECRET = 'u1 secret';
    let usersDir: string;
    let u1Dir: string;
    let u2Dir: string;
    let u1Secret: string;

    beforeEach(function () {
      usersDir = path.join(sandboxDir, USERS_DIR_NAME);
      u1Dir = path.join(usersDir, 'u1');
      u2Dir = path.join(usersDir, 'u2');
      u1Secret = path.join(u1Dir, 'secret.txt');
    });

    /** u1 writes secret.txt, which must land in <root>/users/u1 and not in the shared root. */
    async function writeU1Secret(): Promise<void> {
      assert.deepEqual(await callAs('u1', 'write_file', { path: 'secret.txt', content: SECRET }), {
        status: 'success',
        content: `Wrote ${SECRET.length} bytes to secret.txt`,
      });
      assert.equal(await readFile(u1Secret, 'utf8'), SECRET);
      assert.equal(await readFileIfExists(path.join(sandboxDir, 'secret.txt')), undefined, 'not in the shared root');
    }

    /** u1's folder still holds its secret, unchanged, and nothing else but its ledger. */
    async function assertU1Untouched(): Promise<void> {
      assert.equal(await readFile(u1Secret, 'utf8'), SECRET);
      assert.deepEqual((await readdir(u1Dir)).sort(), [LEDGER_DIR_NAME, 'secret.txt'].sort());
    }

    /** u2 calls every file tool on `file` (and list_files on `dir`); each call must be refused with `refusal`. */
    async function assertU2Refused(file: string, dir: string, refusal: RegExp): Promise<void> {
      const attempts: Array<[string, JsonObject]> = [
        ['read_file', { path: file }],
        ['list_files', { path: dir }],
        ['list_files', { path: file }],
        ['append_file', { path: file, content: 'u2 was here\n' }],
        ['write_file', { path: file, content: 'u2 was here' }],
        ['delete_file', { path: file }],
      ];
      for (const [tool, args] of attempts) {
        const result = await callAs('u2', tool, args);
        assert.equal(result.status, 'error', `${tool} ${JSON.stringify(args)}: ${result.content}`);
        assert.match(result.content, refusal, `${tool} ${JSON.stringify(args)}`);
        assert.ok(!result.content.includes(SECRET));
      }
    }

    it("u2 cannot read, list, append to, overwrite or delete u1's secret.txt; u2's own secret.txt is another file", async function () {
      await writeU1Secret();
      assert.deepEqual(await callAs('u2', 'read_file', { path: 'secret.txt' }), {
        status: 'error',
        content: 'Tool "read_file" failed: File not found: secret.txt',
      });
      assert.deepEqual(JSON.parse((await callAs('u2', 'list_files', {})).content), { path: '.', entries: [] });
      assert.deepEqual(await callAs('u2', 'delete_file', { path: 'secret.txt' }), {
        status: 'error',
        content: 'Tool "delete_file" failed: File not found: secret.txt',
      });
      assert.equal((await callAs('u2', 'append_file', { path: 'secret.txt', content: 'u2 line\n' })).status, 'success');
      assert.equal(await readFile(path.join(u2Dir, 'secret.txt'), 'utf8'), 'u2 line\n');
      assert.equal((await callAs('u2', 'write_file', { path: 'secret.txt', content: 'u2 own' })).status, 'success');
      assert.deepEqual(await callAs('u2', 'read_file', { path: 'secret.txt' }), {
        status: 'success',
        content: 'u2 own',
      });
      assert.equal(await readFile(u1Secret, 'utf8'), SECRET, "u2's writes went to u2's file");
      assert.deepEqual(await callAs('u2', 'delete_file', { path: 'secret.txt' }), {
        status: 'success',
        content: 'Deleted secret.txt',
      });
      assert.equal(await readFileIfExists(path.join(u2Dir, 'secret.txt')), undefined);
      assert.deepEqual(await call('read_file', { path: 'secret.txt' }), { status: 'success', content: SECRET });
      await assertU1Untouched();
    });

    const escapes: Array<{ label: string; file: () => string; dir: () => string; refusal: RegExp }> = [
      { label: '../u1/secret.txt', file: () => '../u1/secret.txt', dir: () => '../u1', refusal: /escapes the sandbox/ },
      {
        label: '../../users/u1/secret.txt',
        file: () => '../../users/u1/secret.txt',
        dir: () => '../../users/u1',
        refusal: /escapes the sandbox/,
      },
      { label: 'an absolute path', file: () => u1Secret, dir: () => u1Dir, refusal: /Absolute paths are not allowed/ },
    ];
    for (const { label, file, dir, refusal } of escapes) {
      it(`u2 cannot read, list, append to, overwrite or delete u1's file through ${label}`, async function () {
        await writeU1Secret();
        await assertU2Refused(file(), dir(), refusal);
        await assertU1Untouched();
        // u2's folder may be created (empty) by the path check; nothing is written in it.
        assert.deepEqual(await readdir(u2Dir).catch(() => []), [], 'nothing was written for u2 either');
      });
    }

    it("u2 cannot use a symlink in its folder that points into u1's folder or to u1's file", async function () {
      await writeU1Secret();
      await mkdir(u2Dir, { recursive: true });
      await symlink(u1Dir, path.join(u2Dir, 'to-u1'));
      await symlink('../u1', path.join(u2Dir, 'to-u1-relative'));
      await symlink(u1Secret, path.join(u2Dir, 'secret.txt'));
      await symlink(usersDir, path.join(u2Dir, 'all-users'));
      const viaLinks: Array<[string, string]> = [
        ['to-u1/secret.txt', 'to-u1'],
        ['to-u1-relative/secret.txt', 'to-u1-relative'],
        ['secret.txt', 'all-users/u1'],
        ['all-users/u1/secret.txt', 'all-users'],
      ];
      for (const [file, dir] of viaLinks) await assertU2Refused(file, dir, /outside the sandbox via a symlink/);
      const create = await callAs('u2', 'write_file', { path: 'to-u1/planted.txt', content: 'x' });
      assert.equal(create.status, 'error');
      assert.match(create.content, /outside the sandbox via a symlink/);
      await assertU1Untouched();
      assert.deepEqual((await readdir(u2Dir)).sort(), ['all-users', 'secret.txt', 'to-u1', 'to-u1-relative']);
    });

    it("list_files of u2 at the root shows only u2's entries", async function () {
      await writeU1Secret();
      await callAs('u1', 'write_file', { path: 'notes/u1.txt', content: 'x' });
      await callAs('u2', 'write_file', { path: 'mine.txt', content: 'u2' });
      assert.deepEqual(JSON.parse((await callAs('u2', 'list_files', {})).content), {
        path: '.',
        entries: [{ name: 'mine.txt', type: 'file', size: 2 }],
      });
      const u1Listing = JSON.parse((await call('list_files', {})).content) as { entries: Array<{ name: string }> };
      assert.deepEqual(
        u1Listing.entries.map((e) => e.name),
        ['notes', 'secret.txt'],
      );
      assert.deepEqual((await readdir(usersDir)).sort(), ['u1', 'u2']);
    });

    it('maps odd user ids each to a folder of its own, strictly inside <root>/users/ and never users/u1', async function () {
      await writeU1Secret();
      const ids = [
        '../u1',
        'u1/../u2',
        '.',
        '..',
        'a/b',
        '/u1',
        'u1/',
        'u1\\..\\u2',
        'u1\u0000',
        'x'.repeat(300),
        'x'.repeat(65),
        'Ünïcødé-用户-😀',
        '用户',
        '\ud800',
        '\udc00',
        '\ufffd',
        '~u1',
      ];
      const realUsersDir = await realpath(usersDir);
      const seen = new Set(await readdir(usersDir));
      for (const [i, id] of ids.entries()) {
        const shown = JSON.stringify(id);
        const result = await callAs(id, 'write_file', { path: 'who.txt', content: `user ${i}` });
        assert.equal(result.status, 'success', `${shown}: ${result.content}`);
        // Exactly one new folder appeared, directly under users/, and it holds this user's file.
        const added = (await readdir(usersDir)).filter((name) => !seen.has(name));
        assert.equal(added.length, 1, `${shown} got one new folder: ${JSON.stringify(added)}`);
        const folder = added[0]!;
        seen.add(folder);
        assert.equal(folder, userSandboxFolder(id), shown);
        assert.notEqual(folder, 'u1', shown);
        assert.equal(path.dirname(await realpath(path.join(usersDir, folder))), realUsersDir, shown);
        assert.equal(await readFile(path.join(usersDir, folder, 'who.txt'), 'utf8'), `user ${i}`, shown);
      }
      assert.equal(seen.size, ids.length + 1, 'u1 plus one folder per id');
      await assertU1Untouched();
      assert.deepEqual(await readdir(sandboxDir), [USERS_DIR_NAME], 'nothing outside users/');
    });

    it('keeps each ledger in its user folder: a key u1 used never answers a call of u2', async function () {
      const key = 'run-1/call_shared_key';
      assert.equal((await callAs('u1', 'append_file', { path: 'log.txt', content: 'line\n' }, key)).status, 'success');
      assert.equal((await callAs('u2', 'append_file', { path: 'log.txt', content: 'line\n' }, key)).status, 'success');
      assert.equal(await readFile(path.join(u1Dir, 'log.txt'), 'utf8'), 'line\n');
      assert.equal(await readFile(path.join(u2Dir, 'log.txt'), 'utf8'), 'line\n', "u2's append ran");
      assert.equal((await readdir(path.join(u1Dir, LEDGER_DIR_NAME))).length, 1);
      assert.equal((await readdir(path.join(u2Dir, LEDGER_DIR_NAME))).length, 1);
      assert.deepEqual(await readdir(sandboxDir), [USERS_DIR_NAME]);
    });

    it('refuses a call without a user (from an older workflow) and touches nothing', async function () {
      const legacy: Omit<ExecuteToolRequest, 'userId'> = {
        runId: 'run-1',
        conversationId: 'c1',
        toolCallId: 'call_legacy',
        name: 'write_file',
        arguments: { path: 'legacy.txt', content: 'x' },
        idempotencyKey: 'run-1/call_legacy',
      };
      const requests: ExecuteToolRequest[] = [
        legacy as ExecuteToolRequest,
        { ...legacy, userId: '' },
        { ...legacy, userId: '', name: 'noop', arguments: {} },
      ];
      for (const request of requests) {
        assert.deepEqual(await activities.executeTool(request), {
          status: 'error',
          content: 'Tool call refused: it names no user, and tools run only in a user folder',
        });
      }
      assert.deepEqual(await readdir(sandboxDir), []);
    });
  });

  describe('noop and sleep', function () {
    it('noop returns ok', async function () {
      assert.deepEqual(await call('noop', {}), { status: 'success', content: 'ok' });
    });

    it('sleep heartbeats inside an activity', async function () {
      const env = new MockActivityEnvironment();
      let heartbeats = 0;
      env.on('heartbeat', () => (heartbeats += 1));
      const result = await env.run(activities.executeTool, {
        runId: 'r',
        userId: 'u1',
        conversationId: 'c1',
        toolCallId: 'c',
        name: 'sleep',
        arguments: { ms: 30 },
        idempotencyKey: 'r/c',
      });
      assert.deepEqual(result, { status: 'success', content: 'Slept 30 ms' });
      assert.ok(heartbeats >= 1);
    });

    it('a tool that ends within a second sends no heartbeat (no round trip for short calls)', async function () {
      const env = new MockActivityEnvironment();
      let heartbeats = 0;
      env.on('heartbeat', () => (heartbeats += 1));
      const result = await env.run(activities.executeTool, {
        runId: 'r',
        userId: 'u1',
        conversationId: 'c1',
        toolCallId: 'c',
        name: 'noop',
        arguments: {},
        idempotencyKey: 'r/c-noop',
      });
      assert.deepEqual(result, { status: 'success', content: 'ok' });
      assert.equal(heartbeats, 0);
    });

    it('sleep honours activity cancellation', async function () {
      const env = new MockActivityEnvironment();
      const started = Date.now();
      const running = env.run(activities.executeTool, {
        runId: 'r',
        userId: 'u1',
        conversationId: 'c1',
        toolCallId: 'c',
        name: 'sleep',
        arguments: { ms: 60_000 },
        idempotencyKey: 'r/c',
      });
      setTimeout(() => env.cancel(), 20);
      const error = await rejection(running);
      assert.ok(error instanceof Error);
      assert.ok(['AbortError', 'CancelledFailure'].includes(error.name), error.name);
      assert.ok(Date.now() - started < 5000);
    });
  });
});

describe('userSandboxFolder', function () {
  const sha = (id: string) => createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 32);

  it('keeps a plain id as it is', function () {
    for (const id of ['u1', 'A-b_9', '-', '_', 'x'.repeat(64)]) assert.equal(userSandboxFolder(id), id);
  });

  it('names every other id ~ + the first 32 hex digits of its sha256', function () {
    const ids = ['../u1', 'u1/../u2', '.', '..', 'a/b', 'u1.txt', '~u1', ' u1', 'u1\u0000', 'x'.repeat(65), '用户'];
    for (const id of ids) {
      assert.equal(userSandboxFolder(id), `~${sha(id)}`, JSON.stringify(id));
      assert.match(userSandboxFolder(id), /^~[0-9a-f]{32}$/);
    }
    assert.equal(new Set(ids.map(userSandboxFolder)).size, ids.length);
  });

  it('keeps apart ids that UTF-8 would merge (lone surrogates become U+FFFD)', function () {
    const ids = ['\ud800', '\udc00', '\ufffd', 'a\ud800', 'a\ufffd', '\udc00\ud800'];
    const folders = ids.map(userSandboxFolder);
    assert.equal(new Set(folders).size, ids.length);
    for (const folder of folders) assert.match(folder, /^~[0-9a-f]{32}$/);
    assert.equal(userSandboxFolder('\ufffd'), `~${sha('\ufffd')}`, 'a well-formed id keeps the plain rule');
  });

  it('refuses an empty id', function () {
    assert.throws(() => userSandboxFolder(''), /must not be empty/);
  });

  it('userSandboxDir is <root>/users/<folder>', function () {
    const root = path.join(tmpdir(), 'sandbox-root');
    assert.equal(userSandboxDir(root, 'u1'), path.join(root, 'users', 'u1'));
    assert.equal(userSandboxDir(root, '../u1'), path.join(root, 'users', userSandboxFolder('../u1')));
  });
});

describe('activities: scripted model', function () {
  const activities = createActivities(
    parseActivitiesConfig({ sandboxDir: path.join(tmpdir(), 'hitl-unused'), enableScripted: true }),
  );

  function request(callIndex: number, script: CallModelRequest['model']): CallModelRequest {
    return { runId: 'r', callIndex, model: script, messages: [{ role: 'user', content: 'hi' }], tools: [] };
  }

  const model: CallModelRequest['model'] = {
    provider: 'scripted',
    script: [
      { tool_calls: [{ id: 'call_1', name: 'delete_file', arguments: { path: 'old.txt' } }] },
      { content: 'Deleted it.' },
    ],
  };

  it('returns script[callIndex]', async function () {
    assert.deepEqual(await activities.callModel(request(0, model)), {
      tool_calls: [{ id: 'call_1', name: 'delete_file', arguments: { path: 'old.txt' } }],
    });
    assert.deepEqual(await activities.callModel(request(1, model)), { content: 'Deleted it.' });
  });

  it('returns a final text turn past the end', async function () {
    for (const index of [2, 3, 100]) {
      const turn = await activities.callModel(request(index, model));
      assert.deepEqual(turn, SCRIPT_EXHAUSTED_TURN);
      assert.equal(turn.tool_calls, undefined);
    }
    assert.deepEqual(await activities.callModel(request(0, { provider: 'scripted', script: [] })), {
      content: 'Done.',
    });
  });

  it('works inside an activity context', async function () {
    const env = new MockActivityEnvironment();
    assert.deepEqual(await env.run(activities.callModel, request(1, model)), { content: 'Deleted it.' });
  });

  it('rejects duplicate tool call ids in one turn (non-retryable)', async function () {
    const duplicate: CallModelRequest['model'] = {
      provider: 'scripted',
      script: [
        {
          tool_calls: [
            { id: 'call_1', name: 'noop', arguments: {} },
            { id: 'call_1', name: 'noop', arguments: {} },
          ],
        },
      ],
    };
    const error = await rejection(activities.callModel(request(0, duplicate)));
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, ModelErrorType.InvalidScriptedTurn);
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /unique/);
  });

  it('is refused with InvalidInput naming the provider on a worker without HITL_ENABLE_SCRIPTED', async function () {
    const strict = createActivities(parseActivitiesConfig({ sandboxDir: path.join(tmpdir(), 'hitl-unused') }));
    const error = await rejection(strict.callModel(request(0, model)));
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, 'InvalidInput');
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /provider "scripted"/);
    assert.match(error.message, /HITL_ENABLE_SCRIPTED=1/);
    assert.equal(loadActivitiesConfigFromEnv({}).enableScripted, false, 'off unless asked for');
    assert.equal(loadActivitiesConfigFromEnv({ HITL_ENABLE_SCRIPTED: '1' }).enableScripted, true);
    assert.throws(() => loadActivitiesConfigFromEnv({ HITL_ENABLE_SCRIPTED: 'maybe' }), /HITL_ENABLE_SCRIPTED/);
  });

  it('rejects a negative call index', async function () {
    const error = await rejection(activities.callModel(request(-1, model)));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.nonRetryable, true);
  });
});
