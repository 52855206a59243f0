import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { arrivalTimes } from './arrivals.js';
import { Rng } from './random-variates.js';
import { mean, std } from './stats.js';
import { at } from '@loom/common';

describe('arrival times', () => {
  test('rate inf sends everything at 0', () => {
    assert.deepEqual(arrivalTimes(4, Infinity, 1, new Rng(1)), [0, 0, 0, 0]);
  });
  test('burstiness inf is a fixed gap of 1 / rate', () => {
    const t = arrivalTimes(4, 2, Infinity, new Rng(1));
    t.forEach((x, i) => assert.ok(Math.abs(x - (i + 1) / 2) < 1e-12));
  });
  test('the last arrival lands at n / rate, and times increase', () => {
    for (const k of [0.25, 1, 4]) {
      const t = arrivalTimes(500, 10, k, new Rng(7));
      assert.ok(Math.abs(at(t, t.length - 1) - 50) < 1e-9);
      for (let i = 1; i < t.length; i++) assert.ok(at(t, i) >= at(t, i - 1));
    }
  });
  test('the gaps have the coefficient of variation 1 / sqrt(burstiness) (Poisson: 1)', () => {
    for (const k of [0.25, 1, 4]) {
      const t = arrivalTimes(20_000, 10, k, new Rng(3));
      const gaps = t.map((x, i) => x - (i ? at(t, i - 1) : 0));
      const cv = std(gaps) / mean(gaps);
      assert.ok(Math.abs(cv - 1 / Math.sqrt(k)) < 0.06 / Math.sqrt(k), `burstiness ${k}: cv ${cv}`);
    }
  });
  test('the same seed gives the same times', () => {
    assert.deepEqual(arrivalTimes(50, 3, 1, new Rng(9)), arrivalTimes(50, 3, 1, new Rng(9)));
    assert.notDeepEqual(arrivalTimes(50, 3, 1, new Rng(9)), arrivalTimes(50, 3, 1, new Rng(10)));
  });
  test('bad rate or burstiness is refused', () => {
    assert.throws(() => arrivalTimes(3, 0, 1, new Rng(1)), /rate/);
    assert.throws(() => arrivalTimes(3, 1, 0, new Rng(1)), /burstiness/);
  });
});

describe('Rng.gamma', () => {
  test('mean k·θ and variance k·θ² for shapes below and above 1', () => {
    for (const [k, theta] of [
      [0.5, 2],
      [1, 1],
      [3, 0.5],
    ] as const) {
      const rng = new Rng(11);
      const xs = Array.from({ length: 40_000 }, () => rng.gamma(k, theta));
      assert.ok(Math.abs(mean(xs) - k * theta) < 0.03 * k * theta + 0.01, `mean for k=${k}`);
      assert.ok(Math.abs(std(xs) ** 2 - k * theta * theta) < 0.08 * k * theta * theta, `variance for k=${k}`);
      assert.ok(xs.every((x) => x > 0));
    }
  });
});
