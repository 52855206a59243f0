import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  applyToolConventions,
  renderChat,
  templateTools,
  toolConventions,
  type ChatMessage,
  type ToolDefinition,
} from '@loom/tokenizer';
import { chatTemplateFixture } from '../testing/chat-template-fixture.js';
import { everyCharacter, parseInPieces } from '../testing/parse-in-pieces.js';
import type { OutputParser, ToolSchemas } from './chat-delta.js';
import type { ParsedMessage } from './message-accumulator.js';
import { detectReasoningParser, detectToolParser, makeOutputParser, type ParserContext } from './parser-registry.js';

const TOOLS: ToolDefinition[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather',
      parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } },
    },
  },
  {
    type: 'function',
    function: {
      name: 'search',
      description: 'Search',
      parameters: { type: 'object', properties: { query: { type: 'string' }, opts: { type: 'object' } } },
    },
  },
];
const SCHEMAS: ToolSchemas = new Map(TOOLS.map((t) => [t.function.name, t.function.parameters!]));
const CALLS = [
  { name: 'get_weather', arguments: { city: 'Paris', days: 3 } },
  { name: 'search', arguments: { query: 'a "quoted" ü', opts: { n: [1, 2] } } },
];

interface Case {
  template: string;
  tool: string;
  reasoning?: string;
  /** The assistant's output is the render between the first `from` after the user's turn (the last with `last`) and the next `to`. */
  from: string;
  last?: boolean;
  to: string;
  /** The template takes one call per turn. */
  single?: boolean;
  /** Where the template writes the turn's text ('Let me check.'): content, reasoning, or nowhere. */
  text: 'content' | 'reasoning' | 'dropped';
}

/** Model output written by each family's own template: an assistant turn that says a line and calls two tools. */
const CASES: Case[] = [
  { template: 'Qwen-Qwen2.5-7B-Instruct', tool: 'hermes', from: 'assistant\n', to: '<|im_end|>', text: 'content' },
  {
    template: 'Qwen-Qwen3-0.6B',
    tool: 'hermes',
    reasoning: 'qwen3',
    from: 'assistant\n',
    to: '<|im_end|>',
    text: 'content',
  },
  {
    template: 'NousResearch-Hermes-3-Llama-3.1-8B-tool_use',
    tool: 'hermes',
    from: 'assistant\n',
    to: '<|im_end|>',
    text: 'dropped',
  },
  {
    template: 'ibm-granite-granite-4.0',
    tool: 'hermes',
    from: '<|end_of_role|>',
    to: '<|end_of_text|>',
    text: 'content',
  },
  {
    template: 'meta-llama-Llama-3.1-8B-Instruct',
    tool: 'llama3_json',
    from: 'assistant<|end_header_id|>\n\n',
    to: '<|eot_id|>',
    single: true,
    text: 'dropped',
  },
  {
    template: 'meta-llama-Llama-3.3-70B-Instruct',
    tool: 'llama3_json',
    from: 'assistant<|end_header_id|>\n\n',
    to: '<|eot_id|>',
    single: true,
    text: 'dropped',
  },
  { template: 'mistralai-Mistral-Nemo-Instruct-2407', tool: 'mistral', from: '[/INST]', to: '</s>', text: 'dropped' },
  { template: 'Mistral-Small-3.2-24B-Instruct-2506', tool: 'mistral', from: '[/INST]', to: '</s>', text: 'dropped' },
  { template: 'unsloth-mistral-Devstral-Small-2507', tool: 'mistral', from: '[/INST]', to: '</s>', text: 'content' },
  {
    template: 'mistralai-Ministral-3-14B-Reasoning-2512',
    tool: 'mistral',
    reasoning: 'mistral',
    from: '[/INST]',
    to: '</s>',
    text: 'content',
  },
  {
    template: 'deepseek-ai-DeepSeek-V3.1',
    tool: 'deepseek_v31',
    from: '</think>',
    to: '<｜end▁of▁sentence｜>',
    text: 'content',
  },
  {
    template: 'deepseek-ai-DeepSeek-R1-Distill-Qwen-32B',
    tool: 'deepseek_v3',
    from: 'Q<｜Assistant｜>',
    to: '<｜end▁of▁sentence｜>',
    text: 'dropped',
  },
  {
    template: 'deepseek-ai-DeepSeek-V3.2',
    tool: 'deepseek_v32',
    from: '</think>',
    to: '<｜end▁of▁sentence｜>',
    text: 'content',
  },
  {
    template: 'deepseek-ai-DeepSeek-V4',
    tool: 'deepseek_v32',
    from: '</think>',
    to: '<｜end▁of▁sentence｜>',
    text: 'content',
  },
  {
    template: 'moonshotai-Kimi-K2',
    tool: 'kimi_k2',
    from: 'assistant<|im_middle|>',
    to: '<|im_end|>',
    text: 'content',
  },
  {
    template: 'openai-gpt-oss-120b',
    tool: 'openai',
    from: 'Q<|end|><|start|>assistant',
    to: '\u0000',
    single: true,
    text: 'reasoning',
  },
  { template: 'Qwen3-Coder', tool: 'qwen3_coder', from: 'assistant\n', to: '<|im_end|>', text: 'content' },
  {
    template: 'Qwen3.5-4B',
    tool: 'qwen3_coder',
    reasoning: 'qwen3',
    from: 'assistant\n',
    to: '<|im_end|>',
    text: 'content',
  },
  {
    template: 'NVIDIA-Nemotron-3-Nano-30B-A3B-BF16',
    tool: 'qwen3_coder',
    reasoning: 'qwen3',
    from: 'assistant\n',
    to: '<|im_end|>',
    text: 'content',
  },
  { template: 'GLM-4.6', tool: 'glm45', reasoning: 'qwen3', from: '</think>', to: '\u0000', text: 'content' },
  { template: 'GLM-4.7-Flash', tool: 'glm45', reasoning: 'qwen3', from: '</think>', to: '\u0000', text: 'content' },
  {
    template: 'MiniMax-M2',
    tool: 'minimax_m2',
    reasoning: 'qwen3',
    from: ']~b]ai\n',
    to: '[e~[',
    text: 'content',
  },
  {
    template: 'meetkai-functionary-medium-v3.1',
    tool: 'functionary_v3_1',
    from: 'assistant<|end_header_id|>\n\n',
    to: '<|eom_id|>',
    text: 'content',
  },
  {
    template: 'CohereForAI-c4ai-command-r7b-12-2024-tool_use',
    tool: 'command_r7b',
    reasoning: 'command_r7b',
    from: '<|CHATBOT_TOKEN|>',
    to: '<|END_OF_TURN_TOKEN|>',
    text: 'dropped',
  },
  {
    template: 'NVIDIA-Nemotron-Nano-v2',
    tool: 'nemotron_v2',
    from: '<SPECIAL_11>Assistant\n',
    last: true,
    to: '<SPECIAL_12>',
    text: 'dropped',
  },
  { template: 'LFM2.5-8B-A1B', tool: 'lfm2', from: 'assistant\n', to: '<|im_end|>', text: 'content' },
];

