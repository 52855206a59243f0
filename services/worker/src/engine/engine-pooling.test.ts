// Embeddings: the pooled rows a step returns are the model's final-normed hidden states (rmsnorm * output_norm,
// llama.cpp's embedding output): equal to the float64 reference's at the same positions (last, first, sum over a
// chunked prompt) in a step shared with a sampling sequence, and equal to llama.cpp's embeddings of the same GGUF
// (node-llama-cpp's embedding context: last token, mean and CLS by the file's <arch>.pooling_type).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { at } from '@loom/common';
import { copyGgufWithMetadata } from '@loom/gguf';
import type { Llama, Token } from 'node-llama-cpp';
import { cpuLlama } from '@loom/testing';
import type { EngineSeq } from './engine-api.js';
import { contiguousTable, GREEDY, ONCE_UPON_A_TIME, relErr, seq, storiesPath } from '../testing/engine-test-kit.js';
import { loadEngine } from './native-engine.js';
import { TINY_LLAMA, writeTinyModel, type TinyConfig } from '../testing/tiny-model.js';

/** A 13-token stories260K prompt: "Once upon a time" and more, BOS first. */
const PROMPT = [...ONCE_UPON_A_TIME, 412, 280, 339, 268, 471, 300, 290, 263];

/** Row p of a [n][dim] matrix, and the sum of its rows [a, b). */
const row = (m: Float32Array, dim: number, p: number) => m.slice(p * dim, (p + 1) * dim);
function rowSum(m: Float32Array, dim: number, a: number, b: number): Float32Array {
  const out = new Float64Array(dim);
  for (let p = a; p < b; p++) for (let i = 0; i < dim; i++) out[i] = at(out, i) + at(m, p * dim + i);
  return Float32Array.from(out);
}

/** A non-sampling sequence that pools `pool` over tokens[start, end) of `tokens`. */
const pooling = (
  tokens: number[],
  start: number,
  end: number,
  table: number[],
  pool: EngineSeq['pool'],
): EngineSeq => ({ ...seq(tokens.slice(start, end), start, table, false, GREEDY, 0), pool });

describe('pooled hidden states vs the float64 reference', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-pool-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // f32 KV: only arithmetic order differs from the reference (~1e-7 of the scale); a wrong norm or row is O(1).
  const TOL = 1e-5;
  const models: [string, () => string][] = [
    ['stories260K', () => storiesPath('f32')],
    [
      'tiny qwen3 (per-head q/k norm, NEOX rope)',
      () => {
        const f = path.join(dir, 'qwen3.gguf');
        const c: TinyConfig = { ...TINY_LLAMA, arch: 'qwen3', headDim: 32, tied: true, ropeTheta: 1e6, seed: 3 };
        writeTinyModel(f, c);
        return f;
      },
    ],
    [
      'tiny gemma2 (sandwich norms, embedding scale)',
      () => {
        const f = path.join(dir, 'gemma2.gguf');
        writeTinyModel(f, { ...TINY_LLAMA, arch: 'gemma2', headDim: 64, window: 5, normEps: 1e-6, seed: 4 });
        return f;
      },
    ],
  ];

  for (const [name, file] of models) {
    it(`${name}: last, first and sum rows in one step with a sampling sequence; sums over chunks`, async () => {
      const engine = loadEngine(file(), { threads: 2, kvType: 'f32' });
      try {
        const { dim, vocabSize: V, kvCacheGroups } = engine.info();
        const groups = kvCacheGroups?.length ?? 1;
        const tokens = PROMPT.map((t) => t % V);
        const n = tokens.length;
        const ref = engine.referenceHidden(Int32Array.from(tokens));
        const refLogits = engine.referenceLogits(Int32Array.from(tokens));
        // Four sequences of 4 blocks in each of the model's KV cache groups (gemma2: sliding and global).
        const tables = [0, 1, 2, 3].map((s) => contiguousTable(engine, 4, s * 4 * groups));
        engine.initKv(16 * groups, 4, 64, 4);
        // One step: three pooling sequences and a sampling one; only the sampler gets logits.
        const r = await engine.step([
          pooling(tokens, 0, n, at(tables, 0), 'last'),
          seq(tokens, 0, at(tables, 1), true, GREEDY, 0),
          pooling(tokens, 0, n, at(tables, 2), 'first'),
          pooling(tokens, 0, n, at(tables, 3), 'sum'),
        ]);
        assert.equal(r.pooled?.length, 3 * dim, 'one row per pooling sequence');
        assert.deepEqual(
          [...r.tokens].map((t) => t >= 0),
          [false, true, false, false],
        );
        const check = (got: Float32Array, want: Float32Array, what: string) => {
          const e = relErr(got, want);
          assert.ok(e < TOL, `${what}: relative error ${e.toExponential(2)} >= ${TOL}`);
        };
        check(row(r.pooled!, dim, 0), row(ref, dim, n - 1), 'last');
        check(row(r.pooled!, dim, 1), row(ref, dim, 0), 'first');
        check(row(r.pooled!, dim, 2), rowSum(ref, dim, 0, n), 'sum');
        check(engine.lastLogits(), row(refLogits, V, n - 1), 'the sampling sequence beside them');

        // The same prompt in chunks of 5 (as chunked prefill feeds it): the chunk sums add up to the whole.
        const sum = new Float32Array(dim);
        for (let a = 0; a < n; a += 5) {
          const b = Math.min(n, a + 5);
          const c = await engine.step([
            pooling(tokens, a, b, at(tables, 0), 'sum'),
            pooling(tokens, a, b, at(tables, 1), 'last'),
          ]);
          for (let i = 0; i < dim; i++) sum[i] = at(sum, i) + at(c.pooled ?? [], i);
          check(row(c.pooled!, dim, 1), row(ref, dim, b - 1), `last row of chunk [${a}, ${b})`);
        }
        check(sum, rowSum(ref, dim, 0, n), 'sum over chunks');

        // Nothing pools: no pooled rows.
        const plain = await engine.step([seq([at(tokens, 0)], 0, at(tables, 2), true, GREEDY, 0)]);
        assert.equal(plain.pooled, undefined);
      } finally {
        engine.close();
      }
    });
  }

  it('a sequence cannot both sample and pool; the pool kind is checked', async () => {
    const engine = loadEngine(storiesPath('f32'), { threads: 1 });
    try {
      engine.initKv(8, 16, 32, 2);
      const s = seq([1, 403], 0, [0], true, GREEDY, 0);
      await assert.rejects(engine.step([{ ...s, pool: 'last' }]), /both samples and pools/);
      await assert.rejects(
        engine.step([{ ...s, sample: false, pool: 'max' as never }]),
        /pool must be 'last', 'first' or 'sum'/,
      );
    } finally {
      engine.close();
    }
  });
});

