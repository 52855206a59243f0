// Sliding windows in the paged KV, end to end in one process: the scheduler core (per-group block tables,
// sliding groups' blocks freed once their tokens left every later query's window and handed to other
// sequences), the worker's persistent batch and the engine, on a gemma3 synth file whose window (32) the
// generation passes. Greedy ids must equal llama.cpp's (node-llama-cpp, plain argmax, same file).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SAMPLING } from '@loom/common';
import { Scheduler, toStepRequest } from '@loom/scheduler';
import { PersistentBatch, kvCacheGroupsOf, loadEngine } from '@loom/worker';
import type { Llama } from 'node-llama-cpp';
import { cpuLlama } from '@loom/testing';
import { parseShape } from './model-synth-shapes.js';
import { synthModel } from './model-synth.js';
import { openLlamaCpp } from './testing/synth-oracle.js';
import { vocabPath } from './synth-vocab.js';

const N = 40;
const WINDOW = 32;

describe('sliding-window KV: gemma3 past its window == llama.cpp', () => {
  let llama: Llama;
  let dir: string;
  before(async () => {
    llama = await cpuLlama();
    dir = mkdtempSync(path.join(os.tmpdir(), 'loom-sliding-kv-'));
  });
  after(async () => {
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`3 concurrent sequences of 20-30 + ${N} tokens, window ${WINDOW}, blocks of 4, freed blocks reused`, async () => {
    // gemma3's 5 sliding : 1 global layers, 6 layers: one full group and five sliding groups of one layer.
    const shape = { ...parseShape(undefined, 'gemma3'), dim: 64, hidden: 128, heads: 4, kvHeads: 2, window: WINDOW };
    shape.headDim = 32;
    const file = path.join(dir, 'gemma3-w32.gguf');
    synthModel({ shape, dtype: 'f32', out: file, seed: 5, vocabFrom: vocabPath('ggml-vocab-llama-spm.gguf') });
    const prompts = [20, 25, 30].map((n, k) =>
      Array.from({ length: n }, (_, i) => 1 + ((i * 7919 + k * 104729) % 31999)),
    );
    const cpp = await openLlamaCpp(llama, file, shape.ctx);
    const expected: number[][] = [];
    try {
      for (const p of prompts) expected.push(await cpp.greedy(p, N));
    } finally {
      await cpp.close();
    }

    const engine = loadEngine(file, { threads: 2 });
    try {
      const info = engine.info();
      const groups = kvCacheGroupsOf(info);
      assert.deepEqual(
        groups.map((g) => [g.slidingWindow, g.layers]),
        [[0, [5]], ...[0, 1, 2, 3, 4].map((l) => [WINDOW, [l]])],
        'the card states the layer groups',
      );
      const config = { blockSize: 4, numBlocks: 150, maxNumBatchedTokens: 16, maxNumSeqs: 3 };
      engine.initKv(config.numBlocks, config.blockSize, config.maxNumBatchedTokens, config.maxNumSeqs);
      const core = new Scheduler({ ...config, maxModelLen: info.contextLength, kvCacheGroups: groups });
      const batch = new PersistentBatch(config.blockSize, [], groups.length);
      prompts.forEach((p, k) =>
        core.addRequest({
          requestId: `s${k}`,
          promptTokenIds: p,
          sampling: { ...DEFAULT_SAMPLING, temperature: 0, maxTokens: N, ignoreEos: true },
        }),
      );
      const got = new Map<string, number[]>(prompts.map((_, k) => [`s${k}`, []]));
      // Worker-side tables, to see a block freed by one sequence's window taken by another while both run.
      const tables = new Map<string, number[]>();
      let reused = false;
      for (let step = 1; core.hasWork() && step < 2000; step++) {
        const out = core.schedule();
        for (const id of [...out.finishedIds, ...out.preemptedIds]) tables.delete(id);
        for (const r of out.newRequests) tables.set(r.requestId, r.blockIds.slice());
        for (const r of out.cachedRequests) {
          tables.get(r.requestId)!.push(...r.newBlockIds);
          for (const [other, t] of tables)
            if (other !== r.requestId && r.newBlockIds.some((b) => t.includes(b))) reused = true;
        }
        const prepared = batch.prepare(toStepRequest(out, step, 1));
        const sampled = batch.complete(prepared, await engine.step(prepared.seqs));
        for (const o of core.update(out, sampled as Parameters<Scheduler['update']>[1]).outputs)
          got.get(o.requestId)!.push(...o.newTokenIds);
      }
      assert.equal(core.hasWork(), false);
      prompts.forEach((_, k) => assert.deepEqual(got.get(`s${k}`), expected[k], `sequence ${k}: greedy ids`));
      assert.ok(reused, "a sliding group's freed block went to another running sequence");
      assert.equal(core.stats().numFreeBlocks, config.numBlocks);
    } finally {
      engine.close();
    }
  });
});
