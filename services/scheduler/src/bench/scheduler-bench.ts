import { performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { DEFAULT_SAMPLING, at, seededRandom } from '@loom/common';
import {
  hashFullBlocks,
  Scheduler,
  type SampledToken,
  type SchedulerConfig,
  type SchedulerOutput,
} from '../core/index.js';
import { quantile } from './quantile.js';

/** CPU budget of one schedule() + update() pair (vLLM's scheduler aims well below a GPU step). */
export const TARGET_MS = 0.5;

export interface BenchCase {
  name: string;
  config: SchedulerConfig;
  /** Sequences kept in the scheduler (running + waiting); finished ones are replaced. */
  concurrency: number;
  /**
   * Whether arrivals carry their block hashes, as the service's WorkerPool gives them (it hashes
   * once for routing, outside the step loop); that hashing is not timed, like the rest of arrival.
   */
  routed?: boolean;
  /** Why the target does not apply (a what-if case, not a shape the service runs); absent for the target cases. */
  informational?: string;
  /** The i-th request's prompt and output length (deterministic). */
  makeRequest(i: number, rand: () => number): { prompt: number[]; maxTokens: number };
}

export interface BenchResult {
  name: string;
  /** Whether the case is held to TARGET_MS (see BenchCase.informational). */
  targeted: boolean;
  steps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** p99 over the steps that no garbage collection overlapped: the core's own cost. */
  p99NoGcMs: number;
  /** Share of timed steps that a GC pause (scavenge or mark-compact) overlapped. */
  gcStepShare: number;
  scheduleP50Ms: number;
  updateP50Ms: number;
  /** Mean scheduled tokens and running sequences per measured step. */
  tokensPerStep: number;
  runningPerStep: number;
  /** Prompt tokens served from the prefix cache / looked up, over the whole run. */
  prefixHitRate: number;
}

const tokens = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i);

/** The three standard cases: 256-sequence decode, mixed chunked prefill + decode, prefix-heavy admissions. */
export function standardCases(measureSteps: number): BenchCase[] {
  const base = { blockSize: 16, maxNumSeqs: 256, maxModelLen: 32_768 };
  return [
    {
      // Steady decode: every request outlives the run, so each step is 256 one-token decodes.
      name: 'decode-256',
      config: { ...base, numBlocks: 256 * Math.ceil((128 + 2 * measureSteps + 1000) / 16), maxNumBatchedTokens: 8192 },
      concurrency: 256,
      makeRequest: (i) => ({ prompt: tokens(128, 10_000 + i * 128), maxTokens: 2 * measureSteps + 1000 }),
    },
    {
      // Arrivals replace finished requests: each step mixes prefill chunks (budget 2048) with decodes.
      name: 'mixed-prefill-decode',
      config: { ...base, numBlocks: 24_000, maxNumBatchedTokens: 2048 },
      concurrency: 288,
      // As in the service: WorkerPool.route hashes every prompt for the router, outside the step.
      routed: true,
      makeRequest: (i, rand) => ({
        prompt: tokens(256 + Math.floor(rand() * 768), 100_000 + i * 1024),
        maxTokens: 16 + Math.floor(rand() * 240),
      }),
    },
    prefixHeavy('prefix-heavy-admissions', true),
    // The same with hashing left to the core (a caller that passes no RequestInit.blockHashes):
    // shows what re-hashing 2048-token prefixes inside schedule() would cost.
    {
      ...prefixHeavy('prefix-heavy-unhashed', false),
      informational: "the service always hands the router's hashes to the core",
    },
  ];
}

/** Short requests behind 8 long (2048-token) shared system prompts: admissions dominated by prefix hits. */
function prefixHeavy(name: string, routed: boolean): BenchCase {
  const systems = Array.from({ length: 8 }, (_, k) => tokens(2048, 1_000_000 + k * 2048));
  return {
    name,
    config: { blockSize: 16, maxNumSeqs: 256, maxModelLen: 32_768, numBlocks: 16_000, maxNumBatchedTokens: 8192 },
    concurrency: 256,
    routed,
    makeRequest: (i, rand) => {
      const prompt = at(systems, i % 8).concat(tokens(32 + Math.floor(rand() * 96), 5_000_000 + i * 128));
      return { prompt, maxTokens: 4 + Math.floor(rand() * 28) };
    },
  };
}

/**
 * The token source of the bench: samples for every request whose scheduled tokens reach its known
 * length, reading that from the scheduler itself. Unlike the core's FakeExecutor (test-helpers)
 * it checks no protocol, so it costs O(requests) per step, not O(context); it is not timed. It
 * reuses its array and token objects (the core keeps neither past update()), so that its own
 * garbage does not trigger the scavenges it would then charge to the timed steps.
 */
class TokenSource {
  private readonly pool: SampledToken[] = [];
  private readonly sampled: SampledToken[] = [];

  sampledFor(scheduler: Scheduler, step: SchedulerOutput): SampledToken[] {
    this.sampled.length = 0;
    for (const r of step.newRequests) this.add(scheduler, r.requestId, r.numScheduledTokens);
    for (const r of step.cachedRequests) this.add(scheduler, r.requestId, r.numScheduledTokens);
    return this.sampled;
  }

  private add(scheduler: Scheduler, id: string, n: number): void {
    const req = scheduler.getRequest(id)!;
    if (req.numComputedTokens + n < req.numTokens) return;
    const k = this.sampled.length;
    const s = this.pool[k] ?? (this.pool[k] = { requestId: id, tokenId: 0 });
    s.requestId = id;
    s.tokenId = 3 + (req.numTokens % 1000);
    this.sampled.push(s);
  }
}

/** A seeded PRNG, so every run schedules the same workload. */
const prng = seededRandom;

