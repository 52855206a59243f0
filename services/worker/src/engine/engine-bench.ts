/**
 * Engine speed benchmark (never a test): `npm run bench:engine [-- flags]`.
 *
 * For every (model, dtype, B) row it synthesises the model (engine-bench-models.ts) with `loom model
 * synth`, then runs the workload of engine-bench-workload.ts (B prompts of P tokens prefilled together,
 * then G decode steps of B tokens) on Loom in-process and on llama.cpp's llama-batched-bench, built
 * natively by scripts/build-llama-peer.sh, same GGUF and threads. llama.cpp runs at its best: every
 * candidate setting (flash attention on/off, physical batch sizes) runs once first and the fastest is
 * kept for the row. Then rounds alternate Loom, llama.cpp, Loom, ... (--rounds, >= 3), so both see the
 * same machine load; each figure is the median and min-max over rounds, and each ratio is over the paired
 * rounds. Prefill, decode and total tok/s are reported apart. Without the peer it says so and reports
 * Loom alone. Progress goes to stderr; the table and one JSON line per row to stdout.
 *
 * Flags: `npm run bench:engine -- --help` (the option table below).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { at, parseCliArgs } from '@loom/common';
import { llamaPeerMissing, llamaPeerTool, medianRange, textTable } from '@loom/bench';
import { readGgufMetadata } from '@loom/gguf';
import { benchModelFile } from './bench-model-file.js';
import { BENCH_MODELS, pickModels } from './engine-bench-models.js';
import { runLoom, workloadFlops, type PhaseTimes, type Workload } from './engine-bench-workload.js';
import { describePeer, peerCandidates, runBatchedBench, type PeerConfig } from './llama-batched-bench.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const BUILD = path.join(repoRoot, 'services', 'worker', 'engine', 'build');

/** The issue's targets: Loom total tok/s over llama.cpp's by B (none stated for other B), and prefill. */
const TOTAL_TARGET: Record<number, number> = { 1: 1.1, 8: 1.5, 64: 2 };
const PREFILL_TARGET = 1.2;

const { values, fail, list, int } = parseCliArgs({
  synopsis: 'npm run bench:engine -- [options]',
  about:
    "Engine tok/s (prefill, decode, total) against llama.cpp's llama-batched-bench, same GGUF and threads,\n" +
    'rounds interleaved. Lists take commas (--batch 1,8,64). docs/benchmarks.md shows the output.',
  options: {
    models: {
      type: 'string',
      value: 'NAMES',
      description: 'models to run, names from engine-bench-models.ts (default: those marked default)',
    },
    dtypes: {
      type: 'string',
      value: 'TYPES',
      description: "weight types, e.g. f32,q8_0,q4_K (default: each model's own)",
    },
    batch: {
      type: 'string',
      default: '1,8,64',
      value: 'LIST',
      description: 'batch sizes B: sequences decoded together',
    },
    prompt: { type: 'string', default: '128', value: 'N', description: 'prompt tokens P per sequence' },
    generate: { type: 'string', default: '128', value: 'N', description: 'generated tokens G per sequence' },
    threads: { type: 'string', default: '2', value: 'N', description: 'CPU threads of Loom and llama.cpp alike' },
    rounds: {
      type: 'string',
      default: '3',
      value: 'N',
      description: 'timed rounds per system and row (>= 3 for a result)',
    },
    'budget-s': {
      type: 'string',
      default: '3600',
      value: 'S',
      description: 'seconds; rows not started by then are skipped, and said so',
    },
    'no-llama': { type: 'boolean', default: false, description: 'run Loom alone, without the llama.cpp peer' },
    'model-dir': {
      type: 'string',
      value: 'DIR',
      description: 'keep synthesised GGUFs there and reuse them (default: a temp dir, removed)',
    },
    'synth-only': {
      type: 'boolean',
      default: false,
      description: 'write the models into --model-dir and stop (do it before a timed run, outside its quiet window)',
    },
  },
  examples: [
    'npm run bench:engine -- --models stories15M --dtypes f32 --batch 64 --rounds 5',
    'npm run bench:engine -- --models tinyllama-1.1B --model-dir ~/.cache/loom-bench --synth-only',
  ],
});
const models = pickModels(
  values.models === undefined
    ? undefined
    : list(
        'models',
        BENCH_MODELS.map((m) => m.name),
      ),
);
const batches = list('batch').map(Number);
const [P, G, threads, rounds, budget] = [
  int('prompt', 1),
  int('generate', 1),
  int('threads', 1),
  int('rounds', 1),
  int('budget-s', 1),
];
if (!batches.every((n) => Number.isInteger(n) && n > 0))
  fail(`--batch takes whole numbers >= 1, got '${values.batch}'`);

if (values['synth-only'] && !values['model-dir']) fail('--synth-only needs --model-dir to keep the files in');

