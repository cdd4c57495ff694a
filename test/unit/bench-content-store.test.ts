// The benchmarks keep their transcripts in a store of their own, never in `.temporal/content.db` (npm start's).
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { useBenchContentStore } from '../../bench/temporal/side';
import { DEFAULT_SQLITE_PATH, loadContentStoreConfig } from '../../src/content-store/config';

describe('bench: content store', () => {
  let saved: string | undefined;
  beforeEach(() => (saved = process.env.HITL_CONTENT_STORE));
  afterEach(() => {
    if (saved === undefined) delete process.env.HITL_CONTENT_STORE;
    else process.env.HITL_CONTENT_STORE = saved;
  });

  it("points this process and its children at the bench's folder, whatever the environment said", () => {
    const dir = path.join(os.tmpdir(), 'hitl-bench-x');
    for (const before of [undefined, `sqlite:${DEFAULT_SQLITE_PATH}`]) {
      if (before === undefined) delete process.env.HITL_CONTENT_STORE;
      else process.env.HITL_CONTENT_STORE = before;
      useBenchContentStore(dir);
      const config = loadContentStoreConfig();
      assert.equal(config.kind, 'sqlite');
      assert.equal(config.kind === 'sqlite' ? config.path : '', path.join(dir, 'content.db'));
    }
  });
});
