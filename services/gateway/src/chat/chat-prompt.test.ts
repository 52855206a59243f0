import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/api-error.js';
import { parseOrThrow } from '../errors/zod-error.js';
import { chatTemplateFixture } from '../testing/chat-template-fixture.js';
import { modelCardFromGguf } from '../testing/model-card.js';
import { STORIES_GGUF } from '../testing/spec-path.js';
import { ModelTokenizers } from '../tokenizer/model-tokenizers.js';
import { buildChatPrompt } from './chat-prompt.js';
import { chatRequestSchema, toolPlan } from './chat-request.js';

const toks = new ModelTokenizers();
const stories = modelCardFromGguf(STORIES_GGUF, 'stories260K');
let version = 0;
/** The demo model's card with another chat template (any text tokenizes with its byte fallback). */
const withTemplate = (chatTemplate: string, toolUseChatTemplate?: string) => ({
  ...stories,
  createdAt: stories.createdAt + ++version,
  chatTemplate,
  ...(toolUseChatTemplate ? { toolUseChatTemplate } : {}),
});
const TOOL = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } };
const CALL = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Rome"}' } };

/** The rendered prompt text of a chat body for `card`, with the model's parser family. */
function render(card: typeof stories, body: object, toolParser?: string, describeTools = false): string {
  const req = parseOrThrow(chatRequestSchema, { model: 'm', ...body });
  const { ids } = buildChatPrompt(toks, card, req, toolPlan(req).tools, toolParser, { describeTools });
  return toks.decode(card, ids, false);
}

const user = [{ role: 'user', content: 'Weather?' }];

test('a model with a tool_use template gets it when the request has tools', () => {
  const card = withTemplate(
    chatTemplateFixture('Qwen-Qwen2.5-7B-Instruct').replaceAll('You are Qwen', 'You are Plain'),
    chatTemplateFixture('NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use'),
  );
  assert.ok(render(card, { messages: user, tools: [TOOL] }).includes('<tools>'));
  assert.ok(render(card, { messages: user }).includes('You are Plain'));
});

test('a template that ignores tool_calls gets them in the content, in its family syntax', () => {
  const card = withTemplate(chatTemplateFixture('ibm-granite-granite-3.3-2B-Instruct'));
  const out = render(
    card,
    {
      messages: [
        ...user,
        { role: 'assistant', content: null, tool_calls: [CALL] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
      tools: [TOOL],
    },
    'granite',
  );
  assert.ok(out.includes('<|tool_call|>[{"name":"get_weather","arguments":{"city":"Rome"}}]'), out);
});

test('developer is system except for gpt-oss; reasoning_effort reaches the template', () => {
  const dev = [{ role: 'developer', content: 'Be terse.' }, ...user];
  const qwen = withTemplate(chatTemplateFixture('Qwen-Qwen3-0.6B'));
  assert.ok(render(qwen, { messages: dev }).includes('<|im_start|>system\nBe terse.'));
  const oss = withTemplate(chatTemplateFixture('openai-gpt-oss-120b'));
  const out = render(oss, { messages: dev, reasoning_effort: 'high' });
  assert.ok(out.includes('<|start|>developer<|message|># Instructions\n\nBe terse.'), out);
  assert.ok(out.includes('Reasoning: high'), out);
  // 'none' turns thinking off where the template has the switch; chat_template_kwargs win.
  assert.ok(render(qwen, { messages: user, reasoning_effort: 'none' }).endsWith('<think>\n\n</think>\n\n'));
  assert.ok(
    render(qwen, {
      messages: user,
      reasoning_effort: 'none',
      chat_template_kwargs: { enable_thinking: true },
    }).endsWith('assistant\n'),
  );
});

test('a 400 names the tool call whose arguments are not JSON, or the tools a template cannot render', () => {
  const qwen = withTemplate(chatTemplateFixture('Qwen-Qwen3-0.6B'));
  const bad = { ...CALL, function: { ...CALL.function, arguments: '{"city": ' } };
  assert.throws(
    () => render(qwen, { messages: [...user, { role: 'assistant', tool_calls: [bad] }] }),
    (e: unknown) => e instanceof ApiError && e.param === 'messages[1].tool_calls[0].function.arguments',
  );
  const apriel = withTemplate(chatTemplateFixture('unsloth-Apriel-1.5'));
  assert.throws(
    () => render(apriel, { messages: user, tools: [TOOL] }),
    (e: unknown) => e instanceof ApiError && e.param === 'tools' && e.status === 400,
  );
});

test('a forced call on a template without tools describes them in the first system or user message', () => {
  const body = { messages: user, tools: [TOOL] };
  // The plain fallback (no template) knows nothing of tools.
  assert.ok(!render(stories, body).includes('get_weather'));
  const described = render(stories, body, undefined, true);
  assert.ok(described.includes('user: You can call these functions'), described);
  assert.ok(described.includes('"name": "get_weather"'), described);
  const withSystem = render(
    stories,
    { ...body, messages: [{ role: 'system', content: 'Be brief.' }, ...user] },
    undefined,
    true,
  );
  assert.ok(withSystem.includes('system: Be brief.\n\nYou can call these functions'), withSystem);
  // A template with tool syntax already shows them its own way.
  const qwen = withTemplate(chatTemplateFixture('Qwen-Qwen3-0.6B'));
  assert.ok(!render(qwen, body, 'hermes', true).includes('You can call these functions'));
});