const log = (s: string) => process.stderr.write(`bench:engine ${s}\n`);
const modelDir = values['model-dir'] ? path.resolve(values['model-dir']) : undefined;
if (modelDir) mkdirSync(modelDir, { recursive: true });
const dtypesOf = (m: { dtypes: string[] }) => (values.dtypes ? list('dtypes') : m.dtypes);
if (values['synth-only']) {
  for (const model of models)
    for (const dtype of dtypesOf(model)) benchModelFile(repoRoot, modelDir!, model, dtype, log);
  process.exit(0);
}
const tool = (name: string, args: string[]) =>
  JSON.parse(execFileSync(path.join(BUILD, name), args, { encoding: 'utf8' })) as Record<string, number>;

/** tok/s of one run: prefill B*P, decode B*G, total B*(P+G) over their seconds; decodeInStep: B*G over step() time. */
interface Rates {
  prefill: number;
  decode: number;
  total: number;
  decodeInStep?: number;
}
const rates = (w: Workload, t: PhaseTimes): Rates => ({
  prefill: (w.batch * w.prompt) / t.prefillSeconds,
  decode: (w.batch * w.generate) / t.decodeSeconds,
  total: (w.batch * (w.prompt + w.generate)) / (t.prefillSeconds + t.decodeSeconds),
  ...(t.decodeStepSeconds ? { decodeInStep: (w.batch * w.generate) / t.decodeStepSeconds } : {}),
});

/**
 * Bytes of weights one decoded token reads: every tensor but the embedding table (one row), unless it is the tied
 * LM head; of a MoE's expert tensors, the share of the experts it runs (expert_used_count / expert_count).
 */
function weightBytesPerToken(file: string): number {
  const { metadata, tensors: ts } = readGgufMetadata(file);
  const arch = String(metadata.get('general.architecture'));
  const experts = Number(metadata.get(`${arch}.expert_count`) ?? 0);
  const used = experts ? Number(metadata.get(`${arch}.expert_used_count`)) / experts : 1;
  const tied = !ts.some((t) => t.name === 'output.weight');
  return ts.reduce(
    (s, t) =>
      s + (t.name === 'token_embd.weight' && !tied ? 0 : t.name.includes('_exps.') ? t.byteSize! * used : t.byteSize!),
    0,
  );
}

interface Row {
  model: string;
  dtype: string;
  batch: number;
  loom: Rates[];
  llamaCpp: Rates[] | null;
  peerConfig: string | null;
  kernels: string;
  loomPeakShare: number; // model FLOPs / median total time / peak
  b1DecodeGBps: number | null; // B=1: weight bytes per token x median decode tok/s (wall around step() from Node)
  b1StepGBps: number | null; // B=1: the same over the engine's step() seconds only (no N-API hand-off, no JS)
  loadAvg: number;
}

const peer = values['no-llama'] ? undefined : llamaPeerTool('llama-batched-bench');
if (!peer && !values['no-llama']) log(`${llamaPeerMissing('llama-batched-bench')}; reporting Loom alone`);
const peak = tool('peak-flops', [String(threads), '0.3']).gflops!;
const bw = tool('mem-bandwidth', [String(threads), '512']);
const dir = modelDir ?? mkdtempSync(path.join(os.tmpdir(), 'loom-bench-'));
const rows: Row[] = [];
const skipped: string[] = [];
const start = performance.now();
try {
  for (const model of models)
    for (const dtype of dtypesOf(model)) {
      const file = benchModelFile(repoRoot, dir, model, dtype, log);
      const bytesPerToken = weightBytesPerToken(file);
      for (const batch of batches) {
        const name = `${model.name} ${dtype} B=${batch}`;
        if ((performance.now() - start) / 1000 > budget) {
          skipped.push(name);
          continue;
        }
        const w: Workload = { batch, prompt: P, generate: G, threads };
        let best: PeerConfig | undefined;
        if (peer) {
          let bestTotal = 0;
          for (const c of peerCandidates(w)) {
            const r = rates(w, await runBatchedBench(peer, file, w, c));
            log(`${name} llama.cpp candidate ${describePeer(c)}: ${r.total.toFixed(1)} tok/s`);
            if (r.total > bestTotal) [best, bestTotal] = [c, r.total];
          }
        }
        const loom: Rates[] = [],
          lc: Rates[] = [];
        let kernels = '?',
          flops = 0;
        for (let r = 0; r < rounds; r++) {
          const l = await runLoom(file, w);
          [kernels, flops] = [l.info.kernels, workloadFlops(l.info, w)];
          loom.push(rates(w, l));
          if (best) lc.push(rates(w, await runBatchedBench(peer!, file, w, best)));
          log(
            `${name} round ${r + 1}: loom ${loom.at(-1)!.total.toFixed(1)}, llama.cpp ${lc.at(-1)?.total.toFixed(1) ?? '-'} tok/s`,
          );
        }
        const totals = loom.map((x) => x.total).sort((a, b) => a - b);
        const medianTotal = at(totals, totals.length >> 1);
        const medianDecode = at(
          loom.map((x) => x.decode).sort((a, b) => a - b),
          loom.length >> 1,
        );
        const medianInStep = at(
          loom.map((x) => x.decodeInStep ?? 0).sort((a, b) => a - b),
          loom.length >> 1,
        );
        rows.push({
          model: model.name,
          dtype,
          batch,
          loom,
          llamaCpp: best ? lc : null,
          peerConfig: best ? describePeer(best) : null,
          kernels,
          loomPeakShare: flops / ((batch * (P + G)) / medianTotal) / (peak * 1e9),
          b1DecodeGBps: batch === 1 ? (bytesPerToken * medianDecode) / 1e9 : null,
          b1StepGBps: batch === 1 ? (bytesPerToken * medianInStep) / 1e9 : null,
          loadAvg: at(os.loadavg(), 0),
        });
      }
      if (!modelDir) rmSync(file, { force: true });
    }
} finally {
  if (!modelDir) rmSync(dir, { recursive: true, force: true });
}

