// Embeddings of a synth model (qwen3: per-head q/k norms, NEOX rope, head size unlike dim / heads) equal
// llama.cpp's for the same GGUF (node-llama-cpp's embedding context), for each pooling the file can name in
// `qwen3.pooling_type`: none (the last token's), mean and CLS; and Loom's float64 reference agrees.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cpuLlama, relErr } from '@loom/testing';
import { copyGgufWithMetadata } from '@loom/gguf';
import { loadEngine } from '@loom/worker';
import type { Llama, Token } from 'node-llama-cpp';
import { parseShape } from './model-synth-shapes.js';
import { synthModel } from './model-synth.js';
import { vocabPath } from './synth-vocab.js';
import { at } from '@loom/common';

describe('synth qwen3 embeddings: Loom == llama.cpp', () => {
  let llama: Llama;
  let dir: string;
  let base: string;
  before(async () => {
    llama = await cpuLlama();
    dir = mkdtempSync(path.join(os.tmpdir(), 'loom-synth-embd-'));
    base = path.join(dir, 'qwen3.gguf');
    const shape = { ...parseShape(undefined, 'qwen3'), dim: 64, hidden: 128, heads: 4, kvHeads: 2, headDim: 32 };
    // The 32000-token Llama vocabulary keeps the file small; the ids only have to be valid.
    synthModel({ shape, dtype: 'f32', out: base, seed: 5, vocabFrom: vocabPath('ggml-vocab-llama-spm.gguf') });
  });
  after(async () => {
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const tokens = [1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203, 29889, 13, 1576, 338, 263];
  const n = tokens.length;
  // pooling_type in the file (llama.cpp's enum: 1 mean, 2 cls; none = the last token) and Loom's rows for it.
  const cases: [string, number | undefined, 'last' | 'sum' | 'first'][] = [
    ['last (no pooling_type)', undefined, 'last'],
    ['mean', 1, 'sum'],
    ['cls', 2, 'first'],
  ];
  for (const [name, type, pool] of cases) {
    it(`${name}: the pooled final-normed hidden state`, async () => {
      let file = base;
      if (type !== undefined) {
        file = path.join(dir, `qwen3-${type}.gguf`);
        copyGgufWithMetadata(base, file, { 'qwen3.pooling_type': type });
      }
      const model = await llama.loadModel({ modelPath: file });
      let want: Float32Array;
      try {
        // One thread: llama.cpp's default spins a thread per core, which crawls on a loaded shared box.
        const ctx = await model.createEmbeddingContext({ contextSize: 64, threads: 1 });
        want = Float32Array.from((await ctx.getEmbeddingFor(tokens as Token[])).vector);
        await ctx.dispose();
      } finally {
        await model.dispose();
      }
      const engine = loadEngine(file, { threads: 2 });
      try {
        const dim = engine.info().dim;
        assert.equal(want.length, dim);
        engine.initKv(8, 16, 64, 1);
        const r = await engine.step([
          {
            tokens: Int32Array.from(tokens),
            startPos: 0,
            blockTable: Int32Array.from([2, 0]),
            sample: false,
            pool,
            temperature: 0,
            topP: 1,
            topK: 0,
            minP: 0,
            seed: 0,
            rngCounter: 0,
          },
        ]);
        const got = r.pooled!.map((x) => (pool === 'sum' ? x / n : x));
        const hidden = engine.referenceHidden(Int32Array.from(tokens));
        const ref = new Float32Array(dim);
        const rows = pool === 'sum' ? [...Array(n).keys()] : [pool === 'first' ? 0 : n - 1];
        for (const p of rows) for (let i = 0; i < dim; i++) ref[i] = at(ref, i) + at(hidden, p * dim + i) / rows.length;
        const vsCpp = relErr(got, want),
          vsRef = relErr(got, ref);
        console.log(`# qwen3 ${name}: vs llama.cpp ${vsCpp.toExponential(2)}, vs f64 ${vsRef.toExponential(2)}`);
        // As the family tests' logits: <= 8e-4 of the scale vs llama.cpp (f16 activations against its f16 KV)
        // and less vs the float64 reference; a wrong norm, row or divisor is O(1).
        assert.ok(vsCpp < 3e-3, `vs llama.cpp ${vsCpp}`);
        assert.ok(vsRef < 2e-3, `vs float64 reference ${vsRef}`);
      } finally {
        engine.close();
      }
    });
  }
});
