import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { MODEL_ARCHS } from '@loom/gguf';
import { cliMain } from '../harness/index.js';
import { startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';
import { llamaCppArgmax } from '../fixtures/llama-cpp-oracle.js';

const N = 16;
const PROMPT = 'The quick brown fox jumps over the lazy dog. Once upon a time';

/**
 * Every family, served: `loom model synth --arch F --dtype f16` (its tiny default shape and its own vocabulary,
 * half the bytes of f32: gemma's is 262144 tokens) →
 * a worker serving that file → the OpenAI client's greedy completion equals llama.cpp's plain argmax
 * continuation on the same file, text and token counts. One cluster: a worker per family.
 */
describe('every model family served end to end', () => {
  let cluster: LocalCluster;
  let client: OpenAI;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-e2e-families-'));
  const file = (arch: string) => path.join(dir, `${arch}-tiny.gguf`);

  before(async () => {
    for (const arch of MODEL_ARCHS)
      execFileSync(
        process.execPath,
        [cliMain(), 'model', 'synth', '--arch', arch, '--dtype', 'f16', '--quiet', '-o', file(arch)],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
    cluster = await startLocalCluster({ models: MODEL_ARCHS.map(file) });
    client = new OpenAI({ baseURL: cluster.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const arch of MODEL_ARCHS) {
    test(`${arch}: greedy text and token counts equal llama.cpp's`, async () => {
      const res = await client.completions.create({
        model: `${arch}-tiny`,
        prompt: PROMPT,
        max_tokens: N,
        temperature: 0,
      });
      const ref = await llamaCppArgmax(file(arch), PROMPT, N);
      assert.equal(res.usage!.prompt_tokens, ref.promptTokens, 'prompt tokens');
      assert.equal(res.usage!.completion_tokens, ref.ids.length, 'completion tokens');
      assert.equal(res.choices[0]!.text, ref.text);
    });
  }
});
