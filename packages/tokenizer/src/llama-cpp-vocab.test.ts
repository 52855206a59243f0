/**
 * Every vocab file in llama.cpp's models/ against llama.cpp's own vectors (tests/test-tokenizer-0: no
 * BOS, special tokens not parsed). A file with vectors must pass all of them; the files llama.cpp ships
 * without vectors are named with the reason. llama-cpp-oracle-*.test.ts check every file, those
 * included, against llama.cpp itself.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { llamaCppVocabNames, readVectors, vocabTokenizer } from './testing/test-support.js';

/** Vocab files llama.cpp ships without .inp/.out (its test-tokenizer-1 runs on them are disabled). */
const NO_VECTORS: Record<string, string> = {
  aquila: 'llama.cpp has no vectors for it (BPE, no pre-tokenizer name: llama.cpp\'s "default")',
  baichuan: 'llama.cpp has no vectors for it (SentencePiece)',
  'gpt-neox': 'llama.cpp has no vectors for it (BPE, no pre-tokenizer name: "default")',
  'nomic-bert-moe': 'llama.cpp has no vectors for it (Unigram with a precompiled charsmap)',
};

/** Vocabularies whose decode(encode(text)) is not the text, by design of the tokenizer. */
const LOSSY: Record<string, string> = {
  'bert-bge': 'WordPiece lowercases, strips accents and drops whitespace',
};

const names = llamaCppVocabNames();

test('llama.cpp models/ has the vocab files this test knows about', () => {
  assert.ok(names.length >= 19, `only ${names.length} vocab files`);
  for (const name of Object.keys(NO_VECTORS))
    assert.ok(names.includes(name), `${name} is gone from llama.cpp's models/`);
  for (const name of names) {
    const vectors = readVectors(name);
    if (vectors === undefined) assert.ok(NO_VECTORS[name], `${name} has no vectors and is not listed in NO_VECTORS`);
    else assert.equal(NO_VECTORS[name], undefined, `${name} now has vectors: remove it from NO_VECTORS`);
  }
});

for (const name of names.filter((n) => !NO_VECTORS[n])) {
  test(`ggml-vocab-${name}.gguf: every llama.cpp vector encodes to the same ids`, () => {
    const tok = vocabTokenizer(name);
    const vectors = readVectors(name)!;
    assert.ok(vectors.length >= 45, `${vectors.length} vectors`);
    for (const { text, ids } of vectors) {
      assert.deepEqual(tok.encode(text, { addSpecial: false }), ids, `input ${JSON.stringify(text)}`);
    }
  });

  test(`ggml-vocab-${name}.gguf: decode(encode(text)) ${LOSSY[name] ? 'is lossy by design' : 'gives the text back'}`, () => {
    const tok = vocabTokenizer(name);
    const vectors = readVectors(name)!;
    const changed = vectors.filter(({ text }) => tok.decode(tok.encode(text), { skipSpecial: true }) !== text);
    if (LOSSY[name]) assert.ok(changed.length > 0, `${name} round-trips every vector: remove it from LOSSY`);
    else
      assert.deepEqual(
        changed.map((v) => v.text),
        [],
      );
  });
}
