import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeOutputParser } from '../chat-output/parser-registry.js';
import type { ChoiceUpdate } from '../generation/event-consumer.js';
import { usageOf } from '../generation/response-format.js';
import { openAiSchemaValidator } from '../testing/openai-schema.js';
import { OPENAI_SPEC } from '../testing/spec-path.js';
import { chatFormat, type ChatOutputOptions } from './chat-format.js';
import { at } from '@loom/common';

const validate = openAiSchemaValidator(OPENAI_SPEC);
const ctx = { id: 'chatcmpl-1', created: 1700000000, model: 'm', n: 1 };

let ids = 0;
const output = (tool: string | undefined, reasoning?: string): ChatOutputOptions => ({
  parser: () => makeOutputParser(tool, reasoning, { generationPrompt: '', schemas: new Map(), toolsActive: true })!,
  includeReasoning: true,
  newCallId: () => `call_${++ids}`,
  parallelToolCalls: true,
});

interface StreamedChoice {
  content: string;
  reasoning: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finish: string | null;
}

/** Accumulates chunks as OpenAI's client does: tool call pieces merged by index, the first with id and name. */
function accumulate(chunks: object[]): StreamedChoice {
  const out: StreamedChoice = { content: '', reasoning: '', toolCalls: [], finish: null };
  for (const c of chunks as { choices: { delta: Record<string, unknown>; finish_reason: string | null }[] }[]) {
    for (const ch of c.choices) {
      const d = ch.delta as {
        content?: string;
        reasoning_content?: string;
        tool_calls?: { index: number; id?: string; function: { name?: string; arguments?: string } }[];
      };
      out.content += d.content ?? '';
      out.reasoning += d.reasoning_content ?? '';
      for (const t of d.tool_calls ?? []) {
        if (t.id !== undefined) {
          assert.equal(out.toolCalls.length, t.index, 'a new call comes with the next index');
          assert.equal(t.function.arguments, '', 'no arguments before the call is announced');
          out.toolCalls.push({ id: t.id, name: t.function.name!, arguments: '' });
        } else at(out.toolCalls, t.index).arguments += t.function.arguments!;
      }
      if (ch.finish_reason) out.finish = ch.finish_reason;
    }
  }
  return out;
}

/** Runs `pieces` as one choice's token events through a fresh format: the chunks and the body. */
function run(opts: ChatOutputOptions | undefined, pieces: string[], finishReason: 'stop' | 'length' = 'stop') {
  const f = chatFormat(undefined, undefined, opts);
  const chunks: object[] = [...f.openingChunks(ctx)];
  const updates: ChoiceUpdate[] = [
    ...pieces.map((text): ChoiceUpdate => ({ kind: 'delta', index: 0, text, tokens: 1 })),
    { kind: 'finish', index: 0, finishReason },
  ];
  for (const u of updates) chunks.push(...f.updateChunks(ctx, u));
  const usage = { ...usageOf(3, pieces.length), ...f.usageDetails?.() };
  const body = f.body(ctx, [{ index: 0, text: pieces.join(''), finishReason }], usage) as {
    choices: { message: Record<string, unknown>; finish_reason: string }[];
    usage: typeof usage;
  };
  for (const c of chunks) assert.deepEqual(validate('CreateChatCompletionStreamResponse', c), [], JSON.stringify(c));
  assert.deepEqual(validate('CreateChatCompletionResponse', body), []);
  return { chunks, body, streamed: accumulate(chunks) };
}

test('tool calls stream as OpenAI does and the body is the same message', () => {
  const pieces = [
    'Checking.\n<tool_',
    'call>\n{"name": "get_weather", "arguments": {"city": ',
    '"Paris"}}\n</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {}}',
    '\n</tool_call>',
  ];
  const { body, streamed } = run(output('hermes'), pieces);
  assert.equal(streamed.content, 'Checking.');
  assert.equal(streamed.finish, 'tool_calls');
  assert.deepEqual(
    streamed.toolCalls.map((t) => [t.name, t.arguments]),
    [
      ['get_weather', '{"city": "Paris"}'],
      ['get_time', '{}'],
    ],
  );
  const choice = at(body.choices, 0);
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.deepEqual(choice.message, {
    role: 'assistant',
    content: 'Checking.',
    refusal: null,
    tool_calls: streamed.toolCalls.map((t) => ({
      id: t.id,
      type: 'function',
      function: { name: t.name, arguments: t.arguments },
    })),
  });
  assert.match(at(streamed.toolCalls, 0).id, /^call_/);
});

test('parallel_tool_calls: false keeps the first call only', () => {
  const two =
    '<tool_call>{"name": "f", "arguments": {}}</tool_call><tool_call>{"name": "g", "arguments": {}}</tool_call>';
  const { body, streamed } = run({ ...output('hermes'), parallelToolCalls: false }, [two]);
  assert.deepEqual(
    streamed.toolCalls.map((t) => t.name),
    ['f'],
  );
  assert.equal((at(body.choices, 0).message['tool_calls'] as unknown[]).length, 1);
});

test('only calls: content is null; cut off by the length limit, the finish reason stays length', () => {
  const calls = run(output('hermes'), ['<tool_call>{"name": "f", "arguments": {}}</tool_call>']);
  assert.equal(at(calls.body.choices, 0).message['content'], null);
  const cut = run(output('hermes'), ['<tool_call>{"name": "f", "arguments": {"a": '], 'length');
  assert.equal(at(cut.body.choices, 0).finish_reason, 'length');
  assert.equal(at(cut.streamed.toolCalls, 0).arguments, '{"a": ');
});

test('reasoning streams as reasoning_content, counted in completion_tokens_details', () => {
  const { body, streamed } = run(output(undefined, 'qwen3'), ['<think>', 'Hmm', '.</think>', '\n\nHi', '.']);
  assert.deepEqual([streamed.reasoning, streamed.content, streamed.finish], ['Hmm.', 'Hi.', 'stop']);
  assert.equal(at(body.choices, 0).message['reasoning_content'], 'Hmm.');
  assert.equal(at(body.choices, 0).message['content'], 'Hi.');
  // '<think>' (held, then reasoning), 'Hmm', '.</think>': three tokens spent thinking.
  assert.deepEqual(body.usage.completion_tokens_details, { reasoning_tokens: 3 });
});

test('include_reasoning: false leaves the reasoning out', () => {
  const { body, streamed } = run({ ...output(undefined, 'qwen3'), includeReasoning: false }, ['<think>Hmm</think>Hi']);
  assert.equal(streamed.reasoning, '');
  assert.equal(at(body.choices, 0).message['reasoning_content'], undefined);
  assert.equal(at(body.choices, 0).message['content'], 'Hi');
});

test('without a parser the text is the content, as before', () => {
  const { body, streamed } = run(undefined, ['<tool_call>', 'x']);
  assert.equal(streamed.content, '<tool_call>x');
  assert.deepEqual(at(body.choices, 0).message, { role: 'assistant', content: '<tool_call>x', refusal: null });
  assert.equal(at(body.choices, 0).finish_reason, 'stop');
});
