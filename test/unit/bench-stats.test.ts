// The benchmark's paired ratio: the median over trials of ours ÷ floor within each (interleaved) trial.
import assert from 'node:assert/strict';
import { pairedRatio } from '../../bench/lib/stats';

describe('bench: pairedRatio', () => {
  it('is the median of the per-trial ratios, not the ratio of the medians', () => {
    // Medians 20 and 20 (ratio 1.0), but ours was slower in two of three trials.
    const ours = [26, 20, 13];
    const floor = [20, 10, 26];
    assert.equal(pairedRatio(ours, floor), 1.3);
  });

  it('pairs trials by index and skips pairs it cannot divide', () => {
    assert.equal(pairedRatio([10, 30, Number.NaN, 40], [10, 0, 5, 20]), 1.5);
    assert.equal(pairedRatio([10, 20, 30], [10]), 1);
  });

  it('is undefined without a pair', () => {
    assert.equal(pairedRatio(undefined, [1]), undefined);
    assert.equal(pairedRatio([1], undefined), undefined);
    assert.equal(pairedRatio([], []), undefined);
    assert.equal(pairedRatio([1], [0]), undefined);
  });
});
