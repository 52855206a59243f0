import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { cliMain, sharedDir } from '../harness/index.js';
import { startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';
import { llamaCppArgmax } from '../fixtures/llama-cpp-oracle.js';

const N = 16;
const PROMPTS = ['The quick brown fox jumps over the lazy dog. Once upon a time', 'Paris is the capital of'];
/** The weight types added after q8_0/q4_0/q4_K/q6_K: each must serve what llama.cpp generates. */
const NEW_TYPES = ['q4_1', 'q5_0', 'q5_1', 'q2_K', 'q3_K', 'q5_K', 'iq4_nl', 'iq4_xs', 'mxfp4'] as const;

/**
 * A qwen3 file in each new weight type, served: `loom model synth --arch qwen3 --dtype T` → a worker per
 * file → the OpenAI client's greedy completion equals llama.cpp's plain argmax continuation on the same
 * file. The vocabulary is stories260K's 512 tokens rather than Qwen's 151936 so that nine files take
 * seconds to write on a busy machine, not minutes; every matrix (embeddings included) is of type T.
 * Both sides keep K/V in f32 (--kv-cache-dtype f32; llama.cpp without flash attention): with f16 K/V the
 * two round attention differently, which the int8 re-quantisation of activations amplifies enough to flip
 * a random model's near-tied greedy picks (engine-quant-oracle.test measures this). Per-type agreement with
 * the float64 reference is that test's job; this one proves each type loads and runs through gateway,
 * scheduler, gRPC and the worker.
 */
describe('a qwen3 file in every new weight type, served end to end', () => {
  let cluster: LocalCluster;
  let client: OpenAI;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-e2e-quants-'));
  const file = (type: string) => path.join(dir, `qwen3-${type}.gguf`);
  const vocab = path.join(sharedDir(), 'models', 'stories260K', 'stories260K-f32.gguf');

  before(async () => {
    for (const type of NEW_TYPES) {
      const args = ['model', 'synth', '--arch', 'qwen3', '--dtype', type, '--vocab-from', vocab, '--quiet'];
      execFileSync(process.execPath, [cliMain(), ...args, '-o', file(type)], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
    cluster = await startLocalCluster({ models: NEW_TYPES.map(file), env: { LOOM_KV_CACHE_DTYPE: 'f32' } });
    client = new OpenAI({ baseURL: cluster.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const type of NEW_TYPES) {
    test(`${type}: greedy text and token counts equal llama.cpp's on ${PROMPTS.length} prompts`, async () => {
      for (const prompt of PROMPTS) {
        const res = await client.completions.create({
          model: `qwen3-${type}`,
          prompt,
          max_tokens: N,
          temperature: 0,
        });
        const ref = await llamaCppArgmax(file(type), prompt, N, { kvCacheDtype: 'f32' });
        assert.equal(res.usage?.prompt_tokens, ref.promptTokens, `${prompt}: prompt tokens`);
        assert.equal(res.usage?.completion_tokens, ref.ids.length, `${prompt}: completion tokens`);
        assert.equal(res.choices[0]?.text, ref.text, `${prompt}: text`);
      }
    });
  }
});
