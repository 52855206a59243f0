import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { FALLBACK_CHAT_TEMPLATE, renderChat } from './chat-template.js';
import { vocabTokenizer } from './testing/test-support.js';

// Public templates, verbatim from the models' tokenizer_config.json.
const LLAMA2 =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
const QWEN2_CHATML =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const LLAMA3 =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

const convo = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi!' },
  { role: 'assistant', content: 'Hello.' },
  { role: 'user', content: 'Bye' },
];

test('Llama-2 template: system folded into the first [INST], BOS/EOS per turn', () => {
  const out = renderChat(LLAMA2, convo, { addGenerationPrompt: true, bosToken: '<s>', eosToken: '</s>' });
  assert.equal(out, '<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. </s><s>[INST] Bye [/INST]');
});

test('Llama-2 template: a broken alternation names the rejected message', () => {
  const bad = [
    { role: 'user', content: 'a' },
    { role: 'user', content: 'b' },
  ];
  assert.throws(
    () => renderChat(LLAMA2, bad, { addGenerationPrompt: true, bosToken: '<s>', eosToken: '</s>' }),
    (e: Error) => /message 1 \(role 'user'\)/.test(e.message) && /must alternate/.test(e.message),
  );
});

test('ChatML (Qwen2) template: default system prompt and generation prompt', () => {
  const out = renderChat(QWEN2_CHATML, convo.slice(1, 2), {
    addGenerationPrompt: true,
    bosToken: '',
    eosToken: '<|im_end|>',
  });
  assert.equal(
    out,
    '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n',
  );
});

test('Llama-3 template renders, and tokenizes with parseSpecial into header/eot ids after one BOS', () => {
  const tok = vocabTokenizer('llama-bpe');
  const bos = tok.tokenToPiece(tok.bosId!);
  const out = renderChat(LLAMA3, convo.slice(0, 2), {
    addGenerationPrompt: true,
    bosToken: bos,
    eosToken: '<|eot_id|>',
  });
  assert.equal(
    out,
    `${bos}<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
  );
  const ids = tok.encode(out, { addSpecial: false, parseSpecial: true });
  assert.equal(ids[0], tok.bosId);
  assert.equal(ids.filter((id) => id === tok.bosId).length, 1);
  assert.equal(ids.filter((id) => id === tok.tokenId('<|eot_id|>')).length, 2);
  assert.equal(ids.at(-1), tok.encode('\n\n', { addSpecial: false })[0]);
});

test('no template: the documented plain fallback', () => {
  const opts = { bosToken: '<s>', eosToken: '</s>' };
  assert.equal(
    renderChat(undefined, convo.slice(1), { ...opts, addGenerationPrompt: true }),
    'user: Hi!\nassistant: Hello.\nuser: Bye\nassistant:',
  );
  assert.equal(renderChat(undefined, convo.slice(1, 2), { ...opts, addGenerationPrompt: false }), 'user: Hi!\n');
  assert.equal(
    renderChat(FALLBACK_CHAT_TEMPLATE, convo.slice(1, 2), { ...opts, addGenerationPrompt: false }),
    'user: Hi!\n',
  );
});

test('a template that does not parse says so', () => {
  assert.throws(
    () => renderChat('{% for %}', convo, { addGenerationPrompt: true, bosToken: '', eosToken: '' }),
    /chat template does not parse/,
  );
});