type Phase = 'prefill' | 'decode' | 'total';
const pick = (xs: Rates[], k: Phase) => xs.map((x) => x[k]);
const ratios = (r: Row, k: Phase) => {
  const peer = r.llamaCpp;
  return peer ? r.loom.map((l, i) => l[k] / at(peer, i)[k]) : null;
};
const cell = (xs: number[] | null, d: number) => (xs ? medianRange(xs, d) : '-');
const verdict = (xs: number[] | null, target: number | undefined) => {
  if (target === undefined) return '-';
  if (!xs) return `>=${target}`;
  const m = at(
    [...xs].sort((a, b) => a - b),
    xs.length >> 1,
  );
  return `>=${target} ${m >= target ? 'ok' : 'MISSED'}`;
};
const cpu = os.cpus()[0]?.model ?? '?';
console.log(
  `engine bench ${new Date().toISOString()}: ${cpu}, ${os.cpus().length} CPUs, load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; ` +
    `${P} prompt + ${G} decoded tokens per sequence, ${threads} threads, ${rounds} interleaved rounds, kernels ${rows[0]?.kernels ?? '?'}`,
);
console.log(
  `peer: ${peer ? `${peer} (llama-batched-bench, fastest of its candidate settings per row)` : 'none (llama.cpp ratios not measured)'}; ` +
    `peak fp32 ${peak.toFixed(1)} GFLOP/s (FMA loop), memory read ${bw.readGBps!.toFixed(1)} GB/s, copy ${bw.copyGBps!.toFixed(1)} GB/s (${threads} threads)`,
);
console.log('tok/s: median (min-max) over rounds; ratio = Loom / llama.cpp over paired rounds');
const head = [
  'model',
  'dtype',
  'B',
  'prefill loom',
  'prefill lcpp',
  'ratio',
  'target',
  'decode loom',
  'decode lcpp',
  'ratio',
];
head.push('total loom', 'total lcpp', 'ratio', 'target', 'loom %peak', 'B=1 GB/s wall|step', 'lcpp setting', 'load');
const body = rows.map((r) => [
  r.model,
  r.dtype,
  String(r.batch),
  cell(pick(r.loom, 'prefill'), 0),
  cell(r.llamaCpp && pick(r.llamaCpp, 'prefill'), 0),
  cell(ratios(r, 'prefill'), 2),
  verdict(ratios(r, 'prefill'), PREFILL_TARGET),
  cell(pick(r.loom, 'decode'), 0),
  cell(r.llamaCpp && pick(r.llamaCpp, 'decode'), 0),
  cell(ratios(r, 'decode'), 2),
  cell(pick(r.loom, 'total'), 0),
  cell(r.llamaCpp && pick(r.llamaCpp, 'total'), 0),
  cell(ratios(r, 'total'), 2),
  verdict(ratios(r, 'total'), TOTAL_TARGET[r.batch]),
  `${(r.loomPeakShare * 100).toFixed(1)}%`,
  r.b1DecodeGBps === null ? '-' : `${r.b1DecodeGBps.toFixed(1)}|${(r.b1StepGBps ?? 0).toFixed(1)}`,
  r.peerConfig ?? '-',
  r.loadAvg.toFixed(1),
]);
console.log(textTable(head, body, 2));
if (skipped.length) console.log(`skipped (past --budget-s ${budget}): ${skipped.join(', ')}`);
for (const r of rows)
  console.log(
    JSON.stringify({
      bench: 'engine',
      prompt: P,
      generate: G,
      threads,
      peakGflops: peak,
      memReadGBps: bw.readGBps,
      memCopyGBps: bw.copyGBps,
      ...r,
    }),
  );