/**
 * Runs one case: `warmupSteps` untimed steps (fills the batch, JIT), then `steps` timed ones.
 * Only schedule() and update() are timed; request arrivals and the token source are not, but they
 * share the heap: a GC their garbage triggers can land in a timed step, as it would in the service.
 * Such steps are counted (GC entries arrive asynchronously, hence async) and also left out of a
 * second p99, which separates the core's own cost from the heap's.
 */
export async function runCase(
  c: BenchCase,
  steps: number,
  warmupSteps: number,
  onStep?: () => void,
): Promise<BenchResult> {
  const gcs: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const scheduler = new Scheduler({ ...c.config, eosTokenIds: [2] });
  const rand = prng(42);
  const source = new TokenSource();
  let next = 0;
  const refill = () => {
    while (scheduler.numRunning + scheduler.numWaiting < c.concurrency) {
      const { prompt, maxTokens } = c.makeRequest(next, rand);
      const blockHashes = c.routed ? hashFullBlocks(prompt, c.config.blockSize, null) : undefined;
      scheduler.addRequest({
        requestId: `r${next++}`,
        promptTokenIds: prompt,
        sampling: { ...DEFAULT_SAMPLING, maxTokens, ignoreEos: true },
        blockHashes,
      });
    }
  };
  const total = new Float64Array(steps);
  const starts = new Float64Array(steps);
  const ends = new Float64Array(steps);
  const sched = new Float64Array(steps);
  const upd = new Float64Array(steps);
  let tokenSum = 0;
  let runningSum = 0;
  for (let s = -warmupSteps; s < steps; s++) {
    refill();
    const t0 = performance.now();
    const out = scheduler.schedule();
    const t1 = performance.now();
    if (out.numScheduledTokens === 0) throw new Error(`${c.name}: nothing schedulable at step ${s}`);
    const sampled = source.sampledFor(scheduler, out);
    const t2 = performance.now();
    scheduler.update(out, sampled);
    const t3 = performance.now();
    if (s < 0) continue;
    sched[s] = t1 - t0;
    upd[s] = t3 - t2;
    total[s] = t1 - t0 + (t3 - t2);
    starts[s] = t0;
    ends[s] = t3;
    tokenSum += out.numScheduledTokens;
    runningSum += scheduler.numRunning;
    onStep?.();
  }
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the last GC entries arrive
  observer.disconnect();
  const noGc: number[] = [];
  let g = 0;
  gcs.sort((a, b) => a.startTime - b.startTime);
  for (let s = 0; s < steps; s++) {
    while (g < gcs.length && at(gcs, g).startTime + at(gcs, g).duration < at(starts, s)) g++;
    if (g < gcs.length && at(gcs, g).startTime <= at(ends, s)) continue;
    noGc.push(at(total, s));
  }
  const stats = scheduler.stats();
  let sum = 0;
  for (const v of total) sum += v;
  const sorted = total.slice().sort();
  return {
    name: c.name,
    targeted: c.informational === undefined,
    steps,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    p99NoGcMs: quantile(Float64Array.from(noGc).sort(), 0.99),
    gcStepShare: 1 - noGc.length / steps,
    meanMs: sum / steps,
    maxMs: at(sorted, steps - 1),
    scheduleP50Ms: quantile(sched.slice().sort(), 0.5),
    updateP50Ms: quantile(upd.slice().sort(), 0.5),
    tokensPerStep: tokenSum / steps,
    runningPerStep: runningSum / steps,
    prefixHitRate:
      stats.prefixCache.queriedTokens === 0 ? 0 : stats.prefixCache.hitTokens / stats.prefixCache.queriedTokens,
  };
}

/** A fixed-width table of results, one case a row. */
export function formatTable(results: readonly BenchResult[]): string {
  const head = [
    'case',
    'steps',
    'p50 ms',
    'p99 ms',
    'p99 no-GC',
    'GC steps',
    'mean ms',
    'max ms',
    'sched p50',
    'update p50',
    'tok/step',
    'running',
    'prefix hit',
  ];
  const rows = results.map((r) => [
    r.targeted ? r.name : `${r.name} (no target)`,
    String(r.steps),
    ...[r.p50Ms, r.p99Ms, r.p99NoGcMs].map((v) => v.toFixed(3)),
    `${(100 * r.gcStepShare).toFixed(1)}%`,
    ...[r.meanMs, r.maxMs, r.scheduleP50Ms, r.updateP50Ms].map((v) => v.toFixed(3)),
    r.tokensPerStep.toFixed(0),
    r.runningPerStep.toFixed(0),
    `${(100 * r.prefixHitRate).toFixed(1)}%`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(at(widths, i)) : cell.padStart(at(widths, i)))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The machine-readable line of one result. */
export function jsonLine(r: BenchResult): string {
  const round = (v: number) => Math.round(v * 10_000) / 10_000;
  return JSON.stringify({
    bench: 'scheduler',
    case: r.name,
    p50_ms: round(r.p50Ms),
    p99_ms: round(r.p99Ms),
    p99_no_gc_ms: round(r.p99NoGcMs),
    gc_step_share: round(r.gcStepShare),
    mean_ms: round(r.meanMs),
    max_ms: round(r.maxMs),
    target_ms: TARGET_MS,
    // p99, not just p50: the step loop is serial, so every slow step delays every running stream.
    meets_target: r.targeted ? r.p50Ms <= TARGET_MS && r.p99Ms <= TARGET_MS : null,
    schedule_p50_ms: round(r.scheduleP50Ms),
    update_p50_ms: round(r.updateP50Ms),
    steps: r.steps,
    tokens_per_step: round(r.tokensPerStep),
    running_per_step: round(r.runningPerStep),
    prefix_hit_rate: round(r.prefixHitRate),
  });
}
