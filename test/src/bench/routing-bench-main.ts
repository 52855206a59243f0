#!/usr/bin/env node
// End-to-end routing benchmark: `npm run bench:routing [-- --requests N --concurrency N --max-seconds S]
// [--model GGUF --vocab-size N | --synth SHAPE]]` (SHAPE as `loom model synth --shape`: a random-weight
// model whose prefill costs real compute, written once to the temp folder).
// For each policy (prefix, then round-robin) starts a fresh local cluster (real Redis, gateway,
// scheduler and 2 worker processes), streams the same shared-prefix workload through the OpenAI
// API, and reads the scheduler's prefix-cache counters. Table, then one JSON line, on stdout.
import cliProgress from 'cli-progress';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { METRIC } from '@loom/common';
import { startLocalCluster } from '../fixtures/local-cluster.js';
import { routingWorkload, type RoutingRequest } from './routing-workload.js';
import { streamCompletion, type StreamResult } from './stream-completion.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '160' },
    concurrency: { type: 'string', default: '16' },
    'max-seconds': { type: 'string', default: '120' },
    tenants: { type: 'string', default: '8' },
    'system-tokens': { type: 'string', default: '352' },
    'question-tokens': { type: 'string', default: '16' },
    'max-tokens': { type: 'string', default: '32' },
    'num-blocks': { type: 'string', default: '120' },
    /** A GGUF to serve instead of stories260K (e.g. one from `loom model synth`), and its vocabulary size. */
    model: { type: 'string' },
    /** Vocabulary size of --model; default 512 (stories260K), 32000 with --synth (Llama 2's vocabulary). */
    'vocab-size': { type: 'string' },
    synth: { type: 'string' },
  },
});
if (values.model !== undefined && values.synth !== undefined) throw new Error('--model and --synth exclude each other');
values['vocab-size'] ??= values.synth === undefined ? '512' : '32000';
const model = values.synth === undefined ? values.model : synthModel(values.synth);

/** Writes (once per shape) a random-weight GGUF with `loom model synth`, returns its path. */
function synthModel(shape: string): string {
  const file = path.join(os.tmpdir(), `loom-bench-${shape.replace(/[^A-Za-z0-9.=_-]+/g, '_')}.gguf`);
  if (!existsSync(file)) {
    const cli = path.join(path.dirname(new URL(import.meta.url).pathname), '../../../packages/cli/dist/main.js');
    execFileSync(process.execPath, [cli, 'model', 'synth', '--shape', shape, '--quiet', '-o', file], {
      stdio: 'inherit',
    });
  }
  return file;
}
const n = (k: keyof typeof values) => Number(values[k]);
const WORKERS = 2;

type Bar = cliProgress.SingleBar;

interface PolicyResult {
  policy: string;
  requests: number;
  failed: number;
  seconds: number;
  outputTokensPerSecond: number;
  ttftP50: number;
  ttftP99: number;
  prefixHitRate: number;
  /** Per worker, the tenants it served (from the scheduler's 'request routed' log). */
  tenantsByWorker: Map<string, Set<number>>;
  /** Tenants served by more than one worker. */
  splitTenants: number;
}

