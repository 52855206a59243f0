import os from 'node:os';
import type { BenchRequest, RequestOutput } from './bench-request.js';
import type { BenchmarkMetrics, Slo, TimeSeries } from './metrics.js';
import type { Summary } from './stats.js';

/** What a run was asked to do, as the result file records it. */
export interface BenchConfig {
  label?: string;
  /** 'openai' (completions) or 'openai-chat', as vLLM names its backends. */
  backend: 'openai' | 'openai-chat';
  baseUrl: string;
  endpoint: string;
  modelId: string;
  datasetName: string;
  numPrompts: number;
  requestRate: number;
  burstiness: number;
  maxConcurrency: number | undefined;
  ignoreEos: boolean;
  seed: number;
  numWarmups: number;
  goodput: Slo;
  percentiles: number[];
  /** Free-form KEY=VALUE pairs (vLLM's --metadata). */
  metadata?: Record<string, string>;
}

/** A result file: vLLM's field names wherever vLLM has the figure, plus Loom's own where it has none. */
export type BenchResult = Record<string, unknown> & {
  date: string;
  duration: number;
  completed: number;
  failed: number;
  output_throughput: number;
};

const METRICS = ['ttft', 'tpot', 'itl', 'e2el'] as const;

/** '99' for 99, '99.9' for 99.9: vLLM's p-word in field names (p99_itl_ms). */
export const pWord = (p: number) => String(p);

function summaryFields(name: string, s: Summary): Record<string, number> {
  const f: Record<string, number> = {
    [`mean_${name}_ms`]: s.mean,
    [`median_${name}_ms`]: s.median,
    [`std_${name}_ms`]: s.std,
  };
  for (const [p, v] of s.percentiles) f[`p${pWord(p)}_${name}_ms`] = v;
  return f;
}

