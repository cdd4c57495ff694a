// The benchmark prints issue 16's ratio targets from its rows: the paired ratio when the trials give one,
// else the ratio of medians; a bound is met or not, and a side that did not run is said so.
import assert from 'node:assert/strict';
import { ratioTargetsText, type Row } from '../../bench/lib/report';

const latency = (p50: number) => ({
  kind: 'latency' as const,
  value: { p50, p95: p50 * 2, p99: p50 * 3, max: p50 * 4, mean: p50 },
});
const number = (value: number) => ({ kind: 'number' as const, value });
const columns = { floor: 'floor', shaped: 'shaped floor' };

describe('bench: ratio targets', () => {
  it('reads the paired ratio first, then the ratio of medians (p50 for latencies)', () => {
    const rows: Row[] = [
      {
        section: 'idle',
        metric: 'start → paused (p50 / p95 / p99)',
        unit: 'ms',
        ours: latency(36),
        floor: latency(24),
        shaped: latency(30),
        pairedFloor: 1.1,
        ratioTarget: { max: 1.2 },
      },
    ];
    const text = ratioTargetsText(rows, columns);
    // Paired 1.10 against the floor passes although 36 ÷ 24 = 1.5; against the shaped floor 36 ÷ 30 = 1.2.
    assert.match(text, /idle: start → paused ≤ 1\.2 +÷ floor: 1\.10× PASS +÷ shaped floor: 1\.20× PASS/);
    assert.doesNotMatch(text, /p50 \//);
  });

  it('fails a throughput below its minimum, and says when a side was not measured', () => {
    const rows: Row[] = [
      {
        section: 'throughput',
        metric: 'approve cycles/s, 10 concurrent',
        unit: 'cycles/s',
        ours: number(21.8),
        floor: number(28.2),
        pairedFloor: 0.77,
        ratioTarget: { min: 0.9 },
        higherIsBetter: true,
      },
    ];
    assert.match(ratioTargetsText(rows, columns), /÷ floor: 0\.77× FAIL +÷ shaped floor: NOT MEASURED/);
  });

  it('prints nothing when no row has a target', () => {
    assert.equal(
      ratioTargetsText([{ section: 's', metric: 'm', unit: 'ms', ours: number(1), floor: number(1) }], columns),
      '',
    );
  });
});
