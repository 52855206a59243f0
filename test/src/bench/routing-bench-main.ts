#!/usr/bin/env node
// Prefix-aware routing against round-robin, end to end (llm-d's method): `npm run bench:routing [-- flags]`.
// For each repeat, each policy (order alternating between repeats) gets a fresh local cluster (real
// Redis, gateway, scheduler, 2 worker processes) and runs the same shared-prefix rate ladder through
// the OpenAI API; per rate it reports the median and range over the repeats, and the prefix / round-robin
// output-throughput ratio. Table, then one JSON line, on stdout; progress on stderr.
//
// Flags: `npm run bench:routing -- --help`.
import { at, parseCliArgs } from '@loom/common';
import cliProgress from 'cli-progress';
import path from 'node:path';
import { medianRange, sharedPrefixDataset, spread, textTable } from '@loom/bench';
import { runPolicy, type PolicyRun, type Stage } from './routing-run.js';
import { MODEL_OR_SYNTH_OPTIONS, modelOrSynth } from './synth-model.js';

const {
  values,
  fail,
  int: n,
} = parseCliArgs({
  synopsis: 'npm run bench:routing -- [options]',
  about:
    'Prefix-aware against round-robin routing on 2 workers, a shared-prefix rate ladder: output tok/s per rate\n' +
    'and the prefix / round-robin ratio, median and range over the repeats.',
  options: {
    rates: {
      type: 'string',
      default: 'inf',
      value: 'inf|R1,R2,..',
      description: 'request rate per stage, requests/s (inf: all at once)',
    },
    repeats: {
      type: 'string',
      default: '1',
      value: 'N',
      description: 'runs of the whole ladder per policy, order alternating',
    },
    requests: { type: 'string', default: '160', value: 'N', description: 'requests per stage' },
    concurrency: { type: 'string', default: '16', value: 'N', description: 'requests in flight at most' },
    'max-seconds': { type: 'string', default: '120', value: 'S', description: 'time limit per stage, seconds' },
    tenants: { type: 'string', default: '8', value: 'N', description: 'distinct shared system prompts' },
    'system-tokens': {
      type: 'string',
      default: '352',
      value: 'N',
      description: "tokens of each tenant's system prompt",
    },
    'question-tokens': {
      type: 'string',
      default: '16',
      value: 'N',
      description: "tokens of each request's own question",
    },
    'max-tokens': { type: 'string', default: '32', value: 'N', description: 'tokens generated per request' },
    'num-blocks': { type: 'string', default: '120', value: 'N', description: 'KV cache blocks per worker' },
    'vocab-size': {
      type: 'string',
      value: 'N',
      description: 'vocabulary size of the model (default 512; 32000 with --synth)',
    },
    ...MODEL_OR_SYNTH_OPTIONS,
  },
  examples: [
    'npm run bench:routing -- --rates 2,4,8,inf --repeats 3',
    'npm run bench:routing -- --synth stories15M --max-tokens 64',
  ],
});
const model = modelOrSynth(values, fail);
values['vocab-size'] ??= values.synth === undefined ? '512' : '32000';
const WORKERS = 2;
const POLICIES = ['prefix', 'round-robin'] as const;
const rates = values.rates!.split(',').map((r) => (r.trim() === 'inf' ? Infinity : Number(r)));
if (!rates.every((r) => r > 0)) fail('--rates takes positive numbers or inf');

// One workload for every run: the same prefixes throughout, fresh questions for each stage.
const perStage = n('requests');
const all = sharedPrefixDataset({
  numPrompts: perStage * rates.length,
  numPrefixes: n('tenants'),
  prefixLen: n('system-tokens'),
  questionLen: n('question-tokens'),
  outputLen: n('max-tokens'),
  vocabSize: n('vocab-size'),
  seed: 7,
});
const stages: Stage[] = rates.map((rate, k) => ({ rate, requests: all.slice(k * perStage, (k + 1) * perStage) }));

