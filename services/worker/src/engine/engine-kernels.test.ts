// Every kernel set this CPU supports (scalar reference, AVX2, AVX-512, AVX-512 VNNI, AVX512-BF16) generates
// the same greedy tokens.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { GREEDY, ONCE_UPON_A_TIME, runAll, SeqRun, storiesPath } from './engine-test-kit.js';
import { KERNEL_SETS, loadEngine, supportedKernels } from './native-engine.js';
import { writePaddedStories, writeStoriesCopy } from './stories-variants.js';

describe('kernel dispatch', () => {
  // Only the sets this CPU runs can be compared; say which are left out, so a green run on an AVX2-only
  // machine is not read as covering AVX-512 (build/engine-check and build/kernel-check do that there).
  const missing = KERNEL_SETS.filter((k) => !supportedKernels().includes(k));
  if (missing.length > 0) console.log(`# kernel sets not compared (this CPU lacks them): ${missing.join(', ')}`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-kernels-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // q8_0, q4_0 and q4_K run the integer block GEMM (activations to q8_0); the files are stories260K
  // re-quantised by Loom (q4_K: its width-padded copy, K-quant rows being 256 wide).
  const fileOf = (weights: 'f32' | 'f16' | 'q8_0' | 'q4_0' | 'q4_K') => {
    if (weights === 'f32' || weights === 'f16') return storiesPath(weights);
    const file = path.join(dir, `stories-${weights}.gguf`);
    if (weights === 'q4_K') writePaddedStories(file, weights);
    else writeStoriesCopy(file, weights);
    return file;
  };

  for (const weights of ['f32', 'f16', 'q8_0', 'q4_0', 'q4_K'] as const) {
    // With q8_0 activations, a last-bit difference in one layer's float sums (vector vs scalar order)
    // can move an activation to the next int8 step, and 40 tokens on such steps add up: logprobs agree
    // to a few 1e-2 there (measured up to 0.07 for q4_K), not 1e-3. Each set's logits are held to the
    // float64 reference within 5e-2 by engine-reference.test.ts (LOOM_KERNELS picks the set).
    const tol = weights === 'f32' || weights === 'f16' ? 1e-3 : 0.1;
    it(`${weights} weights: ${supportedKernels().join(', ')} agree (tokens equal, logprobs within ${tol} of scalar)`, async () => {
      const results = new Map<string, SeqRun>();
      const file = fileOf(weights);
      for (const kernels of supportedKernels()) {
        for (const kvType of ['f16', 'f32'] as const) {
          const engine = loadEngine(file, { threads: 2, kernels, kvType });
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
      const [refName, ref] = [...results][0]!;
      for (const [name, run] of results) {
        assert.deepEqual(run.generated, ref.generated, `${name} vs ${refName}`);
        const same = results.get(`scalar/${name.split('/')[1]}`)!;
        run.logprobs.forEach((lp, i) => assert.ok(Math.abs(lp - same.logprobs[i]!) < tol, `${name} logprob ${i}: ${lp} vs scalar ${same.logprobs[i]}`));
      }
    });
  }

  it('an unsupported or unknown forced kernel set is refused with what to do', () => {
    assert.throws(() => loadEngine(storiesPath('f32'), { threads: 1, kernels: 'sse9' as never }), /not a kernel set/);
    for (const kernels of missing) assert.throws(() => loadEngine(storiesPath('f32'), { threads: 1, kernels }), /only supports/);
  });
});
