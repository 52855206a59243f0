import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadTokenizer, readVectors, vocabTokenizer } from './testing/test-support.js';

test('stories260K: "Once upon a time" encodes as llama.cpp does, with BOS', () => {
  const tok = loadTokenizer('stories260K/stories260K-f32.gguf');
  assert.deepEqual(tok.encode('Once upon a time', { addSpecial: false }), [403, 407, 261, 378]);
  assert.deepEqual(tok.encode('Once upon a time'), [1, 403, 407, 261, 378]);
  assert.equal(tok.bosId, 1);
  assert.deepEqual(tok.eosIds, [2]);
  assert.equal(tok.decode([1, 403, 407, 261, 378], { skipSpecial: true }), 'Once upon a time');
  assert.equal(tok.decode([1, 403, 407, 261, 378]), '<s> Once upon a time');
  assert.equal(tok.isSpecial(1), true);
  assert.equal(tok.isSpecial(403), false);
});

test('llama-2 vocab: parseSpecial turns "<s>"/"</s>" into ids and restarts the space prefix after them', () => {
  const tok = loadTokenizer('llama-2-tiny-random.gguf');
  const parsed = tok.encode('<s>Hi</s>', { addSpecial: false, parseSpecial: true });
  assert.equal(parsed[0], 1);
  assert.equal(parsed.at(-1), 2);
  assert.deepEqual(parsed.slice(1, -1), tok.encode('Hi', { addSpecial: false }));
  const literal = tok.encode('<s>Hi</s>', { addSpecial: false });
  assert.equal(literal.includes(1) || literal.includes(2), false);
  assert.equal(tok.decode(literal), '<s>Hi</s>');
});

test('llama-3 vocab: parseSpecial matches header tokens; eosIds holds <|end_of_text|> and <|eot_id|>', () => {
  const tok = vocabTokenizer('llama-bpe');
  const text = '<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>';
  const ids = tok.encode(text, { addSpecial: false, parseSpecial: true });
  const header = tok.tokenId('<|start_header_id|>')!;
  const eot = tok.tokenId('<|eot_id|>')!;
  assert.equal(ids[0], header);
  assert.equal(ids.at(-1), eot);
  assert.deepEqual(tok.eosIds, [tok.tokenId('<|end_of_text|>'), eot]);
  assert.equal(tok.decode(ids), text);
  assert.equal(tok.decode(ids, { skipSpecial: true }), 'user\n\nHello');
  assert.equal(tok.encode(text, { addSpecial: false }).includes(header), false);
});

test('a long prompt (~30k tokens) encodes consistently and round-trips', () => {
  const vectors = readVectors('llama-spm')!
    .map((v) => v.text)
    .join('\n');
  const long = vectors.repeat(80);
  for (const vocab of ['llama-spm', 'llama-bpe']) {
    const tok = vocabTokenizer(vocab);
    const one = tok.encode(vectors, { addSpecial: false });
    const many = tok.encode(long, { addSpecial: false });
    assert.ok(many.length > 20_000, `only ${many.length} tokens`);
    assert.ok(many.length <= one.length * 80 + 80);
    assert.equal(tok.decode(many), long);
  }
});
