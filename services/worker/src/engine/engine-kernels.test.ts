// Every kernel set this CPU supports (scalar reference, AVX2, AVX-512, AVX-512 VNNI, AVX512-BF16) generates
// the same greedy tokens.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { at } from '@loom/common';
import { GREEDY, ONCE_UPON_A_TIME, relErr, runAll, seq, SeqRun, storiesPath } from '../testing/engine-test-kit.js';
import { KERNEL_SETS, loadEngine, supportedKernels } from './native-engine.js';
import { GGML_QUANT_TYPES, ggmlQuantLayout, type GgmlQuantType } from '@loom/gguf';
import { writePaddedStories, writeStoriesCopy } from '../testing/stories-variants.js';
import { TINY_LLAMA, writeTinyModel, type TinyConfig } from '../testing/tiny-model.js';

describe('kernel dispatch', () => {
  // Only the sets this CPU runs can be compared; say which are left out, so a green run on an AVX2-only
  // machine is not read as covering AVX-512 (build/engine-check and build/kernel-check do that there).
  const missing = KERNEL_SETS.filter((k) => !supportedKernels().includes(k));
  if (missing.length > 0) console.log(`# kernel sets not compared (this CPU lacks them): ${missing.join(', ')}`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-kernels-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // Quantised weights run the integer block GEMM (activations to int8); the files are stories260K
  // re-quantised by Loom (the 256-value super-block types: its width-padded copy).
  const fileOf = (weights: 'f32' | 'f16' | GgmlQuantType) => {
    if (weights === 'f32' || weights === 'f16') return storiesPath(weights);
    const file = path.join(dir, `stories-${weights}.gguf`);
    if (ggmlQuantLayout(weights).blockSize === 256) writePaddedStories(file, weights);
    else writeStoriesCopy(file, weights);
    return file;
  };

  // Teacher-forced logits of every supported set (f32 KV, `tokens` fed one a step into the blocks of `blockTable`),
  // each within relative error `tol` of the scalar set's at every position.
  async function assertLogitsNearScalar(file: string, tokens: number[], blockTable: number[], tol: number) {
    const logits = new Map<string, Float32Array[]>();
    for (const kernels of supportedKernels()) {
      const engine = loadEngine(file, { threads: 2, kernels, kvType: 'f32' });
      try {
        assert.equal(engine.info().kernels, kernels);
        engine.initKv(blockTable.length, 16, 16 * blockTable.length, 1);
        const rows: Float32Array[] = [];
        for (let p = 0; p < tokens.length; p++) {
          await engine.step([seq([at(tokens, p)], p, blockTable, true, GREEDY, p)]);
          rows.push(engine.lastLogits().slice());
        }
        logits.set(kernels, rows);
      } finally {
        engine.close();
      }
    }
    const scalar = logits.get('scalar');
    assert.ok(scalar, 'the scalar set always runs');
    for (const [kernels, rows] of logits)
      rows.forEach((row, p) => {
        const e = relErr(row, at(scalar, p));
        assert.ok(e < tol, `${kernels} position ${p}: relative error ${e.toExponential(2)} vs scalar`);
      });
  }

  for (const weights of ['f32', 'f16'] as const) {
    it(`${weights} weights: ${supportedKernels().join(', ')} agree (tokens equal, logprobs within 1e-3 of scalar)`, async () => {
      const results = new Map<string, SeqRun>();
      for (const kernels of supportedKernels()) {
        for (const kvType of ['f16', 'f32'] as const) {
          const engine = loadEngine(fileOf(weights), { threads: 2, kernels, kvType });
          try {
            assert.equal(engine.info().kernels, kernels);
            engine.initKv(16, 16, 128, 4);
            const run = new SeqRun(ONCE_UPON_A_TIME, [2, 0, 1, 5], GREEDY, 48, 3);
            await runAll(engine, [run]);
            results.set(`${kernels}/kv-${kvType}`, run);
          } finally {
            engine.close();
          }
        }
      }
      // Tokens agree everywhere; logprobs agree tightly between kernel sets with the same KV type
      // (rounding K/V to f16 moves them by ~1e-3 on its own, which is the KV type's effect, not the kernels').
      const [refName, ref] = at([...results], 0);
      for (const [name, run] of results) {
        assert.deepEqual(run.generated, ref.generated, `${name} vs ${refName}`);
        const same = results.get(`scalar/${name.split('/')[1]}`)!;
        run.logprobs.forEach((lp, i) =>
          assert.ok(
            Math.abs(lp - at(same.logprobs, i)) < 1e-3,
            `${name} logprob ${i}: ${lp} vs scalar ${same.logprobs[i]}`,
          ),
        );
      }
    });
  }

  // Quantised weights: activations are rounded to int8 in every layer, so a last-bit difference in a
  // float sum (vector vs scalar order) can move one activation a whole int8 step, and a greedy run can
  // then take another path at a near tie. So these compare teacher-forced logits, position by
  // position: every set within 5e-2 of scalar (measured: 1e-7 until such a step, ~1e-2 after one),
  // as engine-reference.test.ts holds each set to the float64 reference.
  for (const weights of GGML_QUANT_TYPES) {
    it(`${weights} weights: ${supportedKernels().join(', ')} compute the same logits (within 5e-2 of scalar at every position)`, async () => {
      const tokens = [...ONCE_UPON_A_TIME, 261, 404, 268, 422, 270, 313, 376, 259, 407, 283, 261, 378];
      await assertLogitsNearScalar(fileOf(weights), tokens, [0, 1, 2, 3, 4, 5, 6, 7], 5e-2);
    });
  }

  // The families' own steps (per-head norms, GELU, soft-caps, windows, NoPE, YaRN / LongRoPE angles,
  // multipliers) are shared scalar code around the kernels, so every set must compute the same logits.
  const families: [string, Partial<TinyConfig>][] = [
    ['qwen3 YaRN', { arch: 'qwen3', headDim: 32, ropeScaling: { type: 'yarn', factor: 4, originalContext: 8 } }],
    ['gemma2', { arch: 'gemma2', headDim: 64, window: 5, attnSoftcap: 2, finalSoftcap: 5 }],
    ['gemma3', { arch: 'gemma3', layers: 3, headDim: 64, window: 5, swaPattern: 3, ropeThetaSwa: 1e4 }],
    ['phi3', { arch: 'phi3', ropeDims: 48, ropeScaling: { type: 'longrope', originalContext: 16, attnFactor: 1.2 } }],
    ['smollm3', { arch: 'smollm3', layers: 4 }],
    ['granite', { arch: 'granite', multipliers: { embedding: 12, attention: 0.05, residual: 0.22, logit: 8 } }],
    // Experts run on the same GEMM kernels, one call per expert over its gathered rows.
    ['qwen3moe', { arch: 'qwen3moe', headDim: 32, experts: 8, expertsUsed: 2, expertHidden: 128 }],
    ['gpt-oss', { arch: 'gpt-oss', headDim: 64, window: 5, experts: 8, expertsUsed: 4, expertHidden: 128 }],
  ];
  for (const [name, over] of families) {
    it(`${name}: ${supportedKernels().join(', ')} compute the same logits (within 1e-4 of scalar at every position)`, async () => {
      const file = path.join(dir, `family-${name.replace(/\W+/g, '-')}.gguf`);

      writeTinyModel(file, { ...TINY_LLAMA, seed: 3, ...over });
      const tokens = Array.from({ length: 12 }, (_, i) => (i * 53 + 7) % TINY_LLAMA.vocab);
      await assertLogitsNearScalar(file, tokens, [2, 0, 3, 1], 1e-4);
    });
  }

  it('an unsupported or unknown forced kernel set is refused with what to do', () => {
    assert.throws(() => loadEngine(storiesPath('f32'), { threads: 1, kernels: 'sse9' as never }), /not a kernel set/);
    for (const kernels of missing)
      assert.throws(() => loadEngine(storiesPath('f32'), { threads: 1, kernels }), /only supports/);
  });
});
