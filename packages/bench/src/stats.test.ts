import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mean, median, percentile, spread, std, summarize } from './stats.js';
import { at } from '@loom/common';

// Expected values are numpy's (np.percentile default 'linear', np.std ddof=0).
describe('stats match numpy', () => {
  test('percentile interpolates linearly between closest ranks', () => {
    assert.equal(percentile([1, 2, 3, 4], 90), 3.7);
    assert.ok(Math.abs(percentile([15, 20, 35, 40, 50], 40) - 29) < 1e-12);
    assert.equal(percentile([50, 15, 40, 20, 35], 100), 50);
    assert.equal(percentile([50, 15, 40, 20, 35], 0), 15);
    assert.equal(percentile([7], 99), 7);
    assert.equal(median([3, 1, 2, 10]), 2.5);
  });
  test('mean and population std', () => {
    assert.equal(mean([1, 2, 3, 4]), 2.5);
    assert.ok(Math.abs(std([1, 2, 3, 4]) - 1.118033988749895) < 1e-15);
  });
  test('empty lists summarise to 0, as vLLM does (np.mean(xs or 0))', () => {
    assert.deepEqual(summarize([], [50, 99]), {
      mean: 0,
      std: 0,
      median: 0,
      percentiles: [
        [50, 0],
        [99, 0],
      ],
    });
  });
  test('summarize scales (s to ms) and keeps the percentile order asked', () => {
    const s = summarize([0.001, 0.002, 0.003], [99, 50], 1000);
    assert.equal(s.mean, 2);
    assert.equal(s.median, 2);
    assert.deepEqual(
      s.percentiles.map(([p]) => p),
      [99, 50],
    );
    assert.ok(Math.abs(at(s.percentiles, 0)[1] - 2.98) < 1e-12);
  });
  test('spread gives median, min and max of repeats', () => {
    assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3 });
  });
});
