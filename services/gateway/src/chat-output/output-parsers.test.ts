import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderChatPrompt } from '@loom/tokenizer';
import { chatTemplateFixture } from '../testing/chat-template-fixture.js';
import { everyCharacter, parseInPieces } from '../testing/parse-in-pieces.js';
import type { OutputParser } from './chat-delta.js';
import { makeOutputParser, type ParserContext } from './parser-registry.js';

const ctx = (over: Partial<ParserContext> = {}): ParserContext => ({
  generationPrompt: '',
  schemas: new Map([['f', { type: 'object', properties: { n: { type: 'integer' }, s: { type: 'string' } } }]]),
  toolsActive: true,
  ...over,
});
const parser =
  (tool: string | undefined, reasoning?: string, over: Partial<ParserContext> = {}) =>
  (): OutputParser =>
    makeOutputParser(tool, reasoning, ctx(over))!;

/** The message, checked to be the same whole and one character per push. */
function parse(make: () => OutputParser, text: string) {
  const whole = parseInPieces(make, text).message;
  assert.deepEqual(parseInPieces(make, text, everyCharacter(text.length)).message, whole, JSON.stringify(text));
  return whole;
}

test('hermes: arguments stream before the call closes, a name before any argument', () => {
  const p = parser('hermes')();
  assert.deepEqual(p.push('Sure.\n<tool_'), [{ type: 'content', text: 'Sure.' }]);
  assert.deepEqual(p.push('call>\n{"name": "f", "argum'), [{ type: 'tool_call', index: 0, name: 'f' }]);
  assert.deepEqual(p.push('ents": {"n": 1'), [{ type: 'tool_args', index: 0, text: '{"n": 1' }]);
  assert.deepEqual(p.push('}}\n</tool_call>'), [{ type: 'tool_args', index: 0, text: '}' }]);
  assert.deepEqual(p.finish(), []);
});

test('hermes: text that only looked like a marker, or a region that is no call, is content', () => {
  assert.deepEqual(parse(parser('hermes'), 'a <tool'), { content: 'a <tool', reasoning: '', toolCalls: [] });
  assert.deepEqual(
    parse(parser('hermes'), 'x <tool_call>not json</tool_call>').content,
    'x <tool_call>not json</tool_call>',
  );
  assert.deepEqual(parse(parser('hermes'), '<tool_call>{"arguments": {"n": 1}}</tool_call>').toolCalls, []);
});

test('hermes: arguments before the name, encoded as a string, absent, or cut off by the length limit', () => {
  const calls = (text: string) => parse(parser('hermes'), text).toolCalls;
  assert.deepEqual(calls('<tool_call>{"arguments": {"n": 1}, "name": "f"}</tool_call>'), [
    { name: 'f', arguments: '{"n": 1}' },
  ]);
  assert.deepEqual(calls('<tool_call>{"name": "f", "arguments": "{\\"n\\": 2}"}</tool_call>'), [
    { name: 'f', arguments: '{"n": 2}' },
  ]);
  assert.deepEqual(calls('<tool_call>{"name": "f"}</tool_call>'), [{ name: 'f', arguments: '{}' }]);
  assert.deepEqual(calls('<tool_call>{"name": "f", "arguments": {"s": "abc'), [{ name: 'f', arguments: '{"s": "abc' }]);
  // A list inside one region is several calls.
  assert.equal(
    calls('<tool_call>[{"name": "f", "arguments": {}}, {"name": "g", "arguments": {}}]</tool_call>').length,
    2,
  );
});

test('llama3_json: a JSON answer stays content; calls are bare JSON, several separated by ";"', () => {
  assert.deepEqual(parse(parser('llama3_json'), '{"answer": 42}').content, '{"answer": 42}');
  assert.deepEqual(parse(parser('llama3_json'), 'The answer is {"name": 1}').content, 'The answer is {"name": 1}');
  assert.deepEqual(
    parse(parser('llama3_json'), ' {"name": "f", "parameters": {"n": 1}}; {"name": "g", "parameters": {}}').toolCalls,
    [
      { name: 'f', arguments: '{"n": 1}' },
      { name: 'g', arguments: '{}' },
    ],
  );
  assert.deepEqual(parse(parser('llama3_json'), '<|python_tag|>{"name": "f", "parameters": {}}').toolCalls, [
    { name: 'f', arguments: '{}' },
  ]);
});