function modelOutput(c: Case): string {
  const src = chatTemplateFixture(c.template);
  const conv = toolConventions(src);
  const calls = (c.single ? CALLS.slice(0, 1) : CALLS).map((k, i) => ({
    id: `call${i}abcd`,
    type: 'function' as const,
    function: { name: k.name, arguments: JSON.stringify(k.arguments) },
  }));
  const messages: ChatMessage[] = [
    { role: 'system', content: 'S' },
    { role: 'user', content: 'Q' },
    { role: 'assistant', content: 'Let me check.', tool_calls: calls },
  ];
  const text = renderChat(src, applyToolConventions(messages, conv), {
    addGenerationPrompt: false,
    bosToken: '<s>',
    eosToken: '</s>',
    tools: templateTools(TOOLS, conv),
  });
  const start = c.last ? text.lastIndexOf(c.from) : text.indexOf(c.from, text.indexOf('Q'));
  assert.ok(start >= 0, `${c.template}: no '${c.from}' in ${JSON.stringify(text.slice(-400))}`);
  const out = text.slice(start + c.from.length);
  const end = out.indexOf(c.to);
  return end < 0 ? out : out.slice(0, end);
}

function parserFor(c: Case, generationPrompt = ''): () => OutputParser {
  const ctx: ParserContext = { generationPrompt, schemas: SCHEMAS, toolsActive: true };
  return () => makeOutputParser(c.tool, c.reasoning, ctx)!;
}

function checkMessage(c: Case, m: ParsedMessage, output: string): void {
  const want = c.single ? CALLS.slice(0, 1) : CALLS;
  const where = `${c.template}: ${JSON.stringify(output)} → ${JSON.stringify(m)}`;
  assert.deepEqual(
    m.toolCalls.map((t) => ({ name: t.name, arguments: JSON.parse(t.arguments) as unknown })),
    want,
    where,
  );
  assert.equal(m.content, c.text === 'content' ? 'Let me check.' : '', where);
  assert.equal(m.reasoning.trim(), c.text === 'reasoning' ? 'Let me check.' : '', where);
}

for (const c of CASES) {
  test(`${c.tool}: calls written by ${c.template} parse back, whole and one character at a time`, () => {
    const output = modelOutput(c);
    const whole = parseInPieces(parserFor(c), output);
    checkMessage(c, whole.message, output);
    const pieces = parseInPieces(parserFor(c), output, everyCharacter(output.length));
    assert.deepEqual(pieces.message, whole.message);
    // The call is announced before any of its arguments.
    const firstArgs = pieces.deltas.findIndex((d) => d.type === 'tool_args');
    const firstCall = pieces.deltas.findIndex((d) => d.type === 'tool_call');
    assert.ok(firstCall >= 0 && firstCall < firstArgs);
  });
}

test('every family parses the same message however the text is cut', () => {
  for (const c of CASES) {
    const output = modelOutput(c);
    const whole = parseInPieces(parserFor(c), output).message;
    fc.assert(
      fc.property(fc.array(fc.nat(output.length), { maxLength: 12 }), (cuts) => {
        assert.deepEqual(parseInPieces(parserFor(c), output, cuts).message, whole, c.template);
      }),
      { numRuns: 40, seed: 7 },
    );
  }
});

test('each template is recognised as its family', () => {
  for (const c of CASES) {
    const src = chatTemplateFixture(c.template);
    assert.equal(detectToolParser(src), c.tool, c.template);
    if (c.reasoning) assert.equal(detectReasoningParser(src), c.reasoning, c.template);
  }
  assert.equal(detectToolParser(chatTemplateFixture('microsoft-Phi-3.5-mini-instruct')), undefined);
  assert.equal(detectToolParser(undefined), undefined);
  assert.equal(detectReasoningParser(chatTemplateFixture('Qwen-Qwen2.5-7B-Instruct')), undefined);
  assert.equal(detectReasoningParser(chatTemplateFixture('openai-gpt-oss-120b')), 'openai_gptoss');
});
