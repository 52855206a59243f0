/**
 * Engine speed benchmark (never a test): `npm run bench:engine [-- flags]`.
 *
 * For every (model, dtype, B) row it synthesises the model with `loom model synth` into a temp dir, runs
 * B sequences of P prompt + G greedy tokens on Loom in-process and then through llama.cpp
 * (node-llama-cpp's prebuilt CPU build, one context with B sequences), and prints a table and one JSON
 * line per row: tokens/s of both (prompt + generated tokens over wall time), their ratio, the share of
 * the machine's peak fp32 FLOP/s each reaches (peak measured in the same run by build/peak-flops, a
 * register-only FMA loop), and KV bytes per token. Progress goes to stderr.
 *
 * Flags: --models stories15M,stories15M-gqa  --dtypes f32,q8_0  --batch 1,8,64  --prompt 128
 *        --generate 128  --threads 2  --budget-s 1500 (rows not started by then are skipped, and said so)
 */
import cliProgress from 'cli-progress';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLlama } from 'node-llama-cpp';
import {
  kvBytesF16,
  runLlamaCpp,
  runLoom,
  workloadFlops,
  type RunResult,
  type Workload,
} from './engine-bench-workload.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const CLI = path.join(repoRoot, 'packages', 'cli', 'dist', 'main.js');
const PEAK = path.join(repoRoot, 'services', 'worker', 'engine', 'build', 'peak-flops');

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'stories15M,stories15M-gqa' },
    dtypes: { type: 'string', default: 'f32,q8_0' },
    batch: { type: 'string', default: '1,8,64' },
    prompt: { type: 'string', default: '128' },
    generate: { type: 'string', default: '128' },
    threads: { type: 'string', default: '2' },
    'budget-s': { type: 'string', default: '1500' },
    'no-llama': { type: 'boolean', default: false },
  },
});
const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const models = list(values.models!),
  dtypes = list(values.dtypes!),
  batches = list(values.batch!).map(Number);
const P = Number(values.prompt),
  G = Number(values.generate),
  threads = Number(values.threads),
  budget = Number(values['budget-s']);
if (![P, G, threads, budget, ...batches].every((n) => Number.isInteger(n) && n > 0))
  throw new Error('--prompt, --generate, --threads, --budget-s and --batch take positive integers');

interface Progress {
  tick(n: number): void;
  label(s: string): void;
  done(): void;
}
function progress(total: number): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      format: 'bench:engine [{bar}] {percentage}% | {value}/{total} tokens | {row}',
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { row: '' });
  return { tick: (n) => bar.increment(n), label: (row) => bar.update({ row }), done: () => bar.stop() };
}

function peakGflops(): number {
  const out = execFileSync(PEAK, [String(threads), '0.3'], { encoding: 'utf8' });
  return (JSON.parse(out) as { gflops: number }).gflops;
}

