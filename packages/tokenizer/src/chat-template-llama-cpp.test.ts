/**
 * Chat templates against llama.cpp's material:
 *  - every template of llama.cpp's models/templates (copied in fixtures/chat-templates) renders a
 *    multi-turn chat with a system message, each message's text in the prompt; the templates that cannot
 *    are named with the reason, and their error is asserted to be that reason;
 *  - every case of llama.cpp's tests/test-chat-template.cpp renders exactly llama.cpp's expected text
 *    (its Jinja expectation), with llama.cpp's one rewrite applied first: a template that does not use a
 *    system message gets it merged into the first user message (common/chat.cpp
 *    system_message_not_supported; Loom itself leaves the conversation as the client sent it);
 *  - the templates inside llama.cpp's vocab files render, and encode (parseSpecial) with their role
 *    markers as single special tokens.
 * Tool-using renders are chat-tool-messages.test.ts's.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { at } from '@loom/common';
import { renderChat, type ChatMessage, type RenderChatOptions } from './chat-template.js';
import { pyFormat } from './jinja-compat.js';
import { readGgufMetadata } from '@loom/gguf';
import { llamaCppChatCases } from './testing/llama-cpp-chat-cases.js';
import { chatTemplateFromGguf } from './tokenizer-data.js';
import { vocabPath, vocabTokenizer } from './testing/test-support.js';
import { TokenType } from './token-type.js';

const TEMPLATES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'chat-templates');
const CHAT: ChatMessage[] = [
  { role: 'system', content: 'You are a terse assistant.' },
  { role: 'user', content: 'What is the capital of France?' },
  { role: 'assistant', content: 'Paris.' },
  { role: 'user', content: 'And of Italy?' },
];
const OPTS: RenderChatOptions = { addGenerationPrompt: true, bosToken: '<s>', eosToken: '</s>' };

/**
 * Templates that do not render this chat as given, and why. Each is by design of the template or a gap
 * of @huggingface/jinja, never of Loom's context: Python's Jinja fails the first two kinds the same way.
 */
const CANNOT: Record<string, { why: string; error: RegExp }> = {
  'google-gemma-2-2b-it': {
    why: "rejects a system turn by design (its own raise_exception('System role not supported'))",
    error: /rejected message 0 \(role 'system'\): System role not supported$/,
  },
  'CohereForAI-c4ai-command-r-plus-tool_use': {
    why: 'the tool_use variant, used only when a request has tools: it iterates `tools` (None without them)',
    error: /Expected iterable or object type in for loop: got NullValue/,
  },
  'NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use': {
    why: 'the tool_use variant: iterates `tools`',
    error: /Expected iterable or object type in for loop: got NullValue/,
  },
  'NousResearch-Hermes-3-Llama-3.1-8B-tool_use': {
    why: 'the tool_use variant: iterates `tools`',
    error: /Expected iterable or object type in for loop: got NullValue/,
  },
  'meetkai-functionary-medium-v3.1': {
    why: 'filters `tools` unconditionally (tools | selectattr): made for requests with tools',
    error: /Cannot apply filter "selectattr" to type: NullValue/,
  },
  'fireworks-ai-llama-3-firefunction-v2': {
    why: 'needs the caller variables `functions` and `datetime` (llama.cpp passes them; rendered with them below)',
    error: /Cannot perform operation \+ on undefined values/,
  },
  'ByteDance-Seed-OSS': {
    why: '@huggingface/jinja 0.5 gap: a dict literal with integer keys ({0: 0, 512: 128, ...})',
    error: /Object keys must be strings: got IntegerValue/,
  },
};

const names = fs
  .readdirSync(TEMPLATES)
  .filter((f) => f.endsWith('.jinja'))
  .map((f) => f.slice(0, -'.jinja'.length));

test("every template of llama.cpp's models/templates renders a multi-turn chat with a system message", () => {
  assert.ok(names.length >= 70, `only ${names.length} templates`);
  for (const name of Object.keys(CANNOT)) assert.ok(names.includes(name), `${name} is not a fixture any more`);
  let rendered = 0;
  for (const name of names) {
    const src = fs.readFileSync(path.join(TEMPLATES, `${name}.jinja`), 'utf8');
    const known = CANNOT[name];
    if (known) {
      assert.throws(() => renderChat(src, CHAT, OPTS), known.error, `${name} renders now: drop it from CANNOT`);
      continue;
    }
    const out = renderChat(src, CHAT, OPTS);
    for (const m of CHAT) assert.ok(out.includes(m.content), `${name}: ${m.role} message missing from ${JSON.stringify(out)}`); // prettier-ignore
    assert.ok(out.indexOf(at(CHAT, 1).content) < out.indexOf(at(CHAT, 3).content), `${name}: turns out of order`);
    rendered++;
  }
  assert.equal(rendered, names.length - Object.keys(CANNOT).length);
});

test("gemma-2's rejection of the system turn is the template's own raise_exception", () => {
  const src = fs.readFileSync(path.join(TEMPLATES, 'google-gemma-2-2b-it.jinja'), 'utf8');
  assert.ok(src.includes("raise_exception('System role not supported')"));
  // Without the system turn it renders.
  const out = renderChat(src, CHAT.slice(1), OPTS);
  assert.ok(out.startsWith('<s><start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n'), out);
});

