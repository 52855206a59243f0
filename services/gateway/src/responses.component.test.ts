import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { at, configFromEnv } from '@loom/common';
import { startRedis, type RedisHandle } from '@loom/testing';
import { startGateway, type RunningGateway } from './gateway.js';
import { chatTemplateFixture } from './testing/chat-template-fixture.js';
import { FakeBackend, scriptedText } from './testing/fake-backend.js';
import { modelCardFromGguf } from './testing/model-card.js';
import { openAiSchemaValidator } from './testing/openai-schema.js';
import { responseEventSchema } from './testing/response-event-schema.js';
import { OPENAI_SPEC, STORIES_GGUF } from './testing/spec-path.js';

const validate = openAiSchemaValidator(OPENAI_SPEC);
const valid = (schema: string, value: unknown) => assert.deepEqual(validate(schema, value), [], schema);
const stories = modelCardFromGguf(STORIES_GGUF, 'stories260K');
// The same vocabulary with Qwen3's template: its parsers read `<think>` and Hermes `<tool_call>`.
// (A longer context: the template describes the tools in the prompt.)
const qwen = {
  ...stories,
  modelId: 'qwen3ish',
  contextLength: 4096,
  chatTemplate: chatTemplateFixture('Qwen-Qwen3-0.6B'),
};

