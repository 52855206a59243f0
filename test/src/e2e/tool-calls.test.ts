import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { at } from '@loom/common';
import OpenAI from 'openai';
import { Ajv } from 'ajv';
import { startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';
import { writeQwen3ScriptedModel, type ScriptedModel } from '../fixtures/scripted-model.js';
import { openAiSpec } from '../fixtures/openai-spec.js';

/** What the scripted model writes, one token per piece (see scripted-model.ts). */
const THINK_AND_CALL = [
  '<think>',
  '\nThe user wants the weather',
  ' in Paris.\n',
  '</think>',
  '\n\n',
  '<tool_call>',
  '\n{"name": "get_weather", ',
  '"arguments": {"city": ',
  '"Par',
  'is", "unit": "celsius"}}',
  '\n</tool_call>',
];
const ANSWER = ['Hello', '! How can I', ' help you today?'];
const TWO_CALLS = [
  'Let me check both.',
  '\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Lyon"}}\n</tool_call>',
  '\n<tool_call>\n{"name": "get_time", "arguments": {"zone": "Europe/Paris"}}\n</tool_call>',
];

const TOOLS: OpenAI.ChatCompletionFunctionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
        required: ['city'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_time',
      description: 'Local time in a zone',
      parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
    },
  },
];

type Chunk = OpenAI.ChatCompletionChunk & {
  choices: (OpenAI.ChatCompletionChunk.Choice & { delta: { reasoning_content?: string } })[];
};

/**
 * Tool calling and reasoning on the real stack: a real engine running a model whose greedy output is
 * scripted (Qwen3's chat template, its `<think>` and Hermes `<tool_call>` syntax), so what the gateway
 * parses is text a model really generated, token by token, through the scheduler and the output stream.
 */
