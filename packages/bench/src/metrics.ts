import type { RequestOutput } from './bench-request.js';
import { summarize, type Summary } from './stats.js';
import { at } from '@loom/common';

/** Service-level objectives for goodput, in ms: a request is good when it meets every one given. */
export interface Slo {
  ttft?: number;
  tpot?: number;
  e2el?: number;
}

const SLO_NAMES = ['ttft', 'tpot', 'e2el'] as const;

/** Parses vLLM's --goodput pairs ("ttft:500 tpot:50"; also comma-separated). */
export function parseGoodput(pairs: string | readonly string[]): Slo {
  const slo: Slo = {};
  const items = (typeof pairs === 'string' ? [pairs] : pairs).flatMap((p) => p.split(/[\s,]+/)).filter(Boolean);
  for (const item of items) {
    const [name, value, ...rest] = item.split(':');
    const ms = Number(value);
    if (rest.length || !SLO_NAMES.includes(name as (typeof SLO_NAMES)[number]) || value === '' || !(ms >= 0))
      throw new Error(`--goodput ${item}: expected NAME:MS with NAME one of ${SLO_NAMES.join(', ')} and MS >= 0`);
    slo[name as keyof Slo] = ms;
  }
  return slo;
}

/** The figures of one run, under `vllm bench serve`'s definitions. Latencies in ms. */
export interface BenchmarkMetrics {
  completed: number;
  failed: number;
  totalInput: number;
  totalOutput: number;
  requestThroughput: number;
  /** Good requests per second; undefined without an SLO. */
  requestGoodput: number | undefined;
  outputThroughput: number;
  totalTokenThroughput: number;
  /** Time to first token. */
  ttft: Summary;
  /** Time per output token after the first: (e2e - ttft) / (output tokens - 1), over requests with > 1 token. */
  tpot: Summary;
  /** Inter-token latency: every gap between consecutive output chunks of every request. */
  itl: Summary;
  /** End-to-end latency, request sent to last chunk. */
  e2el: Summary;
  maxOutputTokensPerS: number;
  maxConcurrentRequests: number;
}

/** Per-time-bucket figures for the report's charts; times in s from the run's start. */
export interface TimeSeries {
  bucketSeconds: number;
  /** Bucket start times. */
  t: number[];
  /** Output tokens per second in each bucket. */
  outputTokensPerS: number[];
  /** Requests in flight at each bucket's middle. */
  running: number[];
}

/** vLLM's calculate_metrics: success only, tpot from usage tokens, goodput against every SLO given. */
export function calculateMetrics(
  outputs: readonly RequestOutput[],
  durationS: number,
  percentiles: readonly number[],
  slo: Slo = {},
): BenchmarkMetrics {
  const ok = outputs.filter((o) => o.success);
  const ttfts = ok.map((o) => o.ttft);
  const e2els = ok.map((o) => o.latency);
  const tpots: number[] = [];
  const allTpots: number[] = [];
  const itls: number[] = [];
  for (const o of ok) {
    let tpot = 0;
    if (o.outputTokens > 1) {
      tpot = (o.latency - o.ttft) / (o.outputTokens - 1);
      tpots.push(tpot);
    }
    allTpots.push(tpot);
    for (const x of o.itl) itls.push(x);
  }
  let good = 0;
  const sloOn = SLO_NAMES.some((k) => slo[k] !== undefined);
  if (sloOn)
    ok.forEach((o, i) => {
      if (slo.ttft !== undefined && at(ttfts, i) > slo.ttft / 1000) return;
      if (slo.tpot !== undefined && at(allTpots, i) > slo.tpot / 1000) return;
      if (slo.e2el !== undefined && at(e2els, i) > slo.e2el / 1000) return;
      good++;
    });
  const totalInput = ok.reduce((s, o) => s + o.promptLen, 0);
  const totalOutput = ok.reduce((s, o) => s + o.outputTokens, 0);
  return {
    completed: ok.length,
    failed: outputs.length - ok.length,
    totalInput,
    totalOutput,
    requestThroughput: ok.length / durationS,
    requestGoodput: sloOn ? good / durationS : undefined,
    outputThroughput: totalOutput / durationS,
    totalTokenThroughput: (totalInput + totalOutput) / durationS,
    ttft: summarize(ttfts, percentiles, 1000),
    tpot: summarize(tpots, percentiles, 1000),
    itl: summarize(itls, percentiles, 1000),
    e2el: summarize(e2els, percentiles, 1000),
    maxOutputTokensPerS: Math.max(0, ...timeSeries(outputs, 1).outputTokensPerS),
    maxConcurrentRequests: peakConcurrency(ok),
  };
}

/** The most requests in flight at once over half-open [start, end) intervals (a sweep, ends before starts). */
export function peakConcurrency(outputs: readonly RequestOutput[]): number {
  const events: [number, number][] = [];
  for (const o of outputs) events.push([o.startTime, 1], [o.startTime + o.latency, -1]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of events) peak = Math.max(peak, (now += d));
  return peak;
}

/**
 * Output tokens per second and requests in flight over time, in buckets of `bucketSeconds`, over the
 * successful requests. A request's tokens are spread evenly over its output chunks (a chunk may carry
 * several), each at the time it arrived.
 */
export function timeSeries(outputs: readonly RequestOutput[], bucketSeconds: number): TimeSeries {
  const ok = outputs.filter((o) => o.success);
  if (ok.length === 0) return { bucketSeconds, t: [], outputTokensPerS: [], running: [] };
  const t0 = Math.min(...ok.map((o) => o.startTime));
  const end = Math.max(...ok.map((o) => o.startTime + o.latency));
  const n = Math.floor((end - t0) / bucketSeconds) + 1;
  const tokens = new Array<number>(n).fill(0);
  for (const o of ok) {
    const per = o.outputTokens / (o.itl.length + 1);
    let time = o.startTime + o.ttft;
    const add = (when: number) => {
      const b = Math.floor((when - t0) / bucketSeconds);
      if (b >= 0 && b < n) tokens[b] = at(tokens, b) + per;
    };
    add(time);
    for (const gap of o.itl) add((time += gap));
  }
  const t = Array.from({ length: n }, (_, i) => i * bucketSeconds);
  const running = t.map((ti) => {
    const mid = t0 + ti + bucketSeconds / 2;
    return ok.filter((o) => o.startTime <= mid && mid < o.startTime + o.latency).length;
  });
  return { bucketSeconds, t, outputTokensPerS: tokens.map((x) => x / bucketSeconds), running };
}
