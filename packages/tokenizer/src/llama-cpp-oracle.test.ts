/**
 * Differential test against llama.cpp itself (through node-llama-cpp, vocab only, CPU): pseudo-random
 * strings mixing ASCII, whitespace runs, digits, contractions, emoji, CJK, Cyrillic and special-token
 * texts must encode to the same ids, with and without parseSpecial.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { getLlama } from 'node-llama-cpp';
import { loadTokenizer, modelsDir } from './test-support.js';
import { seededRandom } from '@loom/testing';

const PIECES = [
  'Hello',
  ' world',
  'the',
  ' The',
  "'s",
  "'LL",
  "n't",
  ' ',
  '  ',
  '   ',
  '\n',
  '\n\n',
  '\t',
  ' \n ',
  '1',
  '42',
  '12345',
  '3.14',
  '!',
  '...',
  ' (x)',
  '{}',
  '🦙',
  '🧠',
  '👍🏽',
  '東京',
  '中文',
  'нещо',
  'Führer',
  '½',
  'é',
  '\u00a0',
  '\u3000',
  '<s>',
  '</s>',
  '<|eot_id|>',
  '<|begin_of_text|>',
  '<|endoftext|>',
  'ab',
  'ing',
  'Ġ',
  '▁',
  '<0x41>',
  '  -',
  '→',
];

const rng = seededRandom;

function samples(seed: number, n: number): string[] {
  const r = rng(seed);
  return Array.from({ length: n }, () =>
    Array.from({ length: 1 + Math.floor(r() * 12) }, () => PIECES[Math.floor(r() * PIECES.length)]).join(''),
  );
}

const FILES = [
  'llama-2-tiny-random.gguf',
  'tokenizer-vectors/ggml-vocab-gpt-2.gguf',
  'tokenizer-vectors/ggml-vocab-llama-bpe.rebuilt.gguf',
  'tokenizer-vectors/ggml-vocab-deepseek-coder.gguf',
];

test('encode matches llama.cpp on pseudo-random strings', async (t) => {
  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' as never });
  for (const [i, file] of FILES.entries()) {
    await t.test(file, async () => {
      const model = await llama.loadModel({ modelPath: path.join(modelsDir, file), vocabOnly: true });
      const tok = loadTokenizer(file);
      try {
        for (const text of samples(1000 + i, 300)) {
          for (const parseSpecial of [false, true]) {
            const expected = [...model.tokenize(text, parseSpecial)];
            assert.deepEqual(
              tok.encode(text, { addSpecial: false, parseSpecial }),
              expected,
              `${JSON.stringify(text)} parseSpecial=${parseSpecial}`,
            );
          }
        }
      } finally {
        await model.dispose();
      }
    });
  }
  await llama.dispose();
});
