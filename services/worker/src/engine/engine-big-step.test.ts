// A step of many tokens (several prompts prefilled together, as bench:engine and the scheduler do) gives every prompt
// the logits of its own prefill to the bit: at such a T the weight GEMMs cut the tokens into blocks as well as the
// rows (forward-matmul.cpp), and each (row, token) value must not depend on that.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { GREEDY, seq, storiesPath } from '../testing/engine-test-kit.js';
import { writeStoriesCopy } from '../testing/stories-variants.js';
import { loadEngine } from './native-engine.js';

const PROMPTS = 4;
const LEN = 100; // 400 tokens in the batched step: several token blocks of every GEMM
const BLOCK = 16;
const PER_SEQ = Math.ceil(LEN / BLOCK);
const promptOf = (b: number): number[] =>
  Array.from({ length: LEN }, (_, i) => (i === 0 ? 1 : 3 + ((b * 131 + i * 37) % 500)));
const table = (first: number): number[] => Array.from({ length: PER_SEQ }, (_, i) => first + i);

describe('a step of many tokens', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-big-step-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const weights of ['f32', 'q8_0'] as const) {
    it(`${weights} weights: ${PROMPTS} prompts of ${LEN} tokens in one step == each alone, logits to the bit`, async () => {
      const file = weights === 'f32' ? storiesPath('f32') : path.join(dir, 'stories-q8_0.gguf');
      if (weights === 'q8_0') writeStoriesCopy(file, 'q8_0');
      const engine = loadEngine(file, { threads: 2 });
      try {
        const vocab = engine.info().vocabSize;
        engine.initKv(2 * PROMPTS * PER_SEQ, BLOCK, PROMPTS * LEN, PROMPTS);
        const alone: Float32Array[] = [];
        for (let b = 0; b < PROMPTS; b++) {
          await engine.step([seq(promptOf(b), 0, table(b * PER_SEQ), true, GREEDY, 0)]);
          alone.push(engine.lastLogits().slice());
        }
        const seqs = Array.from({ length: PROMPTS }, (_, b) =>
          seq(promptOf(b), 0, table((PROMPTS + b) * PER_SEQ), true, GREEDY, 0),
        );
        await engine.step(seqs);
        const together = engine.lastLogits();
        assert.equal(together.length, PROMPTS * vocab);
        alone.forEach((row, b) =>
          assert.deepEqual(together.subarray(b * vocab, (b + 1) * vocab), row, `prompt ${b}'s logits`),
        );
      } finally {
        engine.close();
      }
    });
  }
});
