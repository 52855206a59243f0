#!/usr/bin/env node
// Structured-output benchmark: `npm run bench:structured [-- flags]` (`-- --help` lists them).
// 1. Grammar compile time per schema, p50/p99: distinct JSON schemas compiled in-process with the
//    scheduler's own code path (GrammarCompilers), for the demo model's vocabulary (512) and Llama 2's
//    (32000, what a real model has).
// 2. Output tok/s of the whole cluster (real Redis, gateway, scheduler, one worker) at --streams
//    concurrent streams, unconstrained and JSON-schema constrained, rounds interleaved; every request
//    runs to max_tokens in both (ignore_eos; a schema whose minimum output is longer), so the two
//    rounds produce the same tokens. The ratio constrained / unconstrained is the figure (target >= 0.8).
// Table, then one JSON line, on stdout.
import * as os from 'node:os';
import * as path from 'node:path';
import { at, entry, METRIC, type StructuredOutputSpec, parseCliArgs } from '@loom/common';
import { OpenAIEndpoint, spread } from '@loom/bench';
import { GrammarCompilers } from '@loom/structured-output';
import { tokenizerDataFromGguf } from '@loom/tokenizer';
import { readGgufMetadata } from '@loom/gguf';
import { STORIES_F32, startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';
import { sharedDir } from '../harness/index.js';
import { MODEL_OR_SYNTH_OPTIONS, modelOrSynth } from './synth-model.js';

const {
  values,
  fail,
  int: n,
} = parseCliArgs({
  synopsis: 'npm run bench:structured -- [options]',
  about:
    'Structured output (JSON schema) against unconstrained generation on the same cluster: grammar compile\n' +
    'time per schema, then output tok/s of both, rounds interleaved; the constrained / unconstrained ratio.',
  options: {
    streams: { type: 'string', default: '64', value: 'N', description: 'concurrent streams' },
    rounds: { type: 'string', default: '3', value: 'N', description: 'timed rounds per mode (unconstrained, schema)' },
    'max-tokens': {
      type: 'string',
      default: '128',
      value: 'N',
      description: 'tokens generated per request (EOS ignored)',
    },
    'requests-per-stream': {
      type: 'string',
      default: '2',
      value: 'N',
      description: 'requests each stream sends per round',
    },
    'compile-schemas': {
      type: 'string',
      default: '40',
      value: 'N',
      description: 'distinct schemas timed in the compile phase',
    },
    ...MODEL_OR_SYNTH_OPTIONS,
  },
  examples: [
    'npm run bench:structured -- --streams 16 --rounds 5',
    'npm run bench:structured -- --synth stories110M --max-tokens 64',
  ],
});
const model = modelOrSynth(values, fail) ?? STORIES_F32();

/** The k-th distinct schema of the compile phase: 3..12 properties of rotating kinds, some nested. */
function compileSchema(k: number): string {
  const kinds = [
    { type: 'string', maxLength: 8 + k },
    { type: 'integer', minimum: 0, maximum: 10 * k + 9 },
    { enum: [`a${k}`, 'b', 'c'] },
    { type: 'boolean' },
    { type: 'array', items: { type: 'string', maxLength: 6 }, maxItems: 1 + (k % 4) },
    { type: 'object', properties: { x: { type: 'integer' }, y: { type: 'string', format: 'date' } }, required: ['x'] },
  ];
  const properties: Record<string, object> = {};
  for (let i = 0; i < 3 + (k % 10); i++) properties[`p${k}_${i}`] = at(kinds, (i + k) % kinds.length);
  return JSON.stringify({ type: 'object', properties, required: Object.keys(properties), additionalProperties: false });
}

async function compileTimes(ggufPath: string, count: number): Promise<number[]> {
  const tokenizer = tokenizerDataFromGguf(readGgufMetadata(ggufPath));
  const compilers = new GrammarCompilers();
  compilers.addModel('m', {
    tokenizer,
    vocabSize: tokenizer.tokens.length,
    eosTokenIds: tokenizer.eosTokenId === undefined ? [] : [tokenizer.eosTokenId],
  });
  await (await compilers.compile('m', { type: 'json_object' })).dispose(); // instance and vocabulary warm
  const ms: number[] = [];
  for (let k = 0; k < count; k++) {
    const t0 = performance.now();
    (await compilers.compile('m', { type: 'json_schema', schema: compileSchema(k), strict: true })).dispose();
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** JSON-schema decoding that never ends before max_tokens: at least 50 structured items. */
const THROUGHPUT_SPEC: StructuredOutputSpec = {
  type: 'json_schema',
  strict: true,
  schema: JSON.stringify({
    type: 'array',
    minItems: 50,
    items: {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 12 },
        age: { type: 'integer', minimum: 0, maximum: 99 },
        kind: { enum: ['cat', 'dog', 'bird'] },
      },
      required: ['name', 'age', 'kind'],
      additionalProperties: false,
    },
  }),
};

interface Round {
  constrained: boolean;
  outputTokens: number;
  seconds: number;
  failed: number;
  /** Mean step wall time (scheduler to worker and back) over the round, ms. */
  stepMs: number;
  /** Mean per-step mask fill (constrained rounds), ms. */
  fillMs: number;
}

async function metricSums(cluster: LocalCluster): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${String(cluster.scheduler.ready!.metricsPort)}/metrics`)).text();
  const sum = (name: string) =>
    [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))].reduce(
      (s, m) => s + Number(m[1]),
      0,
    );
  return {
    stepSum: sum(`${METRIC.stepDuration}_sum`),
    stepCount: sum(`${METRIC.stepDuration}_count`),
    fillSum: sum(`${METRIC.grammarFillDuration}_sum`),
    fillCount: sum(`${METRIC.grammarFillDuration}_count`),
  };
}

async function round(cluster: LocalCluster, constrained: boolean, seed: number): Promise<Round> {
  const before = await metricSums(cluster);
  const endpoint = new OpenAIEndpoint({ baseUrl: cluster.baseURL });
  const schema = JSON.parse((THROUGHPUT_SPEC as { schema: string }).schema) as object;
  const extraBody = (i: number) => ({
    temperature: 1,
    seed: seed * 10_000 + i,
    ...(constrained
      ? { response_format: { type: 'json_schema', json_schema: { name: 'pets', schema, strict: true } } }
      : {}),
  });
  const prompts = ['Once upon a time', 'The cat sat', 'Lily and Ben went', 'One day a bird'];
  let outputTokens = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n('streams') }, async (_, s) => {
      for (let r = 0; r < n('requests-per-stream'); r++) {
        const i = s * 100 + r;
        const out = await endpoint.send(
          { prompt: at(prompts, i % prompts.length), promptLen: 0, outputLen: n('max-tokens') },
          { model: cluster.model, ignoreEos: true, extraBody: extraBody(i) },
        );
        if (!out.success) failed++;
        outputTokens += out.outputTokens;
      }
    }),
  );
  endpoint.close();
  const seconds = (performance.now() - t0) / 1000;
  const after = await metricSums(cluster);
  const per = (sum: 'stepSum' | 'fillSum', count: 'stepCount' | 'fillCount') =>
    entry(after, count) > entry(before, count)
      ? ((entry(after, sum) - entry(before, sum)) / (entry(after, count) - entry(before, count))) * 1000
      : 0;
  return {
    constrained,
    outputTokens,
    seconds,
    failed,
    stepMs: per('stepSum', 'stepCount'),
    fillMs: per('fillSum', 'fillCount'),
  };
}

const started = new Date();
const load = at(os.loadavg(), 0);
const q = (xs: number[], p: number) =>
  at(
    [...xs].sort((a, b) => a - b),
    Math.min(xs.length - 1, Math.floor(p * xs.length)),
  );
const compile512 = await compileTimes(STORIES_F32(), n('compile-schemas'));
const compile32k = await compileTimes(
  path.join(sharedDir(), 'models', 'llama-2-tiny-random.gguf'),
  n('compile-schemas'),
);

const cluster = await startLocalCluster({ workers: 1, model, env: { LOOM_THREADS: '0' } });
const rounds: Round[] = [];
try {
  await round(cluster, true, 0); // warm-up: the schema compiled, the engine's buffers touched
  for (let r = 0; r < n('rounds'); r++) {
    // Alternate which goes first, so neither always runs on a machine warmed (or loaded) by the other.
    for (const constrained of r % 2 === 0 ? [false, true] : [true, false])
      rounds.push(await round(cluster, constrained, r + 1));
  }
} finally {
  await cluster.stop();
}

const tps = (r: Round) => r.outputTokens / r.seconds;
const unc = rounds.filter((r) => !r.constrained);
const con = rounds.filter((r) => r.constrained);
const ratios = unc.map((u, i) => tps(at(con, i)) / tps(u));
const fmt = (s: { median: number; min: number; max: number }, d: number) =>
  `${s.median.toFixed(d)} (${s.min.toFixed(d)}-${s.max.toFixed(d)})`;
console.log(
  `structured bench ${started.toISOString()} load ${load.toFixed(2)} cpus ${os.cpus().length} model ${path.basename(model)}`,
);
console.log(
  `grammar compile ms, ${n('compile-schemas')} schemas: vocab 512 p50 ${q(compile512, 0.5).toFixed(1)} ` +
    `p99 ${q(compile512, 0.99).toFixed(1)}; vocab 32000 p50 ${q(compile32k, 0.5).toFixed(1)} p99 ` +
    `${q(compile32k, 0.99).toFixed(1)}`,
);
for (const [name, rs] of [
  ['unconstrained', unc],
  ['json_schema', con],
] as const)
  console.log(
    `${name.padEnd(13)} out tok/s ${fmt(spread(rs.map(tps)), 0)}  step ms ${fmt(spread(rs.map((r) => r.stepMs)), 2)}` +
      (name === 'json_schema' ? `  mask fill ms/step ${fmt(spread(rs.map((r) => r.fillMs)), 2)}` : '') +
      `  failed ${rs.reduce((s, r) => s + r.failed, 0)}`,
  );
console.log(
  `json_schema / unconstrained output tok/s at ${n('streams')} streams: ${fmt(spread(ratios), 3)} (target >= 0.8)`,
);
const r4 = (v: number) => Math.round(v * 10_000) / 10_000;
console.log(
  JSON.stringify({
    bench: 'structured',
    date: started.toISOString(),
    load1: r4(load),
    model: path.basename(model),
    streams: n('streams'),
    max_tokens: n('max-tokens'),
    compile_ms: {
      vocab_512: { p50: r4(q(compile512, 0.5)), p99: r4(q(compile512, 0.99)) },
      vocab_32000: { p50: r4(q(compile32k, 0.5)), p99: r4(q(compile32k, 0.99)) },
    },
    rounds: rounds.map((r) => ({ ...r, tok_s: r4(tps(r)) })),
    ratio: spread(ratios),
    target_ratio: 0.8,
  }),
);