test('firefunction-v2 renders with the variables llama.cpp gives it', () => {
  const src = fs.readFileSync(path.join(TEMPLATES, 'fireworks-ai-llama-3-firefunction-v2.jinja'), 'utf8');
  const out = renderChat(src, CHAT, { ...OPTS, variables: { functions: '', datetime: 'Jan 01 2026 00:00:00 GMT' } });
  for (const m of CHAT) assert.ok(out.includes(m.content), out);
  assert.ok(out.includes('Today is Jan 01 2026 00:00:00 GMT.'), out);
});

test("Python's str.format, which Tencent Hy3 builds its tokens with", () => {
  const src = fs.readFileSync(path.join(TEMPLATES, 'tencent-Hy3.jinja'), 'utf8');
  const out = renderChat(src, CHAT, OPTS);
  assert.ok(out.startsWith('<｜hy_begin_of_sentence:opensource｜>You are a terse assistant.'), out);
  assert.equal(renderChat("{{ '{}-{}-{0}{{x}}'.format('a', 1) }}", [], OPTS), 'a-1-a{x}');
  assert.throws(() => pyFormat('{} {}', []), /replacement index 0 out of range/);
});

/** llama.cpp's caps probe: does the template use a system message's text at all? */
function supportsSystem(template: string, opts: RenderChatOptions): boolean {
  const probe = [
    { role: 'system', content: 'System message' },
    { role: 'user', content: 'User message' },
  ];
  try {
    return renderChat(template, probe, opts).includes('System message');
  } catch {
    return false;
  }
}

test("every case of llama.cpp's test-chat-template.cpp renders llama.cpp's expected text", () => {
  const cases = llamaCppChatCases();
  assert.ok(cases.length >= 35, `only ${cases.length} cases`);
  for (const c of cases) {
    const opts: RenderChatOptions = { addGenerationPrompt: true, bosToken: c.bosToken, eosToken: c.eosToken };
    let expected = c.expected;
    if (!c.supportedWithJinja) {
      // llama.cpp skips it under Jinja: it needs additional_special_tokens, which Hugging Face passes (the
      // tokenizer's special tokens map) and Loom can as a template variable; then it renders the output
      // of llama.cpp's built-in formatter for it.
      assert.match(c.name, /GigaChat/);
      opts.bosToken = '<s>';
      opts.variables = { additional_special_tokens: ['<|role_sep|>', '<|message_sep|>', '[', ']'] };
      expected = c.expectedLegacy;
    }
    let messages = c.messages;
    if (!supportsSystem(c.template, opts)) {
      const [system, first, ...rest] = messages;
      messages = [{ ...first!, content: `${system!.content}\n${first!.content}` }, ...rest];
    }
    assert.equal(renderChat(c.template, messages, opts), expected, c.name);
  }
});

test("the templates in llama.cpp's vocab files render and tokenize with single-token role markers", () => {
  // Each file's template with the role markers that must parse to one control / user-defined id each.
  const markers: Record<string, string[]> = {
    'command-r': ['<|START_OF_TURN_TOKEN|>', '<|SYSTEM_TOKEN|>', '<|USER_TOKEN|>', '<|CHATBOT_TOKEN|>', '<|END_OF_TURN_TOKEN|>'], // prettier-ignore
    'gemma-4': ['<|turn>', '<turn|>'],
    'phi-3': ['<|user|>', '<|assistant|>', '<|end|>'],
    qwen2: ['<|im_start|>', '<|im_end|>'],
    qwen35: ['<|im_start|>', '<|im_end|>'],
  };
  for (const [name, texts] of Object.entries(markers)) {
    const template = chatTemplateFromGguf(readGgufMetadata(vocabPath(name)));
    assert.ok(template, `${name}: no tokenizer.chat_template`);
    const tok = vocabTokenizer(name);
    const bosToken = tok.bosId === undefined ? '' : tok.tokenToPiece(tok.bosId);
    const eosToken = tok.data.eosTokenId === undefined ? '' : tok.tokenToPiece(tok.data.eosTokenId);
    const text = renderChat(template, CHAT, { addGenerationPrompt: true, bosToken, eosToken });
    for (const m of CHAT.slice(1)) assert.ok(text.includes(m.content), `${name}: ${m.role} missing`);
    const ids = tok.encode(text, { addSpecial: false, parseSpecial: true });
    for (const marker of texts) {
      const id = tok.tokenId(marker);
      const type = id === undefined ? undefined : tok.data.tokenTypes?.[id];
      assert.ok(type === TokenType.CONTROL || type === TokenType.USER_DEFINED, `${name}: ${marker} is not a special token`); // prettier-ignore
      assert.equal(ids.filter((x) => x === id).length, text.split(marker).length - 1, `${name}: ${marker}`);
    }
    // Phi-3's special tokens eat the whitespace after them (llama.cpp's rstrip attribute): no round trip.
    if (name !== 'phi-3') assert.equal(tok.decode(ids), text, name);
  }
});
