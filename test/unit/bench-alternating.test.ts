// The idle figures come from sides taking turns cycle by cycle, in a rotated order; a failed cycle is counted,
// not recorded, and does not stop the others.
import assert from 'node:assert/strict';
import { alternatingIdle, cyclesPerSecondOneAtATime, interleavedClosedLoops, type Flow } from '../../bench/lib/load';
import { now, sleep } from '../../bench/lib/stats';

function flow(name: string, order: string[], failEvery = 0, beginMs = 0): Flow {
  let calls = 0;
  return {
    name,
    async begin() {
      calls += 1;
      order.push(name);
      if (beginMs > 0) await sleep(beginMs);
      if (failEvery > 0 && calls % failEvery === 0) throw new Error(`${name} failed`);
      return { key: `${name}-${calls}`, handle: undefined, tStart: 0, tPaused: 5 };
    },
    async finish() {
      return { tResolve: 5, tAck: 6, tTool: 7, tDone: 9 };
    },
  };
}

describe('bench: alternatingIdle', () => {
  it('gives every side its cycles, each round in a rotated order', async () => {
    const order: string[] = [];
    const results = await alternatingIdle([flow('a', order), flow('b', order), flow('c', order)], 3);
    assert.deepEqual(order, ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    for (const result of results) {
      assert.deepEqual(result.samples.startToPaused, [5, 5, 5]);
      assert.deepEqual(result.samples.resolveToDone, [4, 4, 4]);
      assert.equal(result.errors, 0);
    }
  });

  it('counts a failed cycle without recording it', async () => {
    const order: string[] = [];
    const [a, b] = await alternatingIdle([flow('a', order, 2), flow('b', order)], 4);
    assert.equal(a!.errors, 2);
    assert.equal(a!.firstError, 'a failed');
    assert.equal(a!.samples.startToPaused.length, 2);
    assert.equal(b!.samples.startToPaused.length, 4);
  });

  it('gives throughput one run at a time from the time the cycles took, failed ones included', async () => {
    const order: string[] = [];
    // Every cycle spends ≥ 20 ms in begin; every second one of `a` fails after spending it.
    const [a, b] = await alternatingIdle([flow('a', order, 2, 20), flow('b', order, 0, 20)], 4);
    assert.ok(a!.busyMs >= 4 * 20 && b!.busyMs >= 4 * 20, `busy ${a!.busyMs} / ${b!.busyMs} ms`);
    assert.equal(cyclesPerSecondOneAtATime(a!), (2 * 1000) / a!.busyMs);
    assert.equal(cyclesPerSecondOneAtATime(b!), (4 * 1000) / b!.busyMs);
    // a's failed cycles took time and completed nothing: fewer cycles per second than b's at the same pace.
    assert.ok(cyclesPerSecondOneAtATime(a!) < cyclesPerSecondOneAtATime(b!));
  });
});

/** A side whose cycles take `cycleMs` and carry real timestamps (closed loops count cycles by when they end). */
function timedFlow(name: string, cycleMs: number, failEvery = 0): Flow {
  let calls = 0;
  return {
    name,
    async begin() {
      calls += 1;
      const tStart = now();
      await sleep(cycleMs);
      if (failEvery > 0 && calls % failEvery === 0) throw new Error(`${name} failed`);
      return { key: `${name}-${calls}`, handle: undefined, tStart, tPaused: now() };
    },
    async finish() {
      const t = now();
      return { tResolve: t, tAck: t, tTool: t, tDone: t };
    },
  };
}

describe('bench: interleavedClosedLoops', () => {
  it('runs every side in blocks, every other round in reverse, and adds up its blocks', async () => {
    // Cycles of ~10 ms; each block is a closed loop of its own, 0.1 s measured.
    const blocks: string[] = [];
    const results = await interleavedClosedLoops(
      [timedFlow('a', 10), timedFlow('b', 10), timedFlow('c', 10)],
      { concurrency: 2, blocks: 3, seconds: 0.1, warmupSeconds: 0 },
      (side, block, result) => blocks.push(`${block}:${side.name}:${result.seconds}`),
    );
    assert.deepEqual(blocks, [
      '0:a:0.1',
      '0:b:0.1',
      '0:c:0.1',
      '1:c:0.1',
      '1:b:0.1',
      '1:a:0.1',
      '2:a:0.1',
      '2:b:0.1',
      '2:c:0.1',
    ]);
    for (const result of results) {
      assert.ok(Math.abs(result.seconds - 0.3) < 1e-9, `seconds ${result.seconds}`);
      assert.ok(result.completed > 0);
      assert.equal(result.samples.cycle.length, result.completed);
      assert.equal(result.cyclesPerSecond, result.completed / result.seconds);
      assert.equal(result.errors, 0);
    }
  });

  it('keeps every block’s failures and the first error', async () => {
    const [a, b] = await interleavedClosedLoops([timedFlow('a', 5, 3), timedFlow('b', 5)], {
      concurrency: 1,
      blocks: 2,
      seconds: 0.1,
      warmupSeconds: 0,
    });
    assert.ok(a!.errors >= 2, `errors ${a!.errors}`);
    assert.equal(a!.firstError, 'a failed');
    assert.equal(b!.errors, 0);
    assert.equal(b!.firstError, undefined);
  });

  it('makes a block’s window last `windowCycles` of the warm-up’s cycles when they are longer than `seconds`', async () => {
    // Cycles of ~50 ms; a window of 0.02 s would hold none or one of them.
    const [short] = await interleavedClosedLoops([timedFlow('a', 50)], {
      concurrency: 1,
      blocks: 1,
      seconds: 0.02,
      warmupSeconds: 0,
    });
    assert.equal(short!.seconds, 0.02);
    const [long] = await interleavedClosedLoops([timedFlow('a', 50)], {
      concurrency: 1,
      blocks: 1,
      seconds: 0.02,
      warmupSeconds: 0,
      windowCycles: 6,
    });
    assert.ok(long!.seconds >= 0.28 && long!.seconds < 1, `window ${long!.seconds} s`);
    assert.ok(long!.completed >= 4 && long!.completed <= 7, `completed ${long!.completed}`);
    assert.equal(long!.cyclesPerSecond, long!.completed / long!.seconds);
  });

  it('refuses a block count that is not a positive integer', async () => {
    await assert.rejects(
      interleavedClosedLoops([flow('a', [])], { concurrency: 1, blocks: 0, seconds: 0.1, warmupSeconds: 0 }),
      /blocks must be a positive integer/,
    );
  });
});
