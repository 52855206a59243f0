import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { preTokenizerRegexes } from './bpe-pre-tokenizer.js';
import { readGgufMetadata } from '@loom/gguf';
import { tokenizerDataFromGguf } from './tokenizer-data.js';
import { Tokenizer } from './tokenizer.js';
import { chatTemplateFromHf, tokenizerDataFromHf } from './tokenizer-json.js';
import { hfTokenizerFromData } from './tokenizer-json-export.js';
import { readVectors, vocabPath } from './testing/test-support.js';

/** GGUF vocab -> tokenizer.json text -> TokenizerData, as a model directory would hand it over. */
function roundTrip(vocab: string) {
  const fromGguf = tokenizerDataFromGguf(readGgufMetadata(vocabPath(vocab)));
  const files = hfTokenizerFromData(fromGguf, '{{ messages }}');
  const json = JSON.parse(JSON.stringify(files.tokenizerJson)) as unknown;
  const config = JSON.parse(JSON.stringify(files.tokenizerConfig)) as unknown;
  return { fromGguf, fromHf: tokenizerDataFromHf(json, config), config };
}

for (const vocab of [
  'llama-spm',
  'llama-bpe',
  'gpt-2',
  'qwen2',
  'deepseek-coder',
  'starcoder',
  'falcon',
  'command-r',
]) {
  test(`ggml-vocab-${vocab} as tokenizer.json: every llama.cpp vector encodes to the same ids and decodes back`, () => {
    const { fromGguf, fromHf } = roundTrip(vocab);
    assert.equal(fromHf.model, fromGguf.model);
    // Names that share one regex list (llama3 / llama-bpe) are the same pre-tokenizer.
    assert.deepEqual(preTokenizerRegexes(fromHf.pre ?? 'default'), preTokenizerRegexes(fromGguf.pre ?? 'default'));
    assert.deepEqual(fromHf.tokens, fromGguf.tokens);
    assert.deepEqual(fromHf.tokenTypes, fromGguf.tokenTypes);
    for (const k of [
      'bosTokenId',
      'eosTokenId',
      'eotTokenId',
      'unknownTokenId',
      'addBosToken',
      'addEosToken',
    ] as const) {
      assert.equal(fromHf[k], fromGguf[k], k);
    }
    assert.equal(fromHf.addSpacePrefix ?? false, fromGguf.addSpacePrefix ?? false);
    assert.deepEqual(fromHf.eogTokenIds, fromGguf.eogTokenIds, 'end-of-generation ids');
    const tok = Tokenizer.fromData(fromHf);
    const vectors = readVectors(vocab)!;
    assert.equal(vectors.length, 46);
    for (const { text, ids } of vectors) {
      assert.deepEqual(tok.encode(text, { addSpecial: false }), ids, `input ${JSON.stringify(text)}`);
      assert.equal(tok.decode(ids, { skipSpecial: true }), text);
    }
  });
}

test('tokenizer.json: HF spellings the exporter does not write (array merges, Metaspace, chat template lists)', () => {
  const { fromHf } = roundTrip('llama-spm');
  const files = hfTokenizerFromData(fromHf);
  const model = files.tokenizerJson['model'] as { merges: string[] };
  const json = {
    ...files.tokenizerJson,
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false },
    model: { ...model, merges: model.merges.map((m) => m.split(' ')) },
  };
  const data = tokenizerDataFromHf(json, { add_bos_token: true, bos_token: { content: '<s>' }, eos_token: '</s>' });
  assert.equal(data.addSpacePrefix, true);
  assert.deepEqual(data.scores, fromHf.scores);
  assert.deepEqual(Tokenizer.fromData(data).encode('Hello world'), Tokenizer.fromData(fromHf).encode('Hello world'));
  assert.equal(
    chatTemplateFromHf({
      chat_template: [
        { name: 'tool_use', template: 'T' },
        { name: 'default', template: 'D' },
      ],
    }),
    'D',
  );
  assert.equal(chatTemplateFromHf({ chat_template: [{ name: 'tool_use', template: 'T' }] }, 'tool_use'), 'T');
  assert.equal(chatTemplateFromHf({ chat_template: 'D' }, 'tool_use'), undefined);
  assert.equal(chatTemplateFromHf({}), undefined);
});

test('tokenizer.json: unsupported models and pre-tokenizers are named', () => {
  assert.throws(
    () => tokenizerDataFromHf({ model: { type: 'Unigram', vocab: [] } }, {}, 'x/tokenizer.json'),
    /x\/tokenizer\.json: tokenizer model type 'Unigram'/,
  );
  const bpe = {
    model: { type: 'BPE', vocab: { a: 0 }, merges: [] },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: '\\d+' } },
        { type: 'ByteLevel', use_regex: false },
      ],
    },
  };
  assert.throws(() => tokenizerDataFromHf(bpe), /unsupported BPE pre-tokenizer regexes \["\\\\d\+"\]/);
  assert.throws(() => tokenizerDataFromHf({}), /not a tokenizer\.json/);
});
