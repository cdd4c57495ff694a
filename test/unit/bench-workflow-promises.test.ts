// bench:replay's deterministic figures: promises created in a workflow (vm) context and the stack frames
// prepared for that context's errors, never the harness's own.
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { countWorkflowPromises } from '../../bench/lib/workflow-promises';

describe('bench: countWorkflowPromises', () => {
  const original = Error.prepareStackTrace;
  // The SDK's handler stands in here: the counter wraps whichever handler is installed.
  beforeEach(() => {
    Error.prepareStackTrace = (error, frames) => `${String(error)} (${frames.length} frames)`;
  });
  afterEach(() => {
    Error.prepareStackTrace = original;
  });

  it('counts the promises of another context and the frames of its errors, not this context’s', async () => {
    const stop = countWorkflowPromises();
    await Promise.resolve(1).then((value) => value + 1);
    void new Error('harness').stack;
    const sandbox = runInNewContext(`
      const made = [Promise.resolve(1), new Promise((resolve) => resolve(2)), (async () => 3)()];
      function deeper() { return new Error('workflow').stack; }
      ({ made, stack: deeper() });
    `) as { made: unknown[]; stack: string };
    const counts = stop();
    assert.equal(counts.promises, 3);
    const frames = Number(/\((\d+) frames\)$/.exec(sandbox.stack)?.[1]);
    assert.ok(frames >= 2, sandbox.stack);
    assert.equal(counts.frames, frames);
  });

  it('stops counting and gives the handler back', () => {
    const installed = Error.prepareStackTrace;
    const stop = countWorkflowPromises();
    assert.notEqual(Error.prepareStackTrace, installed);
    const counts = stop();
    assert.equal(Error.prepareStackTrace, installed);
    runInNewContext('Promise.resolve(1); new Error("after").stack');
    assert.deepEqual(stop(), counts);
  });
});
