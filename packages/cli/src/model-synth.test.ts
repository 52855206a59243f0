// `loom model synth` writes GGUFs that Loom's engine and llama.cpp (node-llama-cpp) both load and run to
// the same greedy tokens, in every --dtype: f32, f16, each GGML block type and each llama-quantize file
// type (whose per-tensor types are checked in the file); shapes parse and fail with the bad key named.
// (The quantised bytes themselves are checked against ggml's in the worker's ggml-quant-bytes test.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GGML_QUANT_TYPES, LLAMA_FILE_TYPES, quantizeQ8_0Into, readGgufMetadata, writeGguf } from '@loom/gguf';
import { loadEngine, weightTypeLayout } from '@loom/worker';
import type { Llama } from 'node-llama-cpp';
import { cpuLlama } from '@loom/testing';
import { NAMED_SHAPES, parseShape } from './model-synth-shapes.js';
import { REPO_ROOT } from './repo-paths.js';
import { synthModel, synthTensorTypes, type SynthDtype } from './model-synth.js';
import { at } from '@loom/common';

// The Llama-2 vocabulary (32000 tokens) on a 64-wide model; and a 256-wide one (whole 256-value
// super-blocks for the K-quants and iq4_xs) with stories260K's 512-token vocabulary, which keeps the
// embedding small enough to quantise quickly.
const TINY = 'dim=64,hidden=160,layers=2,heads=4,kv_heads=2,vocab=32000,ctx=64';
const TINY_256 = 'dim=256,hidden=256,layers=2,heads=4,kv_heads=2,vocab=512,ctx=64';
const STORIES_VOCAB = path.join(REPO_ROOT, '..', 'shared', 'models', 'stories260K', 'stories260K-f32.gguf');
const PROMPT = [1, 15043, 29892, 590, 1024, 338];
const PROMPT_512 = [1, 403, 407, 261, 378];
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
    assert.equal(at(out, 0) | (at(out, 1) << 8), 0x3c00); // f16 1.0
  });

  it('a pure block type refuses widths it cannot take, naming the tensor; a file type falls back', () => {
    const stories15M = parseShape('stories15M'); // 288 wide: not whole 256-value super-blocks
    assert.throws(
      () => synthTensorTypes(stories15M, 'q4_K', 32000),
      /token_embd\.weight: 288 columns .* cannot be q4_K/,
    );
    const mix = synthTensorTypes(stories15M, 'Q4_K_M', 32000);
    assert.equal(mix.get('blk.0.attn_q.weight'), 'q5_0'); // llama-quantize's fallback for q4_K
    assert.equal(mix.get('output.weight'), 'q8_0');
    assert.equal(mix.get('blk.0.attn_norm.weight'), 'f32');
    const k256 = synthTensorTypes(parseShape('stories42M-k256'), 'q4_K', 32000);
    assert.ok([...k256.values()].every((t) => t === 'q4_K' || t === 'f32'));
  });
});

describe('model synth refuses a --vocab-from without a vocabulary', () => {
  it('naming the option, the file and what to pass instead', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-synth-vocab-'));
    try {
      const empty = path.join(dir, 'no-vocab.gguf');
      writeGguf(empty, { metadata: {}, tensors: [] });
      assert.throws(
        () => synthModel({ shape: parseShape(TINY), dtype: 'f32', out: path.join(dir, 'x.gguf'), vocabFrom: empty }),
        {
          message:
            `--vocab-from ${empty}: no vocabulary in it (tokenizer.ggml.tokens); pass a GGUF that has one, ` +
            "e.g. one of llama.cpp's models/ggml-vocab-*.gguf",
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('model synth files run the same in Loom and llama.cpp', () => {
  let llama: Llama;
  let dir: string;
  before(async () => {
    llama = await cpuLlama();
    dir = mkdtempSync(path.join(os.tmpdir(), 'loom-synth-'));
  });
  after(async () => {
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Greedy ids of `prompt` from llama.cpp and from Loom on `file`. kvF32: both keep K/V in f32 (llama.cpp
   * without flash attention), so the two agree to float summation order (random weights tie often).
   */
  async function bothGreedy(file: string, prompt: number[], kvF32: boolean): Promise<[number[], number[]]> {
    const model = await llama.loadModel({ modelPath: file });
    const ctx = await model.createContext({
      contextSize: 64,
      threads: 1,
      ...(kvF32 && { flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' }),
    });
    const expected: number[] = [];
    try {
      for await (const t of ctx.getSequence().evaluate(prompt as never, { temperature: 0 })) {
        expected.push(t as number);
        if (expected.length >= N) break;
      }
    } finally {
      await ctx.dispose();
      await model.dispose();
    }
    const engine = loadEngine(file, { threads: 2, ...(kvF32 && { kvType: 'f32' as const }) });
    try {
      engine.initKv(4, 16, 64, 1);
      const got: number[] = [];
      let tokens = prompt,
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
          },
        ]);
        pos += tokens.length;
        got.push(at(r.tokens, 0));
        tokens = [at(r.tokens, 0)];
      }
      return [got, expected];
    } finally {
      engine.close();
    }
  }

  for (const dtype of ['f32', 'f16', 'q8_0', 'q4_0'] as SynthDtype[]) {
    it(`${TINY} ${dtype}: same ${N} greedy ids`, async () => {
      const file = path.join(dir, `tiny-${dtype}.gguf`);
      synthModel({ shape: parseShape(TINY), dtype, out: file, seed: 7 });
      const meta = readGgufMetadata(file);
      assert.equal((meta.metadata.get('tokenizer.ggml.tokens') as string[]).length, 32000);
      assert.equal(meta.metadata.get('llama.attention.head_count_kv'), 2);
      const engine = loadEngine(file, { threads: 1 });
      const info = engine.info();
      engine.close();
      assert.deepEqual(
        [info.dim, info.hiddenDim, info.nLayers, info.nHeads, info.nKvHeads, info.vocabSize, info.weightType],
        [64, 160, 2, 4, 2, 32000, dtype],
      );
      const [got, expected] = await bothGreedy(file, PROMPT, false);
      assert.deepEqual(got, expected);
    });
  }

  for (const dtype of [...GGML_QUANT_TYPES.filter((t) => t !== 'q8_0' && t !== 'q4_0'), ...LLAMA_FILE_TYPES]) {
    it(`${TINY_256} ${dtype}: the tensor types asked for, same ${N} greedy ids`, async () => {
      const file = path.join(dir, `tiny256-${dtype}.gguf`);
      const shape = parseShape(TINY_256);
      synthModel({ shape, dtype, out: file, seed: 7, vocabFrom: STORIES_VOCAB });
      const want = synthTensorTypes(shape, dtype, 512);
      for (const t of readGgufMetadata(file).tensors)
        assert.equal(t.type, weightTypeLayout(want.get(t.name)!).id, `${t.name} is ${want.get(t.name)}`);
      const [got, expected] = await bothGreedy(file, PROMPT_512, true);
      assert.deepEqual(got, expected);
    });
  }
});