const bar = new cliProgress.SingleBar(
  {
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 5000,
    format: 'routing bench [{bar}] {value}/{total} requests | {run}',
  },
  cliProgress.Presets.shades_classic,
);
bar.start(n('repeats') * POLICIES.length * all.length, 0, { run: '' });
const runs: PolicyRun[][] = [];
for (let r = 0; r < n('repeats'); r++) {
  // Alternate the order so that neither policy always runs on a machine warmed (or loaded) by the other.
  const order = r % 2 === 0 ? POLICIES : [...POLICIES].reverse();
  const byPolicy: PolicyRun[] = [];
  for (const policy of order) {
    bar.update({ run: `repeat ${r + 1} ${policy}` });
    byPolicy.push(
      await runPolicy(
        {
          policy,
          workers: WORKERS,
          ...(model === undefined ? {} : { model }),
          numBlocks: n('num-blocks'),
          maxTokens: n('max-tokens'),
          concurrency: n('concurrency'),
          maxSecondsPerStage: n('max-seconds'),
          onDone: () => bar.increment(1),
        },
        stages,
      ),
    );
  }
  runs.push(POLICIES.map((p) => byPolicy.find((x) => x.policy === p)!));
}
bar.stop();

const fmtRate = (r: number) => (r === Infinity ? 'inf' : String(r));
const head = ['rate', 'policy', 'failed', 'out tok/s', 'TTFT p50 ms', 'TTFT p99 ms', 'prefix hit', 'split tenants'];
const rows: string[][] = [];
const ratios: number[][] = [];
stages.forEach((stage, k) => {
  ratios.push(
    runs.map(([p, rr]) => at(p!.stages, k).metrics.outputThroughput / at(rr!.stages, k).metrics.outputThroughput),
  );
  POLICIES.forEach((policy, pi) => {
    const st = runs.map((rep) => at(at(rep, pi).stages, k));
    rows.push([
      fmtRate(stage.rate),
      policy,
      String(st.reduce((s, x) => s + x.metrics.failed, 0)),
      medianRange(
        st.map((x) => x.metrics.outputThroughput),
        1,
      ),
      medianRange(
        st.map((x) => x.metrics.ttft.median),
        0,
      ),
      medianRange(
        st.map((x) => at(x.metrics.ttft.percentiles, 1)[1]),
        0,
      ),
      medianRange(
        st.map((x) => x.prefixHitRate),
        1,
        100,
      ) + '%',
      medianRange(
        runs.map((rep) => at(rep, pi).splitTenants),
        0,
      ) + `/${n('tenants')}`,
    ]);
  });
});
console.log(textTable(head, rows, 2));
stages.forEach((stage, k) =>
  console.log(
    `rate ${fmtRate(stage.rate)}: prefix / round-robin output tokens/s ${medianRange(at(ratios, k), 2)}x (target >= 2x)`,
  ),
);
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
      requests_per_stage: perStage,
      rates: rates.map(fmtRate),
      concurrency: n('concurrency'),
      num_blocks_per_worker: n('num-blocks'),
      repeats: n('repeats'),
    },
    stages: stages.map((stage, k) => ({
      rate: fmtRate(stage.rate),
      ratio: spread(at(ratios, k)),
      runs: runs.map((rep) =>
        rep.map((p) => {
          const s = at(p.stages, k);
          return {
            policy: p.policy,
            completed: s.metrics.completed,
            failed: s.metrics.failed,
            output_throughput: round(s.metrics.outputThroughput),
            median_ttft_ms: round(s.metrics.ttft.median),
            p99_ttft_ms: round(at(s.metrics.ttft.percentiles, 1)[1]),
            prefix_hit_rate: round(s.prefixHitRate),
            split_tenants: p.splitTenants,
          };
        }),
      ),
    })),
    target_ratio: 2,
  }),
);
