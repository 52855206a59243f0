// `loom model synth` writes GGUFs that Loom's engine and llama.cpp (node-llama-cpp) both load and run to
// the same greedy tokens; shapes parse and fail with the bad key named.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readGgufMetadata } from '@loom/tokenizer';
import { loadEngine, quantize } from '@loom/worker';
import { getLlama, type Llama } from 'node-llama-cpp';
import { NAMED_SHAPES, parseShape } from './model-synth-shapes.js';
import { quantizeQ4_0Into, quantizeQ8_0Into } from '@loom/tokenizer';
import { synthModel, type SynthDtype } from './model-synth.js';

const TINY = 'dim=64,hidden=160,layers=2,heads=4,kv_heads=2,vocab=32000,ctx=64';
const PROMPT = [1, 15043, 29892, 590, 1024, 338];
const N = 8;

describe('model synth shapes', () => {
  it('names and dims', () => {
    assert.deepEqual({ ...parseShape('stories15M-gqa') }, { ...NAMED_SHAPES['stories15M-gqa'] });
    const s = parseShape('dim=288,hidden=768,layers=6,heads=6,kv_heads=2,vocab=32000,ctx=256');
    assert.equal(s.kvHeads, 2);
    assert.equal(s.ctx, 256);
    assert.equal(parseShape('dim=64,hidden=128,layers=1,heads=4').kvHeads, 4);
    assert.throws(() => parseShape('stories1T'), /unknown shape 'stories1T'/);
    assert.throws(() => parseShape('dim=64,hiden=128,layers=1,heads=4'), /bad shape part 'hiden=128'/);
    assert.throws(() => parseShape('dim=64,hidden=128,layers=1,heads=3'), /not a multiple of heads/);
  });

  it('q8_0 rounds halves away from zero like ggml (roundf)', () => {
    // amax 127 → d = 1, id = 1: 2.5 → 3 and -2.5 → -3 (Math.round would give -2).
    const x = new Float32Array(32);
    x[0] = 127;
    x[1] = 2.5;
    x[2] = -2.5;
    const out = new Uint8Array(34);
    quantizeQ8_0Into(x, out);
    const q = new Int8Array(out.buffer, 2, 32);
    assert.deepEqual([q[0], q[1], q[2]], [127, 3, -3]);
    assert.equal(out[0]! | (out[1]! << 8), 0x3c00); // f16 1.0
  });

  it("q4_0 bytes equal the engine's port of ggml's quantize_row_q4_0_ref", () => {
    let s = 12345;
    const x = Float32Array.from({ length: 32 * 64 }, (_, i) => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return i % 97 === 0 ? 0 : ((s / 2 ** 32) * 2 - 1) * (1 + (i % 5));
    });
    x.fill(0, 64, 96); // an all-zero block: d = 0
    const ours = new Uint8Array((x.length / 32) * 18);
    quantizeQ4_0Into(x, ours);
    assert.deepEqual(ours, quantize('q4_0', x));
  });
});

describe('model synth files run the same in Loom and llama.cpp', () => {
  let llama: Llama;
  let dir: string;
  before(async () => {
    llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' as never });
    dir = mkdtempSync(path.join(os.tmpdir(), 'loom-synth-'));
  });
  after(async () => {
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const dtype of ['f32', 'f16', 'q8_0', 'q4_0'] as SynthDtype[]) {
    it(`${TINY} ${dtype}: same ${N} greedy ids`, async () => {
      const file = path.join(dir, `tiny-${dtype}.gguf`);
      synthModel({ shape: parseShape(TINY), dtype, out: file, seed: 7 });
      const meta = readGgufMetadata(file);
      assert.equal((meta.metadata.get('tokenizer.ggml.tokens') as string[]).length, 32000);
      assert.equal(meta.metadata.get('llama.attention.head_count_kv'), 2);

      const model = await llama.loadModel({ modelPath: file });
      const ctx = await model.createContext({ contextSize: 64, threads: 1 });
      const expected: number[] = [];
      try {
        for await (const t of ctx.getSequence().evaluate(PROMPT as never, { temperature: 0 })) {
          expected.push(t as number);
          if (expected.length >= N) break;
        }
      } finally {
        await ctx.dispose();
        await model.dispose();
      }

      const engine = loadEngine(file, { threads: 2 });
      try {
        const info = engine.info();
        assert.deepEqual(
          [info.dim, info.hiddenDim, info.nLayers, info.nHeads, info.nKvHeads, info.vocabSize, info.weightType],
          [64, 160, 2, 4, 2, 32000, dtype],
        );
        engine.initKv(4, 16, 64, 1);
        const got: number[] = [];
        let tokens = PROMPT,
          pos = 0;
        while (got.length < N) {
          const r = await engine.step([
            {
              tokens: Int32Array.from(tokens),
              startPos: pos,
              blockTable: Int32Array.from([0, 1, 2, 3]),
              sample: true,
              temperature: 0,
              topP: 1,
              topK: 0,
              minP: 0,
              seed: 0,
              rngCounter: got.length,
              logprobs: -1,
            },
          ]);
          pos += tokens.length;
          got.push(r.tokens[0]!);
          tokens = [r.tokens[0]!];
        }
        assert.deepEqual(got, expected);
      } finally {
        engine.close();
      }
    });
  }
});
