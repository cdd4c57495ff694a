// The idle figures come from sides taking turns cycle by cycle, in a rotated order; a failed cycle is counted,
// not recorded, and does not stop the others.
import assert from 'node:assert/strict';
import { alternatingIdle, type Flow } from '../../bench/lib/load';

function flow(name: string, order: string[], failEvery = 0): Flow {
  let calls = 0;
  return {
    name,
    async begin() {
      calls += 1;
      order.push(name);
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
});
