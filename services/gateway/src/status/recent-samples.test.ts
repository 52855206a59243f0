import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentSamples } from './recent-samples.js';

test('nearest-rank percentiles of the samples in the window', () => {
  const w = new RecentSamples(1000, 100, () => 0);
  assert.deepEqual(w.summary(), { count: 0, p50: null, p90: null, p99: null });
  for (let i = 1; i <= 10; i++) w.observe(i / 100);
  assert.deepEqual(w.summary(), { count: 10, p50: 0.05, p90: 0.09, p99: 0.1 });
  w.observe(5);
  assert.deepEqual(w.summary(), { count: 11, p50: 0.06, p90: 0.1, p99: 5 });
});

test('samples older than the window and beyond the capacity drop out', () => {
  let now = 0;
  const w = new RecentSamples(1000, 4, () => now);
  w.observe(9);
  now = 600;
  w.observe(1);
  w.observe(2);
  now = 1200; // the first sample is 1200 ms old now
  assert.deepEqual(w.summary(), { count: 2, p50: 1, p90: 2, p99: 2 });
  for (const v of [3, 4, 5]) w.observe(v); // capacity 4: the oldest is overwritten
  assert.deepEqual(w.summary(), { count: 4, p50: 3, p90: 5, p99: 5 });
});