interface Row {
  model: string;
  dtype: string;
  batch: number;
  prompt: number;
  generate: number;
  threads: number;
  kernels: string;
  loomTokPerS: number;
  llamaCppTokPerS: number | null;
  ratio: number | null;
  loomDecodeTokPerS: number;
  llamaCppDecodeTokPerS: number | null;
  loomPeakShare: number;
  llamaCppPeakShare: number | null;
  peakGflops: number;
  loomKvBytesPerToken: number;
  llamaCppKvBytesPerToken: number | null;
  target: number | null;
  met: boolean | null;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-bench-'));
const rows: Row[] = [];
const skipped: string[] = [];
try {
  const peaks = [peakGflops()];
  const llama = values['no-llama']
    ? undefined
    : await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' as never });
  const bar = progress(models.length * dtypes.length * batches.reduce((a, b) => a + b, 0) * G * (llama ? 2 : 1));
  const start = performance.now();
  for (const model of models)
    for (const dtype of dtypes) {
      const file = path.join(dir, `${model}-${dtype}.gguf`);
      bar.label(`synth ${model} ${dtype}`);
      execFileSync(
        process.execPath,
        [CLI, 'model', 'synth', '--shape', model, '--dtype', dtype, '-o', file, '--quiet'],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      for (const batch of batches) {
        const name = `${model} ${dtype} B=${batch}`;
        if ((performance.now() - start) / 1000 > budget) {
          skipped.push(name);
          continue;
        }
        const w: Workload = { batch, prompt: P, generate: G, threads };
        bar.label(`${name} loom`);
        const loom = await runLoom(file, w, (n) => bar.tick(n));
        let lc: RunResult | undefined;
        if (llama) {
          bar.label(`${name} llama.cpp`);
          lc = await runLlamaCpp(llama, file, w, loom.info, (n) => bar.tick(n));
          if (lc.generated !== batch * G)
            throw new Error(`${name}: llama.cpp generated ${lc.generated} of ${batch * G} tokens`);
        }
        const peak = peakGflops();
        peaks.push(peak);
        const flops = workloadFlops(loom.info, w);
        const tokens = batch * (P + G);
        const target = batch === 1 ? 1 : batch >= 64 ? 5 : null; // the targets; none stated for B between
        const ratio = lc ? lc.seconds / loom.seconds : null;
        rows.push({
          model,
          dtype,
          batch,
          prompt: P,
          generate: G,
          threads,
          kernels: loom.info.kernels,
          loomTokPerS: tokens / loom.seconds,
          llamaCppTokPerS: lc ? tokens / lc.seconds : null,
          ratio,
          loomDecodeTokPerS: (batch * (G - 1)) / (loom.seconds - loom.prefillSeconds),
          llamaCppDecodeTokPerS: lc ? (batch * (G - 1)) / (lc.seconds - lc.prefillSeconds) : null,
          loomPeakShare: flops / loom.seconds / (peak * 1e9),
          llamaCppPeakShare: lc ? flops / lc.seconds / (peak * 1e9) : null,
          peakGflops: peak,
          loomKvBytesPerToken: loom.kvBytesPerToken,
          llamaCppKvBytesPerToken: lc ? kvBytesF16(loom.info) : null,
          target,
          met: ratio === null || target === null ? null : ratio >= target,
        });
      }
      rmSync(file, { force: true });
    }
  bar.done();
  await llama?.dispose();

  const f = (x: number | null, d = 1) => (x === null ? '-' : x.toFixed(d));
  const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
  const header = [
    'model',
    'dtype',
    'B',
    'loom tok/s',
    'llama.cpp tok/s',
    'ratio',
    'target',
    'loom decode',
    'lcpp decode',
    'loom %peak',
    'lcpp %peak',
    'KV B/tok loom',
    'KV B/tok lcpp',
  ];
  const body = rows.map((r) => [
    r.model,
    r.dtype,
    String(r.batch),
    f(r.loomTokPerS),
    f(r.llamaCppTokPerS),
    f(r.ratio, 2),
    r.target === null ? '-' : `>=${r.target}${r.met === null ? '' : r.met ? ' ok' : ' MISSED'}`,
    f(r.loomDecodeTokPerS),
    f(r.llamaCppDecodeTokPerS),
    pct(r.loomPeakShare),
    pct(r.llamaCppPeakShare),
    String(r.loomKvBytesPerToken),
    f(r.llamaCppKvBytesPerToken, 0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(
    `engine bench: ${P} prompt + ${G} generated tokens per sequence, ${threads} threads, kernels ${rows[0]?.kernels ?? '?'}, peak fp32 ${Math.max(...peaks).toFixed(1)} GFLOP/s (FMA microbench, min ${Math.min(...peaks).toFixed(1)})`,
  );
  console.log(
    'tok/s = (prompt + generated tokens of all B sequences) / wall time; decode = generated tokens/s after the last prefill; ratio = loom / llama.cpp',
  );
  console.log(line(header));
  for (const b of body) console.log(line(b));
  if (skipped.length) console.log(`skipped (past --budget-s ${budget}): ${skipped.join(', ')}`);
  for (const r of rows) console.log(JSON.stringify({ bench: 'engine', ...r }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
