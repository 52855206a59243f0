import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareResults, formatComparison } from './compare-results.js';

describe('compareResults', () => {
  const a = { completed: 10, failed: 0, output_throughput: 100, median_ttft_ms: 50, seed: 0, date: 'x', itls: [1] };
  const b = { completed: 10, failed: 1, output_throughput: 250, median_ttft_ms: 25, seed: 1, extra: 3 };
  const rows = compareResults(a, b);
  test('shared numeric figures only, settings left out, B / A', () => {
    assert.deepEqual(
      rows.map((r) => r.field),
      ['completed', 'failed', 'output_throughput', 'median_ttft_ms'],
    );
    assert.equal(rows.find((r) => r.field === 'output_throughput')!.ratio, 2.5);
    assert.ok(Number.isNaN(rows.find((r) => r.field === 'failed')!.ratio));
  });
  test('the better side: higher throughput, lower latency and failures', () => {
    const text = formatComparison(rows, 'a.json', 'b.json');
    assert.match(text, /output_throughput\s+100\s+250\s+2\.500x\s+B/);
    assert.match(text, /median_ttft_ms\s+50\s+25\s+0\.500x\s+B/);
    assert.match(text, /failed\s+0\s+1\s+-\s+A/);
  });
});
