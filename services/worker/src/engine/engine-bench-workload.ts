/**
 * The engine benchmark's workload, timed the way llama.cpp's llama-batched-bench times it so the two
 * sides are comparable: B sequences, each a distinct P-token prompt, all prefilled together (prefill =
 * until every prompt is in the KV cache and has its logits), then G decode steps that each feed one token
 * per sequence (decode). Also the useful FLOPs of that workload (identical for both engines).
 */
import { at } from '@loom/common';
import type { EngineModelInfo, EngineSeq, NativeEngine } from './engine-api.js';
import { loadEngine } from './native-engine.js';

export interface Workload {
  batch: number; // B concurrent sequences
  prompt: number; // P prompt tokens each
  generate: number; // G decode steps each
  threads: number;
}

/**
 * Seconds of the two phases; tokens/s: B*P / prefill, B*G / decode, B*(P+G) / (prefill + decode). Both are wall time
 * around the phase's `engine.step` calls from Node; decodeStepSeconds is the engine's own share of the decode, the sum
 * of the steps' `seconds` (forward + sampling inside step(), without the N-API hand-off, the promise and the JS loop).
 */
export interface PhaseTimes {
  prefillSeconds: number;
  decodeSeconds: number;
  decodeStepSeconds?: number;
}

/** Prompt of sequence b: P ids spread over the 32000-token vocabulary (distinct per sequence, no shared prefix). */
export function promptOf(b: number, p: number, vocab: number): number[] {
  return Array.from({ length: p }, (_, i) => (i === 0 ? 1 : 3 + ((b * 7919 + i * 104729) % (vocab - 3))));
}

/** Token budget of one Loom step: whole prompts are packed into steps of at most this many tokens. */
export const LOOM_STEP_TOKENS = 2048;
const BLOCK = 16;
const GREEDY = { temperature: 0, topP: 1, topK: 0, minP: 0, seed: 0 };

/**
 * Untimed: writes every KV row the timed run will write (each sequence's P + G positions, in steps of at most maxTokens
 * tokens), so the pool's pages are committed before the timing starts, as llama.cpp's are (it clears its KV buffer
 * when it creates it). Loom's pool is committed on first write, and a first write can wait on the kernel for tens of
 * ms (huge-page compaction: measured right after a llama-batched-bench run, 30-40 ms a 2048-token prefill step
 * against 3-5), a one-off cost that a server pays once, not per request.
 */
async function commitKv(
  engine: NativeEngine,
  w: Workload,
  table: (b: number) => Int32Array,
  maxTokens: number,
): Promise<void> {
  const n = w.prompt + w.generate;
  let seqs: EngineSeq[] = [];
  let tokens = 0;
  for (let b = 0; b < w.batch; b++)
    for (let p0 = 0; p0 < n; p0 += maxTokens) {
      const len = Math.min(maxTokens, n - p0);
      if (tokens + len > maxTokens || seqs.length === w.batch) {
        await engine.step(seqs);
        seqs = [];
        tokens = 0;
      }
      const ids = Int32Array.from({ length: len }, (_, i) => 3 + ((p0 + i) % 100));
      seqs.push({ tokens: ids, startPos: p0, blockTable: table(b), sample: false, rngCounter: 0, ...GREEDY });
      tokens += len;
    }
  if (seqs.length > 0) await engine.step(seqs);
}

