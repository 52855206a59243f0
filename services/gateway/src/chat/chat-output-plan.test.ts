import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOrThrow } from '../errors/zod-error.js';
import { parseInPieces } from '../testing/parse-in-pieces.js';
import {
  chatOutputPlan,
  checkParserSettings,
  forcedCallConstraint,
  forcedMode,
  modelParsers,
} from './chat-output-plan.js';
import { chatRequestSchema, toolPlan } from './chat-request.js';
import { chatTemplateFixture } from '../testing/chat-template-fixture.js';
import { modelCardFromGguf } from '../testing/model-card.js';
import { STORIES_GGUF } from '../testing/spec-path.js';

const fn = (name: string, extra: object = {}) => ({
  type: 'function',
  function: { name, parameters: { type: 'object', properties: { q: { type: 'string' } } }, ...extra },
});
const plan = (extra: object) =>
  toolPlan(parseOrThrow(chatRequestSchema, { model: 'm', messages: [{ role: 'user', content: 'x' }], ...extra }));
const opts = { includeReasoning: true, parallelToolCalls: true };
const hermes = { tool: 'hermes', reasoning: 'qwen3' };

test('a forced call: decoded under a JSON-schema constraint, read by its own parser, without reasoning', () => {
  const { tools, mode } = plan({
    tools: [fn('f'), fn('g', { strict: true })],
    tool_choice: { type: 'function', function: { name: 'g' } },
  });
  const forced = forcedMode(mode)!;
  const c = forcedCallConstraint(tools, forced, true);
  assert.deepEqual(c.spec, {
    type: 'json_schema',
    schema: JSON.stringify({ type: 'object', properties: { q: { type: 'string' } } }),
    strict: false, // not every tool is strict
  });
  assert.equal(c.param, 'tools');
  const { output, keepSpecialTokens } = chatOutputPlan(hermes, mode, tools, '', opts);
  assert.equal(keepSpecialTokens, false);
  assert.deepEqual(parseInPieces(output!.parser, '{"q": "<think>x</think>"}').message, {
    content: '',
    reasoning: '',
    toolCalls: [{ name: 'g', arguments: '{"q": "<think>x</think>"}' }],
  });
  const required = plan({ tools: [fn('f')], tool_choice: 'required' });
  // Without parallel calls, 'required' takes exactly one.
  const spec = forcedCallConstraint(required.tools, forcedMode(required.mode)!, false).spec as { schema: string };
  assert.equal((JSON.parse(spec.schema) as { maxItems?: number }).maxItems, 1);
});

test('auto: the model family parsers; none: reasoning only; no parser at all: plain text', () => {
  const auto = plan({ tools: [fn('f')] });
  const { output } = chatOutputPlan(hermes, auto.mode, auto.tools, '', opts);
  const text = '<think>hm</think><tool_call>{"name": "f", "arguments": {}}</tool_call>';
  assert.equal(parseInPieces(output!.parser, text).message.toolCalls.length, 1);
  const none = plan({ tools: [fn('f')], tool_choice: 'none' });
  const m = parseInPieces(chatOutputPlan(hermes, none.mode, none.tools, '', opts).output!.parser, text).message;
  assert.deepEqual([m.reasoning, m.toolCalls.length], ['hm', 0]);
  assert.equal(
    chatOutputPlan({ tool: undefined, reasoning: undefined }, auto.mode, auto.tools, '', opts).output,
    undefined,
  );
});

test('--tool-call-parser / --reasoning-parser: auto detects, none disables, a name is taken, an unknown one refused', () => {
  const card = { ...modelCardFromGguf(STORIES_GGUF, 's'), chatTemplate: chatTemplateFixture('Qwen-Qwen3-0.6B') };
  assert.deepEqual(modelParsers({ toolCallParser: 'auto', reasoningParser: 'auto' }, card), hermes);
  assert.deepEqual(modelParsers({ toolCallParser: 'none', reasoningParser: 'deepseek_r1' }, card), {
    tool: undefined,
    reasoning: 'deepseek_r1',
  });
  assert.throws(
    () => checkParserSettings({ toolCallParser: 'hermez', reasoningParser: 'auto' }),
    /--tool-call-parser.*hermez/,
  );
  assert.throws(() => checkParserSettings({ toolCallParser: 'auto', reasoningParser: 'qwen4' }), /--reasoning-parser/);
  checkParserSettings({ toolCallParser: 'mistral', reasoningParser: 'none' });
});