const TOOLS = [
  {
    type: 'function',
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
];
const THINK_AND_CALL = [
  '<think>',
  'Weather, so',
  ' a call.',
  '</think>\n\n',
  '<tool_call>\n{"name": "get_weather", ',
  '"arguments": {"city": "Par',
  'is"}}\n</tool_call>',
];

type Obj = Record<string, unknown>;
interface ResponseBody {
  id: string;
  status: string;
  output: Obj[];
  usage: { input_tokens: number; output_tokens: number; output_tokens_details: { reasoning_tokens: number } };
  incomplete_details: { reason: string } | null;
  previous_response_id: string | null;
}

describe('/v1/responses at the gateway (FakeBackend, real Redis for the store)', () => {
  const backend = new FakeBackend([stories, qwen]);
  let redis: RedisHandle;
  let gw: RunningGateway;
  const call = (method: string, route: string, body?: unknown, key = 'key-a') =>
    fetch(gw.url + route, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const create = async (body: Obj, key?: string): Promise<ResponseBody> => {
    const res = await call('POST', '/v1/responses', { model: 'stories260K', ...body }, key);
    const json = (await res.json()) as ResponseBody;
    assert.equal(res.status, 200, JSON.stringify(json));
    valid('Response', json);
    return json;
  };
  /** The stream's events, each checked against its own schema, its SSE name and its sequence number. */
  const stream = async (body: Obj): Promise<Obj[]> => {
    const res = await call('POST', '/v1/responses', { model: 'stories260K', stream: true, ...body });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const text = await res.text();
    assert.ok(!text.includes('[DONE]'), 'typed event streams end without [DONE]');
    const events: Obj[] = [];
    for (const block of text.split('\n\n').filter((b) => b.startsWith('event: '))) {
      const [eventLine, dataLine] = block.split('\n');
      const ev = JSON.parse(dataLine!.slice('data: '.length)) as Obj;
      assert.equal(eventLine, `event: ${String(ev.type)}`);
      assert.equal(ev.sequence_number, events.length);
      valid(responseEventSchema(ev.type as string), ev);
      events.push(ev);
    }
    return events;
  };
  const refused = async (body: Obj, status: number, param: string) => {
    const before = backend.submitted.length;
    const res = await call('POST', '/v1/responses', { model: 'stories260K', input: 'hi', ...body });
    const json = (await res.json()) as { error: { param: string } };
    assert.equal(res.status, status, JSON.stringify(json));
    valid('ErrorResponse', json);
    assert.equal(json.error.param, param);
    assert.equal(backend.submitted.length, before, 'nothing was queued');
  };
  const detokenize = async (tokens: number[], model = 'stories260K') =>
    ((await (await call('POST', '/detokenize', { model, tokens })).json()) as { prompt: string }).prompt;

  before(async () => {
    redis = await startRedis();
    gw = await startGateway(
      configFromEnv(
        {},
        { host: '127.0.0.1', port: 0, logLevel: 'silent', redisUrl: redis.url, apiKeys: 'key-a,key-b' },
      ),
      { backend },
    );
  });
  after(async () => {
    await gw?.close();
    await redis?.stop();
  });

  test('text input with instructions: a Response with one message; stored, retrieved, listed, deleted', async () => {
    backend.script = scriptedText(['Once', ' upon', ' a time.'], 'stop');
    const r = await create({
      input: 'Tell a story.',
      instructions: 'Be brief.',
      temperature: 0.5,
      metadata: { a: 'b' },
    });
    assert.match(r.id, /^resp_/);
    assert.equal(r.status, 'completed');
    assert.equal(r.output.length, 1);
    const msg = r.output[0] as { type: string; role: string; content: { type: string; text: string }[] };
    assert.deepEqual(
      [msg.type, msg.role, at(msg.content, 0).type, at(msg.content, 0).text],
      ['message', 'assistant', 'output_text', 'Once upon a time.'],
    );
    assert.equal(r.usage.output_tokens, 3);
    assert.equal(r.usage.input_tokens, backend.submitted.at(-1)!.promptTokenIds.length);
    const prompt = await detokenize(backend.submitted.at(-1)!.promptTokenIds);
    assert.ok(prompt.includes('Be brief.') && prompt.includes('Tell a story.'), prompt);
    assert.equal(backend.submitted.at(-1)!.sampling.temperature, 0.5);

    const got = await call('GET', `/v1/responses/${r.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(await got.json(), r);
    const items = await call('GET', `/v1/responses/${r.id}/input_items`);
    const list = (await items.json()) as { data: { content: { text: string }[] }[] };
    valid('ResponseItemList', list);
    assert.deepEqual(
      list.data.map((i) => at(i.content, 0).text),
      ['Tell a story.'],
    );
    assert.equal((await call('DELETE', `/v1/responses/${r.id}`)).status, 200);
    const gone = await call('GET', `/v1/responses/${r.id}`);
    assert.equal(gone.status, 404);
    valid('ErrorResponse', await gone.json());
  });

  test('store: false keeps nothing; another API key cannot see or continue a stored response', async () => {
    backend.script = scriptedText(['Hi.'], 'stop');
    const unstored = await create({ input: 'x', store: false });
    assert.equal((await call('GET', `/v1/responses/${unstored.id}`)).status, 404);
    const mine = await create({ input: 'x' });
    assert.equal((await call('GET', `/v1/responses/${mine.id}`, undefined, 'key-b')).status, 404);
    assert.equal((await call('DELETE', `/v1/responses/${mine.id}`, undefined, 'key-b')).status, 404);
    assert.equal((await call('GET', `/v1/responses/${mine.id}`)).status, 200);
    const res = await call(
      'POST',
      '/v1/responses',
      { model: 'stories260K', input: 'y', previous_response_id: mine.id },
      'key-b',
    );
    assert.equal(res.status, 404);
    const err = (await res.json()) as { error: { param: string } };
    valid('ErrorResponse', err);
    assert.equal(err.error.param, 'previous_response_id');
    await refused({ previous_response_id: 'resp_nope' }, 404, 'previous_response_id');
  });

  test('previous_response_id: the earlier input and output come first in the prompt', async () => {
    backend.script = scriptedText(['The cat sat.'], 'stop');
    const first = await create({ input: 'Say something.', instructions: 'Only for turn one.' });
    backend.script = scriptedText(['Yes.'], 'stop');
    const second = await create({ input: 'And then?', previous_response_id: first.id });
    assert.equal(second.previous_response_id, first.id);
    const prompt = await detokenize(backend.submitted.at(-1)!.promptTokenIds);
    const order = ['Say something.', 'The cat sat.', 'And then?'].map((s) => prompt.indexOf(s));
    assert.ok(
      order.every((i, k) => i >= 0 && (k === 0 || i > at(order, k - 1))),
      prompt,
    );
    assert.ok(!prompt.includes('Only for turn one.'), 'instructions are not carried over, as OpenAI does');
  });

  test('streaming: OpenAI event sequence, the last event carrying the same Response as the body', async () => {
    backend.script = scriptedText(['Once', ' upon', ' a time.'], 'stop');
    const events = await stream({ input: 'Tell a story.' });
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    const done = events.at(-1)!.response as ResponseBody;
    valid('Response', done);
    assert.equal(at(at(done.output, 0).content as { text: string }[], 0).text, 'Once upon a time.');
    const stored = (await (await call('GET', `/v1/responses/${done.id}`)).json()) as ResponseBody;
    assert.deepEqual(stored, done);
  });

  test('max_output_tokens reached: status incomplete, response.incomplete with its reason', async () => {
    backend.script = scriptedText(['a', 'b'], 'length');
    const r = await create({ input: 'x', max_output_tokens: 2 });
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(backend.submitted.at(-1)!.sampling.maxTokens, 2);
    const events = await stream({ input: 'x', max_output_tokens: 2 });
    assert.equal(events.at(-1)!.type, 'response.incomplete');
    assert.equal((events.at(-1)!.response as ResponseBody).status, 'incomplete');
  });

  test('reasoning and a tool call: items, events, and the function_call_output round trip', async () => {
    backend.script = scriptedText(THINK_AND_CALL, 'stop');
    const r = await create({ model: 'qwen3ish', input: 'Weather in Paris?', tools: TOOLS });
    assert.deepEqual(
      r.output.map((i) => i.type),
      ['reasoning', 'function_call'],
    );
    assert.equal(at(at(r.output, 0).content as { text: string }[], 0).text, 'Weather, so a call.');
    const fc = r.output[1] as { name: string; arguments: string; call_id: string };
    assert.equal(fc.name, 'get_weather');
    assert.deepEqual(JSON.parse(fc.arguments), { city: 'Paris' });
    assert.ok(r.usage.output_tokens_details.reasoning_tokens >= 2);

    const events = await stream({ model: 'qwen3ish', input: 'Weather in Paris?', tools: TOOLS });
    const types = events.map((e) => e.type);
    assert.ok(types.includes('response.reasoning_text.delta'));
    const argDeltas = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta);
    assert.ok(argDeltas.length >= 2, JSON.stringify(argDeltas));
    const argsDone = events.find((e) => e.type === 'response.function_call_arguments.done')!;
    assert.equal(argDeltas.join(''), argsDone.arguments);
    assert.equal(argsDone.name, 'get_weather');

    backend.script = scriptedText(['It is 21 degrees.'], 'stop');
    const next = await create({
      model: 'qwen3ish',
      previous_response_id: r.id,
      input: [{ type: 'function_call_output', call_id: fc.call_id, output: '{"temperature": 21}' }],
      tools: TOOLS,
    });
    assert.equal(at(next.output, 0).type, 'message');
    const prompt = await detokenize(backend.submitted.at(-1)!.promptTokenIds, 'qwen3ish');
    assert.ok(prompt.includes('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}'), prompt);
    assert.ok(prompt.includes('<tool_response>\n{"temperature": 21}\n</tool_response>'), prompt);
  });

  test("reasoning.effort reaches the template: 'none' switches Qwen3's thinking off", async () => {
    backend.script = scriptedText(['Hi.'], 'stop');
    const prompt = async (reasoning?: object) => {
      await create({ model: 'qwen3ish', input: 'x', ...(reasoning ? { reasoning } : {}) });
      return detokenize(backend.submitted.at(-1)!.promptTokenIds, 'qwen3ish');
    };
    assert.ok(!(await prompt()).includes('<think>'));
    assert.ok((await prompt({ effort: 'none' })).endsWith('<think>\n\n</think>\n\n'));
  });

  test('text.format and forced tool_choice decode under a constraint; a bad one is a 400 naming it', async () => {
    backend.script = scriptedText(['{"a": 1}'], 'stop');
    const schema = { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] };
    await create({ input: 'x', text: { format: { type: 'json_schema', name: 'x', schema, strict: true } } });
    assert.deepEqual(backend.submitted.at(-1)!.sampling.structuredOutput, {
      type: 'json_schema',
      schema: JSON.stringify(schema),
      strict: true,
    });
    await create({ input: 'x', text: { format: { type: 'json_object' } } });
    assert.deepEqual(backend.submitted.at(-1)!.sampling.structuredOutput, { type: 'json_object' });
    await refused(
      { text: { format: { type: 'json_schema', name: 'x', schema: { type: 'foo' } } } },
      400,
      'text.format',
    );

    backend.script = scriptedText(['{"city": "Oslo"}'], 'stop');
    const forced = await create({ input: 'x', tools: TOOLS, tool_choice: { type: 'function', name: 'get_weather' } });
    assert.equal(backend.submitted.at(-1)!.sampling.structuredOutput!.type, 'json_schema');
    assert.deepEqual(
      forced.output.map((i) => [i.type, i.name, i.arguments]),
      [['function_call', 'get_weather', '{"city": "Oslo"}']],
    );
  });

  test('what Loom does not do is a 400 naming the parameter; nothing is queued', async () => {
    await refused({ background: true }, 400, 'background');
    await refused({ tools: [{ type: 'web_search' }] }, 400, 'tools[0].type');
    await refused({ tools: [{ type: 'function', name: 'bad name' }] }, 400, 'tools[0].name');
    await refused({ tools: TOOLS, tool_choice: { type: 'function', name: 'nope' } }, 400, 'tool_choice');
    await refused({ tool_choice: { type: 'web_search_preview' } }, 400, 'tool_choice');
    await refused({ input: [{ type: 'item_reference', id: 'x' }] }, 400, 'input[0].type');
    await refused(
      { input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'http://x' }] }] },
      400,
      'input[0].content[0].type',
    );
    await refused({ input: [{ type: 'function_call', name: 'f' }] }, 400, 'input[0].call_id');
    await refused({ include: ['reasoning.encrypted_content'] }, 400, 'include');
    await refused(
      { text: { format: { type: 'json_object' } }, tools: TOOLS, tool_choice: 'required' },
      400,
      'tool_choice',
    );
    await refused({ max_output_tokens: 100_000 }, 400, 'input');
  });

  test('tool lists past the documented limits are a 400 naming the parameter, on responses and chat', async () => {
    let deep: Obj = { type: 'string' };
    for (let d = 0; d < 70; d++) deep = { type: 'object', properties: { x: deep } };
    await refused({ tools: [{ ...TOOLS[0], parameters: deep }] }, 400, 'tools[0].parameters');
    const wordy = (i: number) => ({ ...TOOLS[0], name: `f${i}`, description: 'x'.repeat(3000) });
    await refused({ tools: Array.from({ length: 100 }, (_, i) => wordy(i)) }, 400, 'tools');
    // Forced: the call's schema meets the structured-output limits before anything compiles.
    const oneOf = { oneOf: [{ type: 'string' }, { type: 'integer' }] };
    await refused(
      {
        tools: [{ ...TOOLS[0], parameters: { type: 'object', properties: { a: oneOf } } }],
        tool_choice: 'required',
      },
      400,
      'tools',
    );
    const chat = await call('POST', '/v1/chat/completions', {
      model: 'stories260K',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: deep } }],
    });
    const err = (await chat.json()) as { error: { param: string } };
    assert.equal(chat.status, 400);
    assert.equal(err.error.param, 'tools[0].function.parameters');
  });
});
