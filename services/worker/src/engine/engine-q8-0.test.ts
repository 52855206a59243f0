// q8_0 weights: a q8_0 copy of stories260K (written here) generates what llama.cpp generates from it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { at } from '@loom/common';
import type { Llama } from 'node-llama-cpp';
import { cpuLlama } from '@loom/testing';
import { GREEDY, ONCE_UPON_A_TIME, runAll, SeqRun } from '../testing/engine-test-kit.js';
import { loadEngine, quantize } from './native-engine.js';
import { dequantizeQ8_0, quantizeQ8_0 } from '@loom/gguf';
import { writeStoriesCopy } from '../testing/stories-variants.js';

describe('q8_0 weights', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-q8-'));
  const q8Path = path.join(dir, 'stories260K-q8_0.gguf');
  let llama: Llama;
  before(async () => {
    assert.ok(writeStoriesCopy(q8Path, 'q8_0') >= 20, 'most matrices became q8_0');
    llama = await cpuLlama();
  });
  after(async () => {
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('quantizeQ8_0 round-trips within half a quantization step', () => {
    const x = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7) * (i % 7));
    const y = dequantizeQ8_0(quantizeQ8_0(x));
    for (let b = 0; b < 2; b++) {
      const amax = Math.max(...Array.from(x.slice(b * 32, b * 32 + 32), Math.abs));
      for (let i = b * 32; i < b * 32 + 32; i++)
        assert.ok(Math.abs(at(x, i) - at(y, i)) <= (amax / 127) * 0.51 + 1e-6, `${x[i]} vs ${y[i]}`);
    }
    assert.deepEqual(
      quantizeQ8_0(x),
      quantize('q8_0', x),
      'the TypeScript and the engine quantisers write the same bytes',
    );
  });

  it('greedy tokens equal llama.cpp on the same q8_0 file', async () => {
    const model = await llama.loadModel({ modelPath: q8Path });
    const ctx = await model.createContext({ contextSize: 256, threads: 1 });
    const expected: number[] = [];
    for await (const t of ctx.getSequence().evaluate(ONCE_UPON_A_TIME as never, { temperature: 0 })) {
      expected.push(t as number);
      if (expected.length >= 40) break;
    }
    await ctx.dispose();
    await model.dispose();

    const engine = loadEngine(q8Path, { threads: 2 });
    try {
      assert.equal(engine.info().weightType, 'q8_0');
      engine.initKv(16, 16, 64, 2);
      const run = new SeqRun(ONCE_UPON_A_TIME, [0, 1, 2, 3], GREEDY, 40);
      await runAll(engine, [run]);
      assert.deepEqual(run.generated, expected);
    } finally {
      engine.close();
    }
  });
});
