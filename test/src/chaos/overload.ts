import { at } from '@loom/common';
import { calculateMetrics, OpenAIEndpoint, randomDataset, runLoad } from '@loom/bench';
import { startLocalCluster } from '../fixtures/local-cluster.js';
import { check, zero, type Figure, type ScenarioResult } from './chaos-report.js';
import { peakRssMiB, redisPid } from '../fixtures/process-stats.js';

export interface OverloadOptions {
  workers: number;
  /** Requests waiting per model before the gateway answers 429 (LOOM_MAX_QUEUE_LENGTH). */
  maxQueueLength: number;
  /** Seconds of calibration (closed loop) and of overload (open loop at `factor` × the calibrated rate). */
  calibrateSeconds: number;
  overloadSeconds: number;
  factor: number;
}

/**
 * The cluster's capacity is measured first (closed loop: as many streams as the workers run, for
 * `calibrateSeconds`); then requests arrive for `overloadSeconds` at `factor` times that rate
 * (Poisson). What cannot be queued must be refused at once with 429 and Retry-After (or 503 with
 * Retry-After when it waited too long), never a 500 or a dropped connection; every admitted request
 * must complete, with a latency bounded by the queue length; each process's peak RSS must stay near
 * its peak under the capacity load.
 */
export async function overloadScenario(o: OverloadOptions): Promise<ScenarioResult> {
  const t0 = performance.now();
  const cluster = await startLocalCluster({
    workers: o.workers,
    env: { LOOM_MAX_QUEUE_LENGTH: String(o.maxQueueLength) },
  });
  const endpoint = new OpenAIEndpoint({ baseUrl: cluster.baseURL });
  try {
    const procs = [cluster.gateway, cluster.scheduler, ...cluster.workers].map((p) => ({ name: p.name, pid: p.pid }));
    procs.push({ name: 'redis', pid: await redisPid(cluster.redis.url) });
    const dataset = (n: number, seed: number) =>
      randomDataset({ numPrompts: n, inputLen: 32, outputLen: 64, rangeRatio: 0.5, vocabSize: 512, seed });
    const common = { endpoint, model: cluster.model, ignoreEos: true, requestTimeoutMs: 120_000 };
    // Capacity: a closed loop as wide as the workers' batches, cut at calibrateSeconds.
    const streams = o.workers * 64;
    const calib = await runLoad({
      ...common,
      requests: dataset(20_000, 1),
      maxConcurrency: streams,
      maxDurationMs: o.calibrateSeconds * 1000,
    });
    const capacity = calibrateRate(calib.outputs);
    const baseline = new Map(procs.map((p) => [p.name, peakRssMiB(p.pid)]));
    const rate = capacity * o.factor;
    const n = Math.ceil(rate * o.overloadSeconds);
    const run = await runLoad({ ...common, requests: dataset(n, 2), requestRate: rate, seed: 3 });
    const admitted = run.outputs.filter((r) => r.status === 200);
    const refused = run.outputs.filter((r) => r.status !== 200);
    const r429 = refused.filter((r) => r.status === 429);
    const r503 = refused.filter((r) => r.status === 503);
    const withRetryAfter = refused.filter((r) => (r.status === 429 || r.status === 503) && r.retryAfter !== undefined);
    const other = refused.filter((r) => r.status !== 429 && r.status !== 503);
    const admittedFailed = admitted.filter((r) => !r.success).length;
    const m = calculateMetrics(admitted, run.duration, [50, 99]);
    const peaks = procs.map((p) => ({ ...p, base: baseline.get(p.name)!, peak: peakRssMiB(p.pid) }));
    const pct = (k: number) => (run.outputs.length ? (100 * k) / run.outputs.length : 0);
    const grown = peaks.filter((p) => p.peak > p.base * 1.5 + 64);
    const figures: Figure[] = [
      ['capacity (closed loop)', capacity, 'req/s'],
      ['offered', rate, 'req/s'],
      ['requests sent', run.outputs.length, ''],
      ['answered 429', pct(r429.length), '%'],
      ['answered 503 (queue wait timeout)', pct(r503.length), '%'],
      ['refusals with Retry-After', refused.length ? (100 * withRetryAfter.length) / refused.length : 100, '%'],
      ['admitted, completed', admitted.length - admittedFailed, ''],
      ['admitted TTFT p50 / p99', `${m.ttft.median.toFixed(0)} / ${at(m.ttft.percentiles, 1)[1].toFixed(0)}`, 'ms'],
      ['admitted e2e p99', at(m.e2el.percentiles, 1)[1], 'ms'],
      ['other failures (5xx, resets)', other.length, ''],
      ...peaks.map((p): Figure => [
        `peak RSS ${p.name} (at capacity -> 10x)`,
        `${p.base.toFixed(0)} -> ${p.peak.toFixed(0)}`,
        'MiB',
      ]),
    ];
    return {
      scenario: `${o.factor}x overload`,
      setup:
        `${o.workers} worker(s), queue bound ${o.maxQueueLength}, capacity measured for ${o.calibrateSeconds} ` +
        `s, then ${o.factor}x that rate (Poisson) for ${o.overloadSeconds} s; prompts 16-48 tokens, 32-96 ` +
        `generated`,
      figures,
      checks: [
        check('the overload was refused in part (429)', r429.length > 0, `${r429.length} x 429`),
        check(
          'every refusal carries Retry-After',
          withRetryAfter.length === refused.length,
          `${withRetryAfter.length}/${refused.length}`,
        ),
        zero('other failures (5xx other than 503, resets)', other.length),
        zero('admitted requests that failed', admittedFailed),
        check(
          'peak RSS bounded (under 1.5x its capacity-load peak + 64 MiB)',
          grown.length === 0,
          grown.length
            ? grown.map((p) => `${p.name} ${p.base.toFixed(0)} -> ${p.peak.toFixed(0)} MiB`).join(', ')
            : 'all',
        ),
      ],
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    endpoint.close();
    await cluster.stop();
  }
}

/** Completed requests per second over the calibration, from the first send to the last finish. */
function calibrateRate(outputs: { success: boolean; startTime: number; latency: number }[]): number {
  const ok = outputs.filter((r) => r.success);
  if (ok.length === 0) throw new Error('calibration: no request completed');
  const start = Math.min(...ok.map((r) => r.startTime));
  const end = Math.max(...ok.map((r) => r.startTime + r.latency));
  return ok.length / (end - start);
}