describe('pooled embeddings == llama.cpp (node-llama-cpp embedding context)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-pool-cpp-'));
  let llama: Llama;
  before(async () => {
    llama = await cpuLlama();
  });
  after(async () => {
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** llama.cpp's (unnormalised) embedding of `tokens` under the file's pooling_type (none = the last token's). */
  async function llamaCppEmbedding(file: string, tokens: number[]): Promise<Float32Array> {
    const model = await llama.loadModel({ modelPath: file });
    // One thread: llama.cpp's default spins a thread per core, which crawls on a loaded shared box.
    const ctx = await model.createEmbeddingContext({ contextSize: 128, threads: 1 });
    try {
      return Float32Array.from((await ctx.getEmbeddingFor(tokens as Token[])).vector);
    } finally {
      await ctx.dispose();
      await model.dispose();
    }
  }

  // llama.cpp's pooling_type values: 1 mean, 2 cls; a file without one gives the last token's embedding.
  const cases: [string, number | undefined, EngineSeq['pool']][] = [
    ['last (no pooling_type)', undefined, 'last'],
    ['mean (pooling_type 1)', 1, 'sum'],
    ['cls (pooling_type 2)', 2, 'first'],
  ];
  for (const type of ['f32', 'f16'] as const) {
    for (const [name, ggufPooling, pool] of cases) {
      it(`stories260K ${type}, ${name}`, async () => {
        let file = storiesPath(type);
        if (ggufPooling !== undefined) {
          file = path.join(dir, `stories-${type}-${ggufPooling}.gguf`);
          copyGgufWithMetadata(storiesPath(type), file, { 'llama.pooling_type': ggufPooling });
        }
        const want = await llamaCppEmbedding(file, PROMPT);
        const engine = loadEngine(file, { threads: 2 });
        try {
          engine.initKv(8, 16, 64, 2);
          const r = await engine.step([
            pooling(PROMPT, 0, PROMPT.length, [3, 1], pool),
            pooling(PROMPT, 0, PROMPT.length, [5, 6], 'last'),
          ]);
          const dim = want.length;
          const got = row(r.pooled!, dim, 0).map((x) => (pool === 'sum' ? x / PROMPT.length : x));
          // Measured <= 8.5e-4 of the vector's scale: llama.cpp rounds activations to f16 against f16 weights and
          // in its f16 KV attention, where Loom keeps f32; a wrong norm, row or divisor is O(1).
          const e = relErr(got, want);
          assert.ok(e < 3e-3, `relative error ${e.toExponential(2)} against llama.cpp`);
          // The file's pooling_type is what llama.cpp pooled by: its mean / CLS vector is not the last token's.
          if (pool !== 'last')
            assert.ok(relErr(row(r.pooled!, dim, 1), want) > 3e-2, 'llama.cpp pooled the last token');
        } finally {
          engine.close();
        }
      });
    }
  }
});
