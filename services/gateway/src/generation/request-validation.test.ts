import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toolConventions } from '@loom/tokenizer';
import { templateMessages } from '../chat/chat-prompt.js';
import { chatRequestSchema, rejectUnsupportedChat } from '../chat/chat-request.js';
import { completionRequestSchema, promptsOf, rejectUnsupportedCompletion } from '../completions/completion-request.js';
import { ApiError } from '../errors/api-error.js';
import { parseOrThrow } from '../errors/zod-error.js';
import { openAiSchemaValidator } from '../testing/openai-schema.js';
import { OPENAI_SPEC } from '../testing/spec-path.js';
import { resolveSeed, toSamplingParams } from './sampling-request.js';

const validate = openAiSchemaValidator(OPENAI_SPEC);

/** The ApiError a function throws (fails the test when it does not throw one). */
function apiErrorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.deepEqual(validate('ErrorResponse', err.body()), []);
    return err;
  }
  assert.fail('expected an ApiError');
}

const completion = (extra: object) => () => {
  const body = parseOrThrow(completionRequestSchema, { model: 'm', prompt: 'hi', ...extra });
  rejectUnsupportedCompletion(body);
  return body;
};

test('completion validation names the bad parameter', () => {
  const cases: [object, string, string][] = [
    [{ max_tokens: -1 }, 'max_tokens', 'invalid_value'],
    [{ max_tokens: 1.5 }, 'max_tokens', 'invalid_type'],
    [{ temperature: 'hot' }, 'temperature', 'invalid_type'],
    [{ temperature: 3 }, 'temperature', 'invalid_value'],
    [{ top_p: 0 }, 'top_p', 'invalid_value'],
    [{ n: 0 }, 'n', 'invalid_value'],
    [{ stop: [1] }, 'stop', 'invalid_value'],
    [{ stop_token_ids: [-3] }, 'stop_token_ids[0]', 'invalid_value'],
    [{ logit_bias: { abc: 1 } }, 'logit_bias.abc', 'invalid_value'],
    [{ logit_bias: { '5': 500 } }, 'logit_bias.5', 'invalid_value'],
    [{ stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage', 'invalid_type'],
    [{ prompt: 42 }, 'prompt', 'invalid_value'],
    [{ prompt: ['a', 1] }, 'prompt', 'invalid_value'],
    [{ prompt: Array.from({ length: 65 }, () => 'a') }, 'prompt', 'invalid_value'],
    [{ best_of: 2 }, 'best_of', 'unsupported_parameter'],
    [{ suffix: 'end' }, 'suffix', 'unsupported_parameter'],
    [{ logprobs: 21 }, 'logprobs', 'invalid_value'],
  ];
  for (const [extra, param, code] of cases) {
    const err = apiErrorOf(completion(extra));
    assert.equal(err.status, 400, JSON.stringify(extra));
    assert.equal(err.param, param, JSON.stringify(extra));
    assert.equal(err.code, code, JSON.stringify(extra));
    assert.equal(err.type, 'invalid_request_error');
  }
});

test('missing required fields are reported as such', () => {
  const err = apiErrorOf(() => parseOrThrow(completionRequestSchema, { prompt: 'x' }));
  assert.equal(err.param, 'model');
  assert.equal(err.code, 'missing_required_parameter');
  const noPrompt = apiErrorOf(() => parseOrThrow(completionRequestSchema, { model: 'm' }));
  assert.equal(noPrompt.param, 'prompt');
  assert.equal(noPrompt.code, 'missing_required_parameter');
  const notObject = apiErrorOf(() => parseOrThrow(completionRequestSchema, [1, 2]));
  assert.equal(notObject.param, null);
});

test('chat validation names nested message fields', () => {
  const chat = (messages: unknown) => () => parseOrThrow(chatRequestSchema, { model: 'm', messages });
  assert.equal(apiErrorOf(chat([{ role: 'wizard', content: 'x' }])).param, 'messages[0].role');
  assert.equal(
    apiErrorOf(
      chat([
        { role: 'user', content: 'x' },
        { role: 'user', content: [{ type: 'image_url', image_url: {} }] },
      ]),
    ).param,
    'messages[1].content',
  );
  assert.equal(apiErrorOf(chat([])).param, 'messages');
});

test('tools, tool_choice and tool messages: a 400 naming the parameter', () => {
  const user = [{ role: 'user', content: 'x' }];
  const fn = (name: string, extra: object = {}) => ({ type: 'function', function: { name, ...extra } });
  const chatWith =
    (extra: object, messages: object[] = user) =>
    () => {
      const body = parseOrThrow(chatRequestSchema, { model: 'm', messages, ...extra });
      rejectUnsupportedChat(body);
      return body;
    };
  const call = (args: unknown) => ({
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: args } }],
  });
  const cases: [() => unknown, string, string][] = [
    [chatWith({ tools: [{ type: 'function' }] }), 'tools[0].function', 'missing_required_parameter'],
    [chatWith({ tools: [fn('get weather')] }), 'tools[0].function.name', 'invalid_value'],
    [chatWith({ tools: [fn('x'.repeat(65))] }), 'tools[0].function.name', 'invalid_value'],
    [chatWith({ tools: Array.from({ length: 129 }, (_, i) => fn(`f${i}`)) }), 'tools', 'invalid_value'],
    [chatWith({ tools: [{ type: 'custom', function: { name: 'f' } }] }), 'tools[0].type', 'unsupported_parameter'],
    [chatWith({ tools: [fn('f'), fn('f')] }), 'tools[1].function.name', 'invalid_value'],
    [chatWith({ tools: [fn('f', { parameters: 'x' })] }), 'tools[0].function.parameters', 'invalid_type'],
    [chatWith({ tool_choice: 'required' }), 'tool_choice', 'invalid_value'],
    [chatWith({ tools: [fn('f')], tool_choice: fn('g') }), 'tool_choice', 'invalid_value'],
    [chatWith({ tools: [fn('f')], tool_choice: 'sometimes' }), 'tool_choice', 'invalid_value'],
    [
      chatWith({
        tools: [fn('f')],
        tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [fn('g')] } },
      }),
      'tool_choice',
      'invalid_value',
    ],
    [chatWith({ tools: [fn('f')], parallel_tool_calls: 'yes' }), 'parallel_tool_calls', 'invalid_type'],
    [chatWith({ reasoning_effort: 'extreme' }), 'reasoning_effort', 'invalid_value'],
    [chatWith({ functions: [{ name: 'f' }] }), 'functions', 'unsupported_parameter'],
    [chatWith({}, [...user, call({ a: 1 })]), 'messages[1].tool_calls[0].function.arguments', 'invalid_type'],
    [chatWith({}, [...user, { role: 'tool', content: 'r' }]), 'messages[1].tool_call_id', 'missing_required_parameter'],
  ];
  for (const [fn, param, code] of cases) {
    const err = apiErrorOf(fn);
    assert.equal(err.status, 400, param);
    assert.equal(err.param, param, `${param}: ${err.message}`);
    assert.equal(err.code, code, `${param}: ${err.message}`);
  }
  // The same shapes well formed are accepted (a forced call is checked as a constraint later).
  for (const tool_choice of [
    'required',
    fn('f'),
    { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [fn('f')] } },
  ])
    chatWith({ tools: [fn('f')], tool_choice })();
  chatWith(
    {
      tools: [fn('f', { parameters: { type: 'object', properties: {} } })],
      tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [fn('f')] } },
      parallel_tool_calls: false,
      reasoning_effort: 'low',
      chat_template_kwargs: { enable_thinking: false },
    },
    [...user, call('{"a": 1}'), { role: 'tool', tool_call_id: 'c1', content: 'ok' }],
  )();
});

