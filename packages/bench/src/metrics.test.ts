import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyOutput, type RequestOutput } from './bench-request.js';
import { calculateMetrics, parseGoodput, peakConcurrency, timeSeries } from './metrics.js';
import { at } from '@loom/common';

/** A finished request: sent at `start` s, first token after `ttft`, then chunk gaps `itl`, `tokens` generated. */
function req(start: number, ttft: number, itl: number[], tokens: number, promptLen = 10): RequestOutput {
  return {
    ...emptyOutput(promptLen, start),
    success: true,
    status: 200,
    ttft,
    itl,
    latency: ttft + itl.reduce((s, x) => s + x, 0),
    outputTokens: tokens,
  };
}
const failed = (start: number): RequestOutput => ({ ...emptyOutput(7, start), status: 429, error: 'HTTP 429' });
const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-9, msg ?? `${a} != ${b}`);

describe('calculateMetrics (vLLM definitions)', () => {
  const outputs = [
    req(0, 0.1, [0.02, 0.02, 0.02], 4), // tpot (0.16 - 0.1) / 3 = 0.02
    req(0.5, 0.3, [0.05, 0.05], 3), // tpot 0.05
    req(1, 0.2, [], 1), // one token: no tpot sample, tpot 0 for goodput
    failed(1.2),
  ];
  const m = calculateMetrics(outputs, 2, [50, 99], { ttft: 250, tpot: 30 });

  test('counts, throughput and token totals are over successful requests only', () => {
    assert.equal(m.completed, 3);
    assert.equal(m.failed, 1);
    assert.equal(m.totalInput, 30);
    assert.equal(m.totalOutput, 8);
    close(m.requestThroughput, 1.5);
    close(m.outputThroughput, 4);
    close(m.totalTokenThroughput, 19);
  });
  test('TTFT, TPOT excluding the first token, ITL pooled over chunks, e2e', () => {
    close(m.ttft.mean, 200);
    close(m.ttft.median, 200);
    close(m.tpot.mean, 35); // (20 + 50) / 2: the one-token request has no TPOT
    close(m.itl.mean, (3 * 20 + 2 * 50) / 5);
    close(m.e2el.median, 200);
    close(at(m.e2el.percentiles, 1)[1], 396); // sorted 160, 200, 400: rank 1.98
  });
  test('goodput: a request is good when it meets every SLO', () => {
    // #1 ttft 100 tpot 20: good; #2 ttft 300: bad; #3 ttft 200, tpot 0: good.
    close(m.requestGoodput!, 1);
    assert.equal(calculateMetrics(outputs, 2, [50]).requestGoodput, undefined);
  });
  test('peak concurrency sweeps half-open intervals (an end before a start at the same time)', () => {
    assert.equal(peakConcurrency([req(0, 1, [], 1), req(1, 1, [], 1)]), 1);
    assert.equal(peakConcurrency([req(0, 1, [], 1), req(0.5, 1, [], 1)]), 2);
    assert.equal(m.maxConcurrentRequests, 1); // [0, 0.16), [0.5, 0.9), [1, 1.2)
  });
  test('no successful request gives zeros, not NaN', () => {
    const z = calculateMetrics([failed(0)], 1, [99]);
    assert.equal(z.completed, 0);
    assert.equal(z.ttft.mean, 0);
    assert.equal(z.maxOutputTokensPerS, 0);
  });
});

describe('timeSeries', () => {
  test('spreads each request’s tokens over its chunks and counts requests running at bucket middles', () => {
    const s = timeSeries([req(0, 0.1, [1], 4), req(0.5, 0.2, [], 2)], 0.5);
    assert.deepEqual(s.t, [0, 0.5, 1]);
    // request 1: chunks at 0.1 and 1.1 (2 tokens each); request 2: one chunk at 0.7 (2 tokens)
    assert.deepEqual(s.outputTokensPerS, [4, 4, 4]);
    // middles 0.25, 0.75, 1.25: request 1 runs [0, 1.1), request 2 [0.5, 0.7)
    assert.deepEqual(s.running, [1, 1, 0]);
  });
});

describe('parseGoodput', () => {
  test('reads NAME:MS pairs, space or comma separated', () => {
    assert.deepEqual(parseGoodput(['ttft:500', 'tpot:50']), { ttft: 500, tpot: 50 });
    assert.deepEqual(parseGoodput('e2el:1000,ttft:2'), { e2el: 1000, ttft: 2 });
  });
  test('refuses unknown names and bad values', () => {
    assert.throws(() => parseGoodput(['itl:5']), /--goodput itl:5/);
    assert.throws(() => parseGoodput(['ttft:-1']), /MS >= 0/);
    assert.throws(() => parseGoodput(['ttft']), /NAME:MS/);
  });
});
