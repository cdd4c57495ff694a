import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  ContentStoreConfigError,
  DEFAULT_SQLITE_PATH,
  describeContentStoreConfig,
  loadContentStoreConfig,
  openContentStore,
  parseByteSize,
  parseDurationMs,
  redactConnectionString,
  type ContentStoreConfig,
} from '../../src/content-store';

const DAY = 86_400_000;

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadContentStoreConfig(env);
  } catch (error) {
    assert.ok(error instanceof ContentStoreConfigError, String(error));
    assert.ok(!error.message.includes('\n'));
    return error.message;
  }
  assert.fail('expected a ContentStoreConfigError');
}

describe('content store: configuration', () => {
  it('defaults: SQLite in .temporal/content.db, 30 days, 64 MiB', () => {
    for (const env of [{}, { HITL_CONTENT_STORE: '', HITL_CONTENT_RETENTION: ' ' }]) {
      assert.deepEqual(loadContentStoreConfig(env), {
        kind: 'sqlite',
        path: DEFAULT_SQLITE_PATH,
        retentionMs: 30 * DAY,
        closeOrphans: true,
        maxContentBytes: 64 * 1024 * 1024,
      });
    }
  });

  it('sqlite:<path> resolves a relative path against the working directory', () => {
    const config = loadContentStoreConfig({ HITL_CONTENT_STORE: 'sqlite:data/content.db' });
    assert.deepEqual(config, { ...loadContentStoreConfig({}), path: path.resolve('data/content.db') });
    assert.match(configError({ HITL_CONTENT_STORE: 'sqlite:' }), /^HITL_CONTENT_STORE: expected sqlite:<path/);
  });

  it('postgres:// and postgresql:// select PostgreSQL with a pool of 4 (HITL_CONTENT_POOL_SIZE)', () => {
    const url = 'postgres://hitl:s3cret@db.internal:5432/hitl';
    assert.deepEqual(loadContentStoreConfig({ HITL_CONTENT_STORE: url }), {
      kind: 'postgres',
      connectionString: url,
      poolSize: 4,
      retentionMs: 30 * DAY,
      closeOrphans: true,
      maxContentBytes: 64 * 1024 * 1024,
    });
    const other = loadContentStoreConfig({ HITL_CONTENT_STORE: 'PostgreSQL://h/db', HITL_CONTENT_POOL_SIZE: '10' });
    assert.equal(other.kind === 'postgres' && other.connectionString, 'postgresql://h/db');
    assert.equal(other.kind === 'postgres' && other.poolSize, 10);
    assert.match(
      configError({ HITL_CONTENT_STORE: url, HITL_CONTENT_POOL_SIZE: '0' }),
      /^HITL_CONTENT_POOL_SIZE: expected/,
    );
  });

  it('HITL_CONTENT_RETENTION and HITL_CONTENT_MAX_BYTES', () => {
    const config = loadContentStoreConfig({ HITL_CONTENT_RETENTION: '12h', HITL_CONTENT_MAX_BYTES: '512KiB' });
    assert.equal(config.retentionMs, 12 * 3_600_000);
    assert.equal(config.maxContentBytes, 512 * 1024);
    assert.equal(parseDurationMs('30d'), 30 * DAY);
    assert.equal(parseDurationMs('0s'), 0);
    assert.equal(parseDurationMs('1.5h'), 5_400_000);
    assert.equal(parseDurationMs('500ms'), 500);
    for (const bad of ['30', 'd', '-1d', '1w', '']) assert.equal(parseDurationMs(bad), undefined, bad);
    assert.equal(parseByteSize('1048576'), 1_048_576);
    assert.equal(parseByteSize('64MiB'), 64 * 1024 * 1024);
    assert.equal(parseByteSize('1GB'), 1e9);
    for (const bad of ['0', '2GB', '1.5TB', 'lots', '']) assert.equal(parseByteSize(bad), undefined, bad);
    assert.equal(
      configError({ HITL_CONTENT_RETENTION: '1 month' }),
      'HITL_CONTENT_RETENTION: expected a duration such as 30d, 12h, 90m or 0s, got "1 month"',
    );
    assert.match(configError({ HITL_CONTENT_MAX_BYTES: '2GiB' }), /^HITL_CONTENT_MAX_BYTES: expected a size/);
  });

  it('HITL_CONTENT_ORPHANS: close (the default) or keep', () => {
    assert.equal(loadContentStoreConfig({ HITL_CONTENT_ORPHANS: 'close' }).closeOrphans, true);
    assert.equal(loadContentStoreConfig({ HITL_CONTENT_ORPHANS: ' Keep ' }).closeOrphans, false);
    assert.equal(
      configError({ HITL_CONTENT_ORPHANS: 'delete' }),
      'HITL_CONTENT_ORPHANS: expected close (the default) or keep, got "delete"',
    );
  });

  it('never shows a password: not in descriptions, not in errors', () => {
    const url = 'postgres://hitl:s3cret@db.internal:5432/hitl?sslmode=require&password=other';
    const config = loadContentStoreConfig({ HITL_CONTENT_STORE: url });
    const described = describeContentStoreConfig(config);
    assert.equal(described, 'postgres postgres://hitl:***@db.internal:5432/hitl?sslmode=require&password=***');
    assert.equal(describeContentStoreConfig(loadContentStoreConfig({})), `sqlite ${DEFAULT_SQLITE_PATH}`);
    // A misspelt scheme is refused, and the refusal does not echo the password either.
    const typo = configError({ HITL_CONTENT_STORE: 'postgress://hitl:s3cret@db/hitl' });
    assert.ok(!typo.includes('s3cret'), typo);
    assert.match(typo, /^HITL_CONTENT_STORE: expected sqlite:<path> or postgres:\/\//);
    assert.ok(!configError({ HITL_CONTENT_STORE: 'host=db password=s3cret' }).includes('s3cret'));
    assert.ok(!redactConnectionString("host=db password='s3 cret'").includes('s3'));
    assert.ok(!redactConnectionString('not a url :s3cret@').includes('s3cret'));
  });

  it('openContentStore refuses a bad configuration object without echoing it', () => {
    const bad = {
      kind: 'postgres',
      connectionString: 'mysql://root:s3cret@db/x',
      poolSize: 4,
      retentionMs: DAY,
      closeOrphans: true,
      maxContentBytes: 10,
    } as ContentStoreConfig;
    assert.throws(
      () => openContentStore(bad),
      (error: Error) => {
        assert.ok(error instanceof ContentStoreConfigError);
        assert.ok(!error.message.includes('s3cret'), error.message);
        assert.match(error.message, /connectionString/);
        return true;
      },
    );
  });
});
