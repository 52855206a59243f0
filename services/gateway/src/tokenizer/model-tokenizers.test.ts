import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelCardFromGguf } from '../testing/model-card.js';
import { STORIES_GGUF } from '../testing/spec-path.js';
import { ModelTokenizers } from './model-tokenizers.js';
import { at } from '@loom/common';

const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');
const bos = card.tokenizer.bosTokenId!;
const toks = new ModelTokenizers();
const messages = [{ role: 'user', content: 'Hello' }];

test('completion prompts get BOS per the model (stories260K: add_bos)', () => {
  const ids = toks.encodePrompt(card, 'Once upon a time');
  assert.equal(ids[0], bos);
  assert.notEqual(ids[1], bos);
});

test('chat: a template that writes the BOS text gets exactly one BOS', () => {
  const withBos = {
    ...card,
    chatTemplate: "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:",
  };
  const { text, ids } = toks.encodeChat(withBos, messages);
  assert.ok(text.startsWith(at(card.tokenizer.tokens, bos)));
  assert.equal(ids[0], bos);
  assert.notEqual(ids[1], bos, 'no second BOS');
});

test('chat: a template without BOS text gets BOS from add_bos (fallback template too)', () => {
  for (const c of [card, { ...card, chatTemplate: "{% for m in messages %}{{ m['content'] }}{% endfor %}" }]) {
    const { text, ids } = toks.encodeChat(c, messages);
    assert.ok(!text.startsWith(at(card.tokenizer.tokens, bos)));
    assert.equal(ids[0], bos);
    assert.equal(ids.filter((id) => id === bos).length, 1);
  }
  const noAddBos = { ...card, createdAt: card.createdAt + 1, tokenizer: { ...card.tokenizer, addBosToken: false } };
  assert.notEqual(toks.encodeChat(noAddBos, messages).ids[0], bos);
});

test('textOffsets: where each prompt token starts in the decoded (echoed) text; BOS and the stripped leading space take none', () => {
  const text = 'Once upon a time, there was';
  const ids = toks.encodePrompt(card, text);
  const o = toks.logprobsOptions(card, 1);
  const offsets = o.textOffsets(ids);
  assert.equal(toks.decode(card, ids), text);
  assert.deepEqual(offsets.slice(0, 2), [0, 0]);
  for (let i = 2; i < ids.length; i++)
    assert.equal(text.slice(at(offsets, i), offsets[i + 1] ?? text.length), o.tokenText(at(ids, i)), `token ${i}`);
});
