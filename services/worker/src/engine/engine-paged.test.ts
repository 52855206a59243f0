// Paged KV == contiguous: a sequence computed in one prefill, in chunks, with other block sizes and
// inside batches with other sequences gives the same greedy tokens and (within 1e-4) the same logprobs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at } from '@loom/common';
import type { NativeEngine } from './engine-api.js';
import { GREEDY, ONCE_UPON_A_TIME, runAll, SeqRun, storiesPath } from '../testing/engine-test-kit.js';
import { loadEngine } from './native-engine.js';

const NEW = 40;
// A 37-token prompt: the story opening plus filler ids, long enough to straddle several blocks.
const PROMPT = [...ONCE_UPON_A_TIME, ...Array.from({ length: 32 }, (_, i) => 260 + ((i * 37) % 200))];
const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

function withEngine<T>(blockSize: number, numBlocks: number, fn: (e: NativeEngine) => Promise<T>): Promise<T> {
  const engine = loadEngine(storiesPath('f32'), { threads: 2 });
  engine.initKv(numBlocks, blockSize, 256, 8);
  return fn(engine).finally(() => engine.close());
}

function assertSame(a: SeqRun, b: SeqRun, what: string): void {
  assert.deepEqual(b.generated, a.generated, `${what}: tokens differ`);
  a.logprobs.forEach((lp, i) =>
    assert.ok(Math.abs(lp - at(b.logprobs, i)) <= 1e-4, `${what}: logprob ${i} ${lp} vs ${b.logprobs[i]}`),
  );
}

describe('paged KV cache', () => {
  it('one prefill in a single contiguous block == chunked prefill over scattered blocks == batched', async () => {
    const reference = await withEngine(128, 2, async (e) => {
      const r = new SeqRun(PROMPT, [1], GREEDY, NEW);
      await runAll(e, [r]);
      return r;
    });

    await withEngine(16, 64, async (e) => {
      // Chunked prefill (7 tokens per step, so chunks straddle block edges), reversed non-contiguous blocks.
      const chunked = new SeqRun(PROMPT, [50, 3, 41, 17, 9, 60], GREEDY, NEW, 7);
      await runAll(e, [chunked]);
      assertSame(reference, chunked, 'chunked');

      // The same sequence batched with two others that prefill and decode alongside it, in other blocks.
      const target = new SeqRun(PROMPT, [5, 44, 12, 30, 2, 61], GREEDY, NEW, 11);
      const other1 = new SeqRun([1, 403, 407], [7, 8, 20, 21], { ...GREEDY, temperature: 0.9, seed: 7 }, 25);
      const other2 = new SeqRun(range(300, 50), [33, 34, 35, 36, 37, 38], GREEDY, 10, 16);
      await runAll(e, [other1, target, other2]);
      assertSame(reference, target, 'batched');
      assert.equal(other1.generated.length, 25);
    });

    await withEngine(4, 64, async (e) => {
      const blocks = range(0, 20).map((i) => (i * 7) % 64);
      const small = new SeqRun(PROMPT, blocks, GREEDY, NEW, 5);
      await runAll(e, [small]);
      assertSame(reference, small, 'block size 4');
    });
  });

  it('a block table longer than needed is fine; only the needed prefix is read', async () => {
    await withEngine(16, 8, async (e) => {
      const r = new SeqRun(ONCE_UPON_A_TIME, [4, 5, 6, 7, 0, 1, 2, 3], GREEDY, 5);
      await runAll(e, [r]);
      assert.equal(r.generated.length, 5);
    });
  });
});
