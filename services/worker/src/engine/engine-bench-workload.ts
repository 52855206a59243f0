/**
 * The engine benchmark's workload, run the same way on Loom and on llama.cpp (node-llama-cpp): B
 * sequences, each a P-token prompt followed by G greedy tokens, all in flight together. Also the useful
 * FLOPs of that workload (identical for both engines) and the KV bytes per token each one stores.
 */
import type { Llama } from 'node-llama-cpp';
import type { EngineModelInfo, EngineSeq } from './engine-api.js';
import { loadEngine } from './native-engine.js';

export interface Workload {
  batch: number; // B concurrent sequences
  prompt: number; // P prompt tokens each
  generate: number; // G generated tokens each
  threads: number;
}

export interface RunResult {
  seconds: number; // first prompt token in → last generated token out
  prefillSeconds: number; // until every sequence had its first generated token
  generated: number; // tokens actually generated (B * G when all ran to the end)
  kvBytesPerToken: number;
}

/** Prompt of sequence b: P ids spread over the 32000-token vocabulary (distinct per sequence, no shared prefix). */
export function promptOf(b: number, p: number, vocab: number): number[] {
  return Array.from({ length: p }, (_, i) => (i === 0 ? 1 : 3 + ((b * 7919 + i * 104729) % (vocab - 3))));
}

/** Token budget of one Loom step: whole prompts are packed into steps of at most this many tokens. */
export const LOOM_STEP_TOKENS = 2048;
const BLOCK = 16;

/** Runs the workload on Loom in this process; tick(n) after every step with the tokens generated. */
export async function runLoom(
  file: string,
  w: Workload,
  tick: (n: number) => void,
): Promise<RunResult & { info: EngineModelInfo }> {
  const engine = loadEngine(file, { threads: w.threads });
  try {
    const info = engine.info();
    const perSeq = Math.ceil((w.prompt + w.generate) / BLOCK);
    const maxTokens = Math.max(w.batch, Math.min(LOOM_STEP_TOKENS, w.batch * w.prompt), w.prompt);
    engine.initKv(w.batch * perSeq + 1, BLOCK, maxTokens, w.batch);
    const table = (b: number) => Int32Array.from({ length: perSeq }, (_, i) => b * perSeq + i);
    const greedy = { temperature: 0, topP: 1, topK: 0, minP: 0, seed: 0, logprobs: -1 };
    // Warm-up (untimed): one token in the spare last block, pages in the weights and wakes the threads.
    await engine.step([
      {
        tokens: Int32Array.of(1),
        startPos: 0,
        blockTable: Int32Array.of(w.batch * perSeq),
        sample: true,
        rngCounter: 0,
        ...greedy,
      },
    ]);

    const prompts = Array.from({ length: w.batch }, (_, b) => promptOf(b, w.prompt, info.vocabSize));
    const last = new Int32Array(w.batch);
    const t0 = performance.now();
    for (let b0 = 0; b0 < w.batch;) {
      const seqs: EngineSeq[] = [];
      let tokens = 0;
      for (; b0 < w.batch && (seqs.length === 0 || tokens + w.prompt <= maxTokens); b0++, tokens += w.prompt)
        seqs.push({
          tokens: Int32Array.from(prompts[b0]!),
          startPos: 0,
          blockTable: table(b0),
          sample: true,
          rngCounter: 0,
          ...greedy,
        });
      const r = await engine.step(seqs);
      const first = b0 - seqs.length;
      seqs.forEach((_, i) => (last[first + i] = r.tokens[i]!));
      tick(seqs.length);
    }
    const prefillSeconds = (performance.now() - t0) / 1000;
    const tables = Array.from({ length: w.batch }, (_, b) => table(b));
    for (let k = 1; k < w.generate; k++) {
      const seqs: EngineSeq[] = tables.map((blockTable, b) => ({
        tokens: Int32Array.of(last[b]!),
        startPos: w.prompt + k - 1,
        blockTable,
        sample: true,
        rngCounter: k,
        ...greedy,
      }));
      const r = await engine.step(seqs);
      last.set(r.tokens);
      tick(w.batch);
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      seconds,
      prefillSeconds,
      generated: w.batch * w.generate,
      kvBytesPerToken: engine.kvBytesPerBlock(BLOCK) / BLOCK,
      info,
    };
  } finally {
    engine.close();
  }
}

/**
 * The same workload on llama.cpp: one context with B sequences (its unified KV cache holds B * (P + G)
 * cells), every sequence generating at once so node-llama-cpp batches them into shared decode calls.
 */
export async function runLlamaCpp(
  llama: Llama,
  file: string,
  w: Workload,
  info: EngineModelInfo,
  tick: (n: number) => void,
): Promise<RunResult> {
  const model = await llama.loadModel({ modelPath: file });
  const cells = w.batch * (w.prompt + w.generate);
  const ctx = await model.createContext({
    contextSize: cells,
    sequences: w.batch,
    threads: w.threads,
    batchSize: Math.min(LOOM_STEP_TOKENS, cells),
  });
  try {
    const seqs = Array.from({ length: w.batch }, () => ctx.getSequence());
    // Warm-up (untimed), then forget it.
    await seqs[0]!.evaluateWithoutGeneratingNewTokens([1] as never);
    await seqs[0]!.clearHistory();
    let firstTokens = 0,
      prefillAt = 0,
      generated = 0;
    const t0 = performance.now();
    await Promise.all(
      seqs.map(async (s, b) => {
        let n = 0;
        for await (const _ of s.evaluate(promptOf(b, w.prompt, info.vocabSize) as never, { temperature: 0 })) {
          if (n === 0 && ++firstTokens === w.batch) prefillAt = performance.now();
          n++;
          tick(1);
          if (n >= w.generate) break;
        }
        generated += n;
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    // llama.cpp's default KV cache type is f16 for K and V, every layer, one cell per token.
    return { seconds, prefillSeconds: (prefillAt - t0) / 1000, generated, kvBytesPerToken: kvBytesF16(info) };
  } finally {
    await ctx.dispose();
    await model.dispose();
  }
}

/** Model FLOPs of the workload (multiply-add = 2): GEMMs for every token fed, attention over each token's own prefix, logits per generated token. */
export function workloadFlops(i: EngineModelInfo, w: Workload): number {
  const qDim = i.nHeads * i.headDim,
    kvDim = i.nKvHeads * i.headDim;
  const gemmPerToken = 2 * i.nLayers * (i.dim * qDim + 2 * i.dim * kvDim + qDim * i.dim + 3 * i.dim * i.hiddenDim);
  const fed = w.prompt + w.generate - 1; // the last generated token is never fed back
  let attn = 0;
  for (let p = 0; p < fed; p++) attn += 2 * 2 * (p + 1) * qDim * i.nLayers; // q·k and p·v per head
  const logits = 2 * i.dim * i.vocabSize * w.generate;
  return w.batch * (fed * gemmPerToken + attn + logits);
}

/** KV bytes per token with f16 K and V in every layer (llama.cpp's default cache type). */
export function kvBytesF16(i: EngineModelInfo): number {
  return i.nLayers * 2 * i.nKvHeads * i.headDim * 2;
}