/** Runs the workload on Loom in this process (greedy sampling of every sequence at every step). */
export async function runLoom(file: string, w: Workload): Promise<PhaseTimes & { info: EngineModelInfo }> {
  const engine = loadEngine(file, { threads: w.threads });
  try {
    const info = engine.info();
    const perSeq = Math.ceil((w.prompt + w.generate) / BLOCK);
    // One block table per KV cache group (sliding-window layers apart from global ones), interleaved: entry i * G + g.
    // Every group keeps all its blocks (the scheduler would free sliding ones out of the window: a memory saving,
    // not compute), so sequence b owns blocks [b * perSeq * G, (b + 1) * perSeq * G) and the warm-up the last G.
    const G = info.kvCacheGroups?.length ?? 1;
    const maxTokens = Math.max(w.batch, Math.min(LOOM_STEP_TOKENS, w.batch * w.prompt), w.prompt);
    engine.initKv((w.batch * perSeq + 1) * G, BLOCK, maxTokens, w.batch);
    const table = (b: number) => Int32Array.from({ length: perSeq * G }, (_, i) => b * perSeq * G + i);
    // Warm-up (untimed): one token in the spare last blocks, pages in the weights and wakes the threads.
    await engine.step([
      {
        tokens: Int32Array.of(1),
        startPos: 0,
        blockTable: table(w.batch),
        sample: true,
        rngCounter: 0,
        ...GREEDY,
      },
    ]);

    await commitKv(engine, w, table, maxTokens);

    const prompts = Array.from({ length: w.batch }, (_, b) => promptOf(b, w.prompt, info.vocabSize));
    const last = new Int32Array(w.batch);
    const t0 = performance.now();
    for (let b0 = 0; b0 < w.batch;) {
      const seqs: EngineSeq[] = [];
      let tokens = 0;
      for (; b0 < w.batch && (seqs.length === 0 || tokens + w.prompt <= maxTokens); b0++, tokens += w.prompt)
        seqs.push({
          tokens: Int32Array.from(at(prompts, b0)),
          startPos: 0,
          blockTable: table(b0),
          sample: true,
          rngCounter: 0,
          ...GREEDY,
        });
      const r = await engine.step(seqs);
      last.set(r.tokens.subarray(0, seqs.length), b0 - seqs.length);
    }
    const t1 = performance.now();
    const tables = Array.from({ length: w.batch }, (_, b) => table(b));
    let inStep = 0;
    for (let k = 0; k < w.generate; k++) {
      const seqs: EngineSeq[] = tables.map((blockTable, b) => ({
        tokens: Int32Array.of(at(last, b)),
        startPos: w.prompt + k,
        blockTable,
        sample: true,
        rngCounter: k + 1,
        ...GREEDY,
      }));
      const r = await engine.step(seqs);
      last.set(r.tokens);
      inStep += r.seconds;
    }
    const t2 = performance.now();
    return { prefillSeconds: (t1 - t0) / 1000, decodeSeconds: (t2 - t1) / 1000, decodeStepSeconds: inStep, info };
  } finally {
    engine.close();
  }
}

/**
 * Model FLOPs of the workload (multiply-add = 2): GEMMs for every token fed, attention over each token's own prefix
 * (its last W positions in a sliding-window layer), logits for each prompt's last token and every decoded one.
 */
export function workloadFlops(i: EngineModelInfo, w: Workload): number {
  const qDim = i.nHeads * i.headDim,
    kvDim = i.nKvHeads * i.headDim;
  // A MoE layer's FFN: the router, then expertsUsed experts of expertHiddenDim per token.
  const ffn = i.expertCount
    ? i.dim * i.expertCount + 3 * i.dim * i.expertHiddenDim! * i.expertsUsed!
    : 3 * i.dim * i.hiddenDim;
  const gemmPerToken = 2 * i.nLayers * (i.dim * qDim + 2 * i.dim * kvDim + qDim * i.dim + ffn);
  const fed = w.prompt + w.generate;
  const windows = i.kvCacheGroups?.flatMap((g) => g.layers.map(() => g.window)) ?? Array<number>(i.nLayers).fill(0);
  let attn = 0;
  for (let p = 0; p < fed; p++) for (const W of windows) attn += 2 * 2 * Math.min(p + 1, W || Infinity) * qDim; // q·k and p·v per head, per layer
  const logits = 2 * i.dim * i.vocabSize * (1 + w.generate);
  return w.batch * (fed * gemmPerToken + attn + logits);
}