const quantile = (xs: number[], q: number) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** Sum of a counter's series (every worker label) in a Prometheus text exposition. */
function counterSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function runPolicy(policy: string, workload: RoutingRequest[], bar: Bar): Promise<PolicyResult> {
  const cluster = await startLocalCluster({
    workers: WORKERS,
    ...(model === undefined ? {} : { model }),
    // debug: the scheduler logs each routing decision ('request routed'), read for the tenant spread.
    env: { LOOM_ROUTING_POLICY: policy, LOOM_NUM_BLOCKS: String(n('num-blocks')), LOOM_LOG_LEVEL: 'debug' },
  });
  try {
    const results: StreamResult[] = [];
    const tenantOf = new Map<string, number>();
    const queue = [...workload];
    const deadline = performance.now() + n('max-seconds') * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: n('concurrency') }, async () => {
        for (let r = queue.shift(); r !== undefined && performance.now() < deadline; r = queue.shift()) {
          const body = {
            model: cluster.model,
            prompt: r.promptTokenIds,
            max_tokens: n('max-tokens'),
            temperature: 0,
            ignore_eos: true,
          };
          const result = await streamCompletion(
            cluster.baseURL,
            body,
            AbortSignal.timeout(Math.ceil(Math.max(1, deadline - performance.now())) + 30_000),
          );
          results.push(result);
          tenantOf.set(result.id, r.tenant);
          bar.increment(1, { policy });
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const metrics = await (
      await fetch(`http://127.0.0.1:${Number(cluster.scheduler.ready!.metricsPort)}/metrics`)
    ).text();
    const queried = counterSum(metrics, METRIC.prefixQueriedTokens);
    const ok = results.filter((r) => r.ok);
    const tenantsByWorker = new Map<string, Set<number>>();
    const workersByTenant = new Map<number, Set<string>>();
    for (const rec of cluster.scheduler.logs) {
      const tenant = rec.msg === 'request routed' ? tenantOf.get(String(rec.requestId)) : undefined;
      if (tenant === undefined) continue;
      const worker = String(rec.worker);
      if (!tenantsByWorker.has(worker)) tenantsByWorker.set(worker, new Set());
      tenantsByWorker.get(worker)!.add(tenant);
      if (!workersByTenant.has(tenant)) workersByTenant.set(tenant, new Set());
      workersByTenant.get(tenant)!.add(worker);
    }
    return {
      tenantsByWorker,
      splitTenants: [...workersByTenant.values()].filter((w) => w.size > 1).length,
      policy,
      requests: results.length,
      failed: results.length - ok.length,
      seconds,
      outputTokensPerSecond: ok.reduce((s, r) => s + r.outputTokens, 0) / seconds,
      ttftP50: quantile(
        ok.map((r) => r.ttftSeconds),
        0.5,
      ),
      ttftP99: quantile(
        ok.map((r) => r.ttftSeconds),
        0.99,
      ),
      prefixHitRate: queried === 0 ? 0 : counterSum(metrics, METRIC.prefixHitTokens) / queried,
    };
  } finally {
    await cluster.stop();
  }
}

const workload = routingWorkload({
  tenants: n('tenants'),
  systemTokens: n('system-tokens'),
  questionTokens: n('question-tokens'),
  requests: n('requests'),
  vocabSize: n('vocab-size'), // 512: stories260K
});
const policies = ['prefix', 'round-robin'];
const bar = new cliProgress.SingleBar(
  {
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 5000,
    format: 'routing bench [{bar}] {value}/{total} requests | {policy}',
  },
  cliProgress.Presets.shades_classic,
);
bar.start(policies.length * workload.length, 0, { policy: policies[0] });
const results: PolicyResult[] = [];
for (const p of policies) results.push(await runPolicy(p, workload, bar));
bar.stop();

const [prefix, rr] = results as [PolicyResult, PolicyResult];
const ratio = prefix.outputTokensPerSecond / rr.outputTokensPerSecond;
const spread = (r: PolicyResult) =>
  [...r.tenantsByWorker]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([w, t]) => `${w}:${[...t].sort((a, b) => a - b).join(',')}`)
    .join(' ');
const head = [
  'policy',
  'requests',
  'failed',
  'seconds',
  'out tok/s',
  'TTFT p50 ms',
  'TTFT p99 ms',
  'prefix hit',
  'split tenants',
  'tenants per worker',
];
const rows = results.map((r) => [
  r.policy,
  String(r.requests),
  String(r.failed),
  r.seconds.toFixed(1),
  r.outputTokensPerSecond.toFixed(1),
  (1000 * r.ttftP50).toFixed(0),
  (1000 * r.ttftP99).toFixed(0),
  `${(100 * r.prefixHitRate).toFixed(1)}%`,
  `${r.splitTenants}/${n('tenants')}`,
  spread(r),
]);
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log([line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
console.log(`prefix / round-robin output tokens/s: ${ratio.toFixed(2)}x (target >= 2x)`);
const round = (v: number) => Math.round(v * 10_000) / 10_000;
console.log(
  JSON.stringify({
    bench: 'routing',
    workers: WORKERS,
    model: path.basename(model ?? 'stories260K-f32.gguf'),
    ...(values.synth === undefined ? {} : { synth: values.synth }),
    workload: {
      tenants: n('tenants'),
      system_tokens: n('system-tokens'),
      question_tokens: n('question-tokens'),
      max_tokens: n('max-tokens'),
      requests: workload.length,
      concurrency: n('concurrency'),
      num_blocks_per_worker: n('num-blocks'),
    },
    results: results.map((r) => ({
      policy: r.policy,
      requests: r.requests,
      failed: r.failed,
      seconds: round(r.seconds),
      output_tokens_per_s: round(r.outputTokensPerSecond),
      ttft_p50_s: round(r.ttftP50),
      ttft_p99_s: round(r.ttftP99),
      prefix_hit_rate: round(r.prefixHitRate),
      split_tenants: r.splitTenants,
      tenants_by_worker: Object.fromEntries([...r.tenantsByWorker].map(([w, t]) => [w, [...t].sort((a, b) => a - b)])),
    })),
    ratio: round(ratio),
    target_ratio: 2,
    meets_target: ratio >= 2,
  }),
);
