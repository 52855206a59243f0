/**
 * Differential test against llama.cpp itself (node-llama-cpp, vocab only, CPU) for every vocab file in
 * llama.cpp's models/ (those without vectors included) and the shared Llama-2 vocabulary, split over
 * llama-cpp-oracle-*.test.ts:
 *  - pseudo-random strings mixing ASCII, whitespace runs (incl. U+0085, U+00A0, U+3000, U+FEFF), digits,
 *    contractions, emoji, CJK, Hangul, Thai, Devanagari, combining marks, control characters, a lone
 *    surrogate and special-token texts encode to the same ids, with and without parseSpecial;
 *  - the end-of-generation set is llama.cpp's (isEogToken over the whole vocabulary), and so are the
 *    BOS / EOS / EOT / SEP ids and the add-BOS / add-EOS flags.
 * Test code only.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Llama } from 'node-llama-cpp';
import { cpuLlama, seededRandom } from '@loom/testing';
import { llamaCppVocabNames, loadTokenizer, modelsDir, vocabPath, vocabTokenizer } from './test-support.js';
import type { Tokenizer } from '../tokenizer.js';

const PIECES = [
  'Hello', ' world', 'the', ' The', "'s", "'LL", "n't", ' ', '  ', '   ', '\n', '\n\n', '\t', ' \n ', '\r\n', '1', '42',
  '12345', '1234567', '3.14', '!', '...', ' (x)', '{}', '🦙', '🧠', '👍🏽', '東京', '中文', '한국어', 'нещо', 'Führer',
  'e\u0301', 'É', '½', 'é', '\u00a0', '\u3000', '\u0085', '\ufeff', '\u200b', '\u2028', 'ΑΒΓ', 'ไทย', 'हिन्दी', 'İ', 'ǅ',
  '<s>', '</s>', '<|eot_id|>', '<|begin_of_text|>', '<|endoftext|>', '<|im_end|>', '<start_of_turn>', '<mask>', '[MASK]',
  '[CLS]', '<|assistant|>', '<|end|>', 'ab', 'ing', 'Ġ', '▁', '<0x41>', '  -', '→', '$', '^', '`', '_', '\u0000', '\x7f',
  '\x1c', '㐀', '𠀀', '\ud800',
]; // prettier-ignore

function samples(seed: number, n: number): string[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () =>
    Array.from({ length: 1 + Math.floor(r() * 12) }, () => PIECES[Math.floor(r() * PIECES.length)]).join(''),
  );
}

let llama: Promise<Llama> | undefined;
const oracle = () => (llama ??= cpuLlama());

async function check(file: string, tok: Tokenizer, seed: number) {
  const model = await (await oracle()).loadModel({ modelPath: file, vocabOnly: true });
  try {
    for (const text of samples(seed, 200)) {
      for (const parseSpecial of [false, true]) {
        assert.deepEqual(
          tok.encode(text, { addSpecial: false, parseSpecial }),
          [...model.tokenize(text, parseSpecial)],
          `${JSON.stringify(text)} parseSpecial=${parseSpecial}`,
        );
      }
    }
    const eog: number[] = [];
    for (let id = 0; id < tok.vocabSize; id++) if (model.isEogToken(id as never)) eog.push(id);
    assert.deepEqual(
      [...tok.eosIds].sort((a, b) => a - b),
      eog,
      'end-of-generation ids',
    );
    const { data } = tok;
    assert.deepEqual(
      {
        bos: tok.bosId,
        eos: data.eosTokenId,
        eot: data.eotTokenId,
        sep: data.sepTokenId,
        addBos: data.addBosToken,
        addEos: data.addEosToken,
      },
      {
        bos: model.tokens.bos ?? undefined,
        eos: model.tokens.eos ?? undefined,
        eot: model.tokens.eot ?? undefined,
        sep: model.tokens.sep ?? undefined,
        addBos: model.tokens.shouldPrependBosToken,
        addEos: model.tokens.shouldAppendEosToken,
      },
    );
  } finally {
    await model.dispose();
  }
}

/**
 * Registers share `part` of `parts` of the checks (every vocab file of llama.cpp's models/, then the
 * shared Llama-2 vocabulary), so each test file stays well inside the per-file timeout.
 */
export function oracleTests(part: number, parts: number): void {
  const files = [
    ...llamaCppVocabNames().map((name) => ({ label: `ggml-vocab-${name}.gguf`, file: vocabPath(name), tok: () => vocabTokenizer(name) })), // prettier-ignore
    {
      label: 'llama-2-tiny-random.gguf',
      file: path.join(modelsDir, 'llama-2-tiny-random.gguf'),
      tok: () => loadTokenizer('llama-2-tiny-random.gguf'),
    },
  ];
  // Dealt by size, largest first, so the parts cost about the same.
  const bySize = files.map((f, seed) => ({ ...f, seed, size: fs.statSync(f.file).size }));
  bySize.sort((a, b) => b.size - a.size);
  bySize.forEach(({ label, file, tok, seed }, i) => {
    if (i % parts === part)
      test(`${label}: encode and special ids match llama.cpp`, () => check(file, tok(), 1000 + seed));
  });
  test('dispose the oracle', async () => {
    if (llama) await (await llama).dispose();
  });
}