describe('tool calls and reasoning end to end', () => {
  let dir: string;
  let model: ScriptedModel;
  let cluster: LocalCluster;
  let client: OpenAI;
  const { valid } = openAiSpec();
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
  /** Greedy, starting the scripted chain `k`. */
  const pick = (k: number) => ({ temperature: 0, logit_bias: { [String(at(model.heads, k))]: 50 } });
  const post = (route: string, body: unknown) =>
    fetch(cluster.baseURL.replace(/\/v1$/, '') + route, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  /** The raw SSE chunks of a streamed request, each checked against the spec. */
  const rawStream = async (body: object): Promise<Chunk[]> => {
    const res = await post('/v1/chat/completions', { model: cluster.model, stream: true, ...body });
    assert.equal(res.status, 200);
    const chunks: Chunk[] = [];
    for (const line of (await res.text()).split('\n')) {
      if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
      const chunk = JSON.parse(line.slice(6)) as Chunk;
      valid('CreateChatCompletionStreamResponse', chunk);
      chunks.push(chunk);
    }
    return chunks;
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'loom-tools-'));
    model = writeQwen3ScriptedModel(dir, [THINK_AND_CALL, ANSWER, TWO_CALLS]);
    cluster = await startLocalCluster({ model: model.file });
    client = new OpenAI({ baseURL: cluster.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the client's stream helper assembles a call streamed id and name first, then argument pieces", async () => {
    const stream = client.chat.completions.stream({
      model: cluster.model,
      messages,
      tools: TOOLS,
      stream_options: { include_usage: true },
      ...pick(0),
    });
    const argDeltas: string[] = [];
    stream.on('tool_calls.function.arguments.delta', (e) => argDeltas.push(e.arguments_delta));
    const done = await stream.finalChatCompletion();
    const choice = at(done.choices, 0);
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    const call = at(choice.message.tool_calls!, 0) as OpenAI.ChatCompletionMessageFunctionToolCall;
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris', unit: 'celsius' });
    assert.match(call.id, /^call_/);
    // The arguments came in the model's own pieces, not in one piece at the end.
    assert.ok(argDeltas.length >= 3, JSON.stringify(argDeltas));
    assert.equal(argDeltas.join(''), call.function.arguments);
    assert.ok(done.usage!.completion_tokens_details!.reasoning_tokens! >= 3);
  });

  test('stream and body agree, every chunk and the body valid per the spec', async () => {
    const body = { messages, tools: TOOLS, ...pick(0) };
    const chunks = await rawStream(body);
    const res = await post('/v1/chat/completions', { model: cluster.model, ...body });
    const full = (await res.json()) as OpenAI.ChatCompletion & {
      choices: { message: { reasoning_content?: string } }[];
    };
    valid('CreateChatCompletionResponse', full);

    let reasoning = '';
    let content = '';
    const calls: { id: string; name: string; arguments: string }[] = [];
    for (const c of chunks)
      for (const ch of c.choices) {
        reasoning += ch.delta.reasoning_content ?? '';
        content += ch.delta.content ?? '';
        for (const t of ch.delta.tool_calls ?? []) {
          if (t.id) {
            // A call opens with its id, type and name, and no arguments yet.
            assert.deepEqual([t.index, t.type, t.function?.arguments], [calls.length, 'function', '']);
            calls.push({ id: t.id, name: t.function!.name!, arguments: '' });
          } else at(calls, t.index).arguments += t.function!.arguments!;
        }
      }
    const m = at(full.choices, 0).message;
    assert.equal(reasoning, '\nThe user wants the weather in Paris.\n');
    assert.equal(m.reasoning_content, reasoning);
    assert.equal(content, '');
    assert.equal(m.content, null);
    assert.deepEqual(
      calls.map((c) => [c.name, c.arguments]),
      (m.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[]).map((c) => [
        c.function.name,
        c.function.arguments,
      ]),
    );
    assert.equal(at(calls, 0).arguments, '{"city": "Paris", "unit": "celsius"}');
    assert.equal(at(chunks.at(-1)!.choices, 0).finish_reason, 'tool_calls');
  });

  test('parallel calls, after a sentence of content', async () => {
    const res = await client.chat.completions.create({ model: cluster.model, messages, tools: TOOLS, ...pick(2) });
    valid('CreateChatCompletionResponse', res);
    const m = at(res.choices, 0).message;
    assert.equal(m.content, 'Let me check both.');
    const calls = m.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
    assert.deepEqual(
      calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]),
      [
        ['get_weather', { city: 'Lyon' }],
        ['get_time', { zone: 'Europe/Paris' }],
      ],
    );
    assert.notEqual(at(calls, 0).id, at(calls, 1).id);
  });

  test('a plain answer with tools offered is content, finish_reason stop', async () => {
    const res = await client.chat.completions.create({ model: cluster.model, messages, tools: TOOLS, ...pick(1) });
    assert.equal(at(res.choices, 0).message.content, 'Hello! How can I help you today?');
    assert.equal(at(res.choices, 0).message.tool_calls, undefined);
    assert.equal(at(res.choices, 0).finish_reason, 'stop');
  });

  test("tool_choice 'none': the call is text, reasoning is still split", async () => {
    const res = (await client.chat.completions.create({
      model: cluster.model,
      messages,
      tools: TOOLS,
      tool_choice: 'none',
      ...pick(0),
    })) as OpenAI.ChatCompletion & { choices: { message: { reasoning_content?: string } }[] };
    const m = at(res.choices, 0).message;
    assert.equal(m.tool_calls, undefined);
    assert.ok(m.content!.startsWith('<tool_call>\n{"name": "get_weather"'), m.content!);
    assert.equal(m.reasoning_content, '\nThe user wants the weather in Paris.\n');
    assert.equal(at(res.choices, 0).finish_reason, 'stop');
  });

  test('runTools: the call runs, and the assistant call and its result go back through the template', async () => {
    const seen: unknown[] = [];
    const runner = client.chat.completions.runTools({
      model: cluster.model,
      messages,
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather in a city',
            parameters: at(TOOLS, 0).function.parameters!,
            parse: JSON.parse,
            function: (args: unknown) => {
              seen.push(args);
              return { temperature: 21 };
            },
          },
        },
      ],
      maxChatCompletions: 2,
      ...pick(0),
    });
    await runner.done();
    assert.deepEqual(seen[0], { city: 'Paris', unit: 'celsius' });
    const sent = runner.messages;
    const assistant = sent.find((m) => m.role === 'assistant' && 'tool_calls' in m && m.tool_calls?.length);
    const result = sent.find((m) => m.role === 'tool');
    assert.ok(assistant && result, JSON.stringify(sent));
    // The follow-up request was rendered by Qwen3's template with the call and its result in it.
    const rendered = await post('/tokenize', { model: cluster.model, messages: sent.slice(0, 3), tools: TOOLS });
    assert.equal(rendered.status, 200);
    const { tokens } = (await rendered.json()) as { tokens: number[] };
    const text = ((await (await post('/detokenize', { model: cluster.model, tokens })).json()) as { prompt: string })
      .prompt;
    assert.ok(
      text.includes(
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>',
      ),
      text,
    );
    assert.ok(text.includes('<tool_response>\n{"temperature":21}\n</tool_response>'), text);
  });

  test('forced calls (a named function, required) are always valid calls: decoded under a JSON-schema constraint', async () => {
    const ajv = new Ajv({ strict: false });
    const validArgs = (name: string, args: string) =>
      ajv.validate(TOOLS.find((x) => x.function.name === name)!.function.parameters!, JSON.parse(args));
    // The scripted model is forced off its script: every token must keep the output valid JSON. Its
    // logits are flat there, so greedy would write whitespace or one string forever: a bias on JSON's
    // punctuation (closing quotes most) makes it finish, and the grammar decides everything else.
    const punctuation: Record<string, number> = { '"': 10, '}': 8, ']': 8, '{': 6, '[': 6, ':': 6, ',': 6 };
    const logit_bias = Object.fromEntries(
      Object.entries(punctuation).map(([ch, b]) => [String(model.byteToken(ch)), b]),
    );
    const base = { model: cluster.model, messages, tools: TOOLS, temperature: 0, max_tokens: 200, logit_bias };
    const named = await post('/v1/chat/completions', {
      ...base,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    assert.equal(named.status, 200);
    const body = (await named.json()) as OpenAI.ChatCompletion;
    valid('CreateChatCompletionResponse', body);
    const choice = at(body.choices, 0);
    // The grammar completed and the model stopped on its own (EOS), with one call and no content.
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls!.length, 1);
    const call = choice.message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    assert.equal(call.function.name, 'get_weather');
    assert.ok(validArgs('get_weather', call.function.arguments), call.function.arguments);
    const chunks = await rawStream({ ...base, tool_choice: 'required' });
    const streamed: { name: string; arguments: string }[] = [];
    for (const c of chunks)
      for (const d of c.choices[0]?.delta.tool_calls ?? []) {
        if (d.id) streamed.push({ name: d.function!.name!, arguments: '' });
        else at(streamed, d.index).arguments += d.function!.arguments!;
      }
    assert.ok(streamed.length >= 1);
    for (const s of streamed) {
      assert.ok(['get_weather', 'get_time'].includes(s.name), s.name);
      assert.ok(validArgs(s.name, s.arguments), JSON.stringify(s));
    }
    assert.equal(at(chunks.at(-1)!.choices, 0).finish_reason, 'tool_calls');
  });

  test('bad tools and tool_choice are a 400 naming the parameter', async () => {
    const bad = async (extra: object, param: string) => {
      const res = await post('/v1/chat/completions', { model: cluster.model, messages, ...extra });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { param: string } };
      valid('ErrorResponse', body);
      assert.equal(body.error.param, param);
    };
    await bad({ tools: TOOLS, tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice');
    await bad({ tools: TOOLS, tool_choice: 'required', response_format: { type: 'json_object' } }, 'tool_choice');
    await bad({ tools: [{ type: 'function', function: { name: 'has space' } }] }, 'tools[0].function.name');
    await bad(
      { tools: Array.from({ length: 129 }, (_, i) => ({ ...TOOLS[0], function: { name: `f${i}` } })) },
      'tools',
    );
  });
});