/** 20261123-143805, vLLM's date stamp. */
export function dateStamp(d: Date): string {
  const z = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${z(d.getMonth() + 1)}${z(d.getDate())}-${z(d.getHours())}${z(d.getMinutes())}${z(d.getSeconds())}`;
}

export function buildResult(
  c: BenchConfig,
  m: BenchmarkMetrics,
  run: { duration: number; startedAt: number; requests: BenchRequest[]; outputs: RequestOutput[] },
  series: TimeSeries,
  detailed: boolean,
): BenchResult {
  const errors = new Map<string, number>();
  for (const o of run.outputs) if (!o.success) errors.set(o.error, (errors.get(o.error) ?? 0) + 1);
  const result: BenchResult = {
    date: dateStamp(new Date(run.startedAt)),
    endpoint_type: c.backend,
    backend: c.backend,
    label: c.label ?? null,
    model_id: c.modelId,
    tokenizer_id: null,
    num_prompts: c.numPrompts,
    ...c.metadata,
    request_rate: c.requestRate === Infinity ? 'inf' : c.requestRate,
    burstiness: c.burstiness,
    max_concurrency: c.maxConcurrency ?? null,
    duration: run.duration,
    completed: m.completed,
    failed: m.failed,
    total_input_tokens: m.totalInput,
    total_output_tokens: m.totalOutput,
    request_throughput: m.requestThroughput,
    request_goodput: m.requestGoodput ?? null,
    output_throughput: m.outputThroughput,
    total_token_throughput: m.totalTokenThroughput,
    max_output_tokens_per_s: m.maxOutputTokensPerS,
    max_concurrent_requests: m.maxConcurrentRequests,
    ...summaryFields('ttft', m.ttft),
    ...summaryFields('tpot', m.tpot),
    ...summaryFields('itl', m.itl),
    ...summaryFields('e2el', m.e2el),
    // Loom's additions (no vLLM twin).
    base_url: c.baseUrl,
    endpoint: c.endpoint,
    dataset_name: c.datasetName,
    ignore_eos: c.ignoreEos,
    seed: c.seed,
    num_warmups: c.numWarmups,
    goodput_slo_ms: c.goodput,
    failure_reasons: Object.fromEntries(errors),
    host: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? '', loadavg: os.loadavg() },
    time_series: {
      bucket_s: series.bucketSeconds,
      t_s: series.t,
      output_tokens_per_s: series.outputTokensPerS,
      running_requests: series.running,
    },
  };
  if (detailed)
    Object.assign(result, {
      input_lens: run.outputs.map((o) => o.promptLen),
      output_lens: run.outputs.map((o) => (o.success ? o.outputTokens : 0)),
      ttfts: run.outputs.map((o) => o.ttft),
      itls: run.outputs.map((o) => o.itl),
      latencies: run.outputs.map((o) => o.latency),
      start_times: run.outputs.map((o) => o.startTime),
      queue_times: run.outputs.map((o) => o.clientQueueTime),
      generated_texts: run.outputs.map((o) => o.generatedText),
      errors: run.outputs.map((o) => o.error),
    });
  return result;
}

/** vLLM's result file name: {label}-{rate}qps[-concurrency{N}]-{model}-{date}.json. */
export function resultFileName(c: BenchConfig, date: string): string {
  const rate = c.requestRate === Infinity ? 'inf' : String(c.requestRate);
  const conc = c.maxConcurrency === undefined ? '' : `-concurrency${c.maxConcurrency}`;
  const model = c.modelId
    .split('/')
    .pop()!
    .replace(/[^\w.-]+/g, '_');
  return `${c.label ?? c.backend}-${rate}qps${conc}-${model}-${date}.json`;
}

/** The summary `vllm bench serve` prints, same labels and layout. */
export function formatResult(r: BenchResult, percentiles: readonly number[]): string {
  const lines: string[] = [];
  const row = (k: string, v: unknown, digits = 2) =>
    lines.push(`${k.padEnd(40)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(digits) : String(v)}`);
  const rule = (title: string, c = '-') => {
    const pad = Math.max(0, 50 - title.length);
    lines.push(c.repeat(Math.floor(pad / 2)) + title + c.repeat(Math.ceil(pad / 2)));
  };
  rule(' Serving Benchmark Result ', '=');
  row('Successful requests:', r.completed);
  row('Failed requests:', r.failed);
  if (r.max_concurrency !== null) row('Maximum request concurrency:', r.max_concurrency);
  if (r.request_rate !== 'inf') row('Request rate configured (RPS):', Number(r.request_rate).toFixed(2));
  row('Benchmark duration (s):', r.duration);
  row('Total input tokens:', r.total_input_tokens);
  row('Total generated tokens:', r.total_output_tokens);
  row('Request throughput (req/s):', r.request_throughput);
  if (r.request_goodput !== null) row('Request goodput (req/s):', r.request_goodput);
  row('Output token throughput (tok/s):', r.output_throughput);
  row('Peak output token throughput (tok/s):', r.max_output_tokens_per_s);
  row('Peak concurrent requests:', r.max_concurrent_requests);
  row('Total token throughput (tok/s):', r.total_token_throughput);
  const heads: Record<(typeof METRICS)[number], [string, string]> = {
    ttft: ['TTFT', 'Time to First Token'],
    tpot: ['TPOT', 'Time per Output Token (excl. 1st token)'],
    itl: ['ITL', 'Inter-token Latency'],
    e2el: ['E2EL', 'End-to-end Latency'],
  };
  for (const m of METRICS) {
    const [short, long] = heads[m];
    rule(long);
    row(`Mean ${short} (ms):`, r[`mean_${m}_ms`]);
    row(`Median ${short} (ms):`, r[`median_${m}_ms`]);
    // The median is P50: printed once.
    for (const p of percentiles) if (p !== 50) row(`P${pWord(p)} ${short} (ms):`, r[`p${pWord(p)}_${m}_ms`]);
  }
  const reasons = Object.entries((r.failure_reasons as Record<string, number> | undefined) ?? {});
  if (reasons.length) {
    rule(' Failures ');
    for (const [why, n] of reasons.slice(0, 10)) lines.push(`${String(n).padStart(6)}  ${why.slice(0, 200)}`);
  }
  lines.push('='.repeat(50));
  return lines.join('\n');
}