test('think tags: reasoning split from content; a prompt that opened the block starts inside it', () => {
  assert.deepEqual(parse(parser(undefined, 'qwen3'), '<think>\nHmm.\n</think>\n\nHello.'), {
    content: 'Hello.',
    reasoning: '\nHmm.\n',
    toolCalls: [],
  });
  assert.deepEqual(parse(parser(undefined, 'qwen3'), 'Hello <think> there'), {
    content: 'Hello <think> there',
    reasoning: '',
    toolCalls: [],
  });
  // Qwen3.5 (and DeepSeek-R1) end the generation prompt with `<think>\n`.
  const gp = renderChatPrompt(chatTemplateFixture('Qwen3.5-4B'), [{ role: 'user', content: 'Hi' }], {
    addGenerationPrompt: true,
    bosToken: '',
    eosToken: '',
  }).generationPrompt;
  assert.deepEqual(parse(parser(undefined, 'qwen3', { generationPrompt: gp }), 'Hmm.\n</think>\n\nHello.'), {
    content: 'Hello.',
    reasoning: 'Hmm.\n',
    toolCalls: [],
  });
  // Qwen3 with enable_thinking=false: the prompt carries a closed empty block; the output is content.
  assert.deepEqual(
    parse(parser(undefined, 'qwen3', { generationPrompt: '<|im_start|>assistant\n<think>\n\n</think>\n\n' }), 'Hi.'),
    { content: 'Hi.', reasoning: '', toolCalls: [] },
  );
  // deepseek_r1 takes the output as reasoning from the start, with or without the opener.
  assert.equal(parse(parser(undefined, 'deepseek_r1'), 'Hmm.</think>Yes.').reasoning, 'Hmm.');
  assert.equal(parse(parser(undefined, 'deepseek_r1'), '<think>Hmm.</think>Yes.').reasoning, 'Hmm.');
  // Cut off while thinking: all reasoning, no content.
  assert.deepEqual(parse(parser(undefined, 'deepseek_r1'), 'Hmm, let me'), {
    content: '',
    reasoning: 'Hmm, let me',
    toolCalls: [],
  });
});

test('reasoning then a tool call: Qwen3 thinks, says nothing, calls', () => {
  const m = parse(
    parser('hermes', 'qwen3'),
    '<think>\nNeed weather.\n</think>\n\n<tool_call>\n{"name": "f", "arguments": {"n": 1}}\n</tool_call>',
  );
  assert.deepEqual(m, {
    content: '',
    reasoning: '\nNeed weather.\n',
    toolCalls: [{ name: 'f', arguments: '{"n": 1}' }],
  });
});

test('harmony: analysis is reasoning, final is content, commentary to a function is a call', () => {
  const text =
    '<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json<|message|>{"n": 1}';
  assert.deepEqual(parse(parser('openai', 'openai_gptoss'), text), {
    content: '',
    reasoning: 'Think.',
    toolCalls: [{ name: 'f', arguments: '{"n": 1}' }],
  });
  const answer = '<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>final<|message|>Done.';
  assert.deepEqual(parse(parser(undefined, 'openai_gptoss', { toolsActive: false }), answer), {
    content: 'Done.',
    reasoning: 'Think.',
    toolCalls: [],
  });
  // Without tools in the request a call is not a call: its text is content.
  const call = '<|channel|>commentary to=functions.f<|message|>{"n": 1}';
  assert.equal(parse(parser(undefined, 'openai_gptoss', { toolsActive: false }), call).content, '{"n": 1}');
  // A call with no body still has arguments.
  assert.deepEqual(parse(parser('openai'), '<|channel|>commentary to=functions.f<|message|>').toolCalls, [
    { name: 'f', arguments: '{}' },
  ]);
});

test('XML parameters: typed by the schema; strings stream as written; a call cut off still closes its JSON', () => {
  const text =
    '<tool_call>\n<function=f>\n<parameter=n>\n7\n</parameter>\n<parameter=s>\n12\n</parameter>\n</function>';
  assert.deepEqual(parse(parser('qwen3_coder'), text).toolCalls, [{ name: 'f', arguments: '{"n": 7, "s": "12"}' }]);
  const cut = '<tool_call>\n<function=f>\n<parameter=n>\n7\n</parameter>\n<parameter=s>\nline "one"\nline two\n</para';
  assert.deepEqual(parse(parser('qwen3_coder'), cut).toolCalls, [
    { name: 'f', arguments: '{"n": 7, "s": "line \\"one\\"\\nline two\\n</para"}' },
  ]);
  // A long string (a file a coder model writes) streams before its closer comes.
  const p = parser('qwen3_coder')();
  assert.deepEqual(p.push('<tool_call>\n<function=f>\n<parameter=s>\nint main() {\n'), [
    { type: 'tool_call', index: 0, name: 'f' },
    { type: 'tool_args', index: 0, text: '{"s": "int main() {' },
  ]);
  // The newline waited: it could have been the layout before the closer.
  assert.deepEqual(p.push('  return 0;\n}\n</param'), [{ type: 'tool_args', index: 0, text: '\\n  return 0;\\n}' }]);
  assert.deepEqual(p.push('eter>\n</function>'), [{ type: 'tool_args', index: 0, text: '"}' }]);
});

test('pythonic: a call list at the start; anything else is content', () => {
  assert.deepEqual(parse(parser('pythonic'), '[f(n=1, s="a, b"), g()]').toolCalls, [
    { name: 'f', arguments: '{"n": 1, "s": "a, b"}' },
    { name: 'g', arguments: '{}' },
  ]);
  assert.deepEqual(parse(parser('pythonic'), '[1, 2] is a list').content, '[1, 2] is a list');
  assert.deepEqual(parse(parser('pythonic'), 'Hello').content, 'Hello');
});

test('whitespace around the structure is layout; the content keeps its own', () => {
  assert.equal(parse(parser('hermes'), '\n\nHi.\n\n<tool_call>{"name": "f"}</tool_call>\n').content, 'Hi.');
  assert.equal(parse(parser('hermes'), 'Line one.\n\nLine two.\n').content, 'Line one.\n\nLine two.\n');
});
