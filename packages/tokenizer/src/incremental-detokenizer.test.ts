import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { at } from '@loom/common';
import { IncrementalDetokenizer } from './incremental-detokenizer.js';
import type { Tokenizer } from './tokenizer.js';
import { loadTokenizer, vocabTokenizer } from './testing/test-support.js';

/** Pushes ids one at a time; checks every push is whole UTF-8 and the pushes add up to the relative decode. */
function stream(tok: Tokenizer, prompt: number[], output: number[], skipSpecial: boolean): string[] {
  const detok = new IncrementalDetokenizer(tok, prompt, { skipSpecial });
  const pushes = output.map((id) => detok.push([id]));
  pushes.push(detok.flush());
  for (const p of pushes) assert.equal(p.includes('\uFFFD'), false, `push ${JSON.stringify(p)} has a broken character`);
  const full = tok.decode([...prompt, ...output], { skipSpecial });
  const before = tok.decode(prompt, { skipSpecial });
  const expected = prompt.length === 0 ? tok.decode(output, { skipSpecial }) : full.slice(before.length);
  assert.equal(pushes.join(''), expected);
  assert.equal(detok.text, expected);
  return pushes;
}

test('stories260K: output after "Once upon a time" streams as ", there was ..." (leading space kept)', () => {
  const tok = loadTokenizer('stories260K/stories260K-f32.gguf');
  const prompt = tok.encode('Once upon a time');
  const whole = tok.encode('Once upon a time, there was a little girl named Lily.');
  assert.deepEqual(whole.slice(0, prompt.length), prompt);
  const output = whole.slice(prompt.length);
  assert.equal(stream(tok, prompt, output, true).join(''), ', there was a little girl named Lily.');
  const spaced = tok.encode('Once upon a time there was').slice(prompt.length);
  assert.equal(stream(tok, prompt, spaced, true).join(''), ' there was');
});

test('no prompt: the first token loses the SentencePiece prefix space, like decode()', () => {
  const tok = loadTokenizer('stories260K/stories260K-f32.gguf');
  const output = tok.encode('Lily saw a ball.', { addSpecial: false });
  assert.equal(stream(tok, [], output, false).join(''), 'Lily saw a ball.');
});

test('llama-2 vocab: an emoji split over byte-fallback tokens is held back until complete', () => {
  const tok = loadTokenizer('llama-2-tiny-random.gguf');
  const prompt = tok.encode('Say hi');
  const output = tok.encode('🦙 and 🧠 ok', { addSpecial: false });
  const bytes = output.filter((id) => tok.tokenBytes(id).length === 1 && at(tok.tokenBytes(id), 0) >= 0x80);
  assert.ok(bytes.length >= 8, 'the emoji must be byte-fallback tokens for this test to mean anything');
  const pushes = stream(tok, prompt, output, true);
  assert.ok(
    pushes.some((p) => p === ''),
    'some pushes must be held back mid-character',
  );
  assert.ok(pushes.some((p) => p.includes('🦙')));
});

for (const vocab of ['gpt-2', 'llama-bpe', 'qwen2', 'gemma-4']) {
  test(`ggml-vocab-${vocab}: multi-byte characters split across BPE tokens stream whole`, () => {
    const tok = vocabTokenizer(vocab);
    const prompt = tok.encode('Translate:', { addSpecial: false });
    const output = tok.encode(' 🦙🦙 нещо 東京 ½ done', { addSpecial: false });
    const partial = output.filter((id) =>
      new TextDecoder('utf-8', { fatal: false }).decode(tok.tokenBytes(id)).includes('\uFFFD'),
    );
    assert.ok(partial.length > 0, 'expected tokens holding partial characters');
    stream(tok, prompt, output, false);
  });
}

test('special tokens: skipped or kept per option', () => {
  const tok = vocabTokenizer('llama-bpe');
  const prompt = tok.encode('Hi', { addSpecial: true });
  const output = [...tok.encode(' there', { addSpecial: false }), tok.tokenId('<|eot_id|>')!];
  assert.equal(stream(tok, prompt, output, true).join(''), ' there');
  assert.equal(stream(tok, prompt, output, false).join(''), ' there<|eot_id|>');
});
