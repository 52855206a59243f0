/**
 * Speed benchmark (not a test): writes a random-weight f16 Llama GGUF in a mid-size shape (stories260K's
 * vocabulary, bigger dims), then times prefill and batched decode on the Loom engine and on llama.cpp
 * (node-llama-cpp) in the same process and prints ratios. Timings are only meaningful as ratios.
 * Usage: node services/worker/dist/engine/engine-bench.js [dim=1024] [layers=8] [threads=0]
 *        node services/worker/dist/engine/engine-bench.js --write FILE [dim] [layers]  (only write the model,
 *        e.g. for the Node-free tools/engine-bench.cpp on another machine)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readGgufMetadata, writeGguf, type GgufTensorToWrite } from '@loom/tokenizer';
import { getLlama } from 'node-llama-cpp';
import { GREEDY, seq, storiesPath } from './engine-test-kit.js';
import { f32ToF16Bits } from './quantize-q8-0.js';
import { loadEngine } from './native-engine.js';

const writeOnly = process.argv[2] === '--write' ? process.argv[3] : undefined;
const args = writeOnly ? process.argv.slice(4) : process.argv.slice(2);
const dim = Number(args[0] ?? 1024), nLayers = Number(args[1] ?? 8), threads = Number(args[2] ?? 0);
const nHeads = dim / 64, nKv = Math.max(1, nHeads / 4), hidden = Math.round((dim * 8) / 3 / 32) * 32;
const PROMPT = 128, DECODE = 32, BATCH = 8;

function randomF16(n: number, scale: number, seed: number): Uint8Array {
  const out = new Uint16Array(n);
  let s = seed >>> 0;
  const table = Uint16Array.from({ length: 256 }, (_, i) => f32ToF16Bits(((i - 127.5) / 127.5) * scale));
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = table[s >>> 24]!;
  }
  return new Uint8Array(out.buffer);
}

function writeModel(file: string): void {
  const meta = readGgufMetadata(storiesPath('f32'));
  const vocab = (meta.getArray('tokenizer.ggml.tokens') ?? []).length;
  const md = new Map(meta.metadata);
  const set: Record<string, number> = {
    'llama.embedding_length': dim, 'llama.block_count': nLayers, 'llama.feed_forward_length': hidden,
    'llama.attention.head_count': nHeads, 'llama.attention.head_count_kv': nKv, 'llama.rope.dimension_count': 64,
  };
  for (const [k, v] of Object.entries(set)) md.set(k, v);
  const f32 = (n: number) => new Uint8Array(new Float32Array(n).fill(1).buffer);
  const t: GgufTensorToWrite[] = [];
  let seed = 1;
  const mat = (name: string, rows: number, cols: number) => t.push({ name, shape: [cols, rows], type: 1, data: randomF16(rows * cols, 1 / Math.sqrt(cols), seed++) });
  mat('token_embd.weight', vocab, dim);
  t.push({ name: 'output_norm.weight', shape: [dim], type: 0, data: f32(dim) });
  mat('output.weight', vocab, dim);
  for (let l = 0; l < nLayers; l++) {
    const p = `blk.${l}.`;
    t.push({ name: `${p}attn_norm.weight`, shape: [dim], type: 0, data: f32(dim) });
    mat(`${p}attn_q.weight`, dim, dim);
    mat(`${p}attn_k.weight`, nKv * 64, dim);
    mat(`${p}attn_v.weight`, nKv * 64, dim);
    mat(`${p}attn_output.weight`, dim, dim);
    t.push({ name: `${p}ffn_norm.weight`, shape: [dim], type: 0, data: f32(dim) });
    mat(`${p}ffn_gate.weight`, hidden, dim);
    mat(`${p}ffn_up.weight`, hidden, dim);
    mat(`${p}ffn_down.weight`, dim, hidden);
  }
  const types = new Map(meta.types);
  for (const k of Object.keys(set)) types.delete(k);
  writeGguf(file, { metadata: md, types, tensors: t });
}

if (writeOnly) {
  writeModel(writeOnly);
  process.exit(0);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-bench-'));
const file = path.join(dir, 'bench-f16.gguf');
try {
  writeModel(file);
  const prompt = Array.from({ length: PROMPT }, (_, i) => 3 + ((i * 31) % 500));
  const nThreads = threads || os.availableParallelism();

  const engine = loadEngine(file, { threads: nThreads });
  engine.initKv(256, 16, 512, BATCH);
  const blocks = (b: number) => Array.from({ length: 16 }, (_, i) => b * 16 + i);
  let t0 = performance.now();
  await engine.step([seq(prompt, 0, blocks(0), true, GREEDY, 0)]);
  const loomPrefill = PROMPT / ((performance.now() - t0) / 1000);
  for (let b = 1; b < BATCH; b++) await engine.step([seq(prompt, 0, blocks(b), true, GREEDY, 0)]);
  t0 = performance.now();
  for (let k = 0; k < DECODE; k++) await engine.step(Array.from({ length: BATCH }, (_, b) => seq([5], PROMPT + k, blocks(b), true, GREEDY, k)));
  const loomDecode = (DECODE * BATCH) / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  for (let k = 0; k < DECODE; k++) await engine.step([seq([5], PROMPT + DECODE + k, blocks(0), true, GREEDY, k)]);
  const loomDecode1 = DECODE / ((performance.now() - t0) / 1000);
  const info = engine.info();
  engine.close();

  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' as never });
  const model = await llama.loadModel({ modelPath: file });
  const ctx = await model.createContext({ contextSize: 512, threads: nThreads, batchSize: 512 });
  const s = ctx.getSequence();
  t0 = performance.now();
  await s.evaluateWithoutGeneratingNewTokens(prompt as never);
  const lcppPrefill = PROMPT / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  for (let k = 0; k < DECODE; k++) await s.evaluateWithoutGeneratingNewTokens([5] as never);
  const lcppDecode1 = DECODE / ((performance.now() - t0) / 1000);
  await ctx.dispose();
  await model.dispose();
  await llama.dispose();

  console.log(`model: dim ${dim}, hidden ${hidden}, ${nLayers} layers, ${nHeads} heads / ${nKv} kv, f16; loom kernels ${info.kernels}, ${nThreads} threads`);
  console.log(`prefill ${PROMPT} tokens: loom ${loomPrefill.toFixed(1)} tok/s, llama.cpp ${lcppPrefill.toFixed(1)} tok/s, ratio ${(loomPrefill / lcppPrefill).toFixed(2)}`);
  console.log(`decode 1 seq:        loom ${loomDecode1.toFixed(1)} tok/s, llama.cpp ${lcppDecode1.toFixed(1)} tok/s, ratio ${(loomDecode1 / lcppDecode1).toFixed(2)}`);
  console.log(`decode ${BATCH} seqs batched: loom ${loomDecode.toFixed(1)} tok/s (${(loomDecode / loomDecode1).toFixed(2)}x its single-sequence rate)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