test('accepted bodies map to SamplingParams with OpenAI defaults', () => {
  const body = parseOrThrow(completionRequestSchema, {
    model: 'm',
    prompt: [[1, 2, 3]],
    stop: 'END',
    top_k: -1,
    seed: -1,
    temperature: null,
  });
  assert.deepEqual(promptsOf(body), [{ ids: [1, 2, 3] }]);
  const many = (prompt: unknown) => promptsOf(parseOrThrow(completionRequestSchema, { model: 'm', prompt }));
  assert.deepEqual(many([1, 2]), [{ ids: [1, 2] }]);
  assert.deepEqual(many(['a', 'b']), [{ text: 'a' }, { text: 'b' }]);
  assert.deepEqual(many([[1], [2, 3]]), [{ ids: [1] }, { ids: [2, 3] }]);
  assert.equal(apiErrorOf(() => parseOrThrow(completionRequestSchema, { model: 'm', prompt: [] })).param, 'prompt');
  const s = toSamplingParams(body, 16);
  assert.deepEqual(s.stop, ['END']);
  assert.equal(s.topK, 0);
  assert.equal(s.temperature, 1);
  assert.equal(s.seed, 2 ** 32 - 1);
  assert.equal(s.maxTokens, 16);
  assert.equal(apiErrorOf(() => toSamplingParams({ ...body, min_tokens: 20 }, 16)).param, 'min_tokens');
  // Seeds drawn for clients that give none are uint32 and not constant.
  const drawn = new Set(Array.from({ length: 8 }, () => resolveSeed(undefined)));
  assert.ok(drawn.size > 1);
  for (const d of drawn) assert.ok(Number.isInteger(d) && d >= 0 && d < 2 ** 32);
});

test('chat messages: parts joined, developer becomes system', () => {
  const body = parseOrThrow(chatRequestSchema, {
    model: 'm',
    messages: [
      { role: 'developer', content: 'be brief' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      },
      { role: 'assistant', content: null },
    ],
  });
  assert.deepEqual(templateMessages(body.messages, undefined, toolConventions(undefined), undefined), [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'ab' },
    { role: 'assistant', content: '' },
  ]);
});
