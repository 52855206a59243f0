// /v1/responses through the real cluster (gateway, Redis, scheduler, workers with the engine), driven by the
// official openai client: responses.create and responses.stream with text, with a json_schema text.format
// (responses.parse with a zod schema), and a function tool round trip continued by previous_response_id,
// every body and stream event validated against OpenAI's spec. Two models: stories260K (text, constrained
// JSON) and a scripted model with Qwen3's template whose greedy output is a known reasoning + tool call.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { at } from '@loom/common';
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { responseEventSchema } from '@loom/gateway/testing';
import { STORIES_F32, startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';
import { writeQwen3ScriptedModel, type ScriptedModel } from '../fixtures/scripted-model.js';
import { openAiSpec } from '../fixtures/openai-spec.js';

const STORIES = 'stories260K-f32';
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
  'is"}}',
  '\n</tool_call>',
];
const ANSWER = ['It is', ' 21 degrees', ' in Paris.'];
const TOOL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

describe('/v1/responses end to end (the official client)', () => {
  let dir: string;
  let scripted: ScriptedModel;
  let cluster: LocalCluster;
  let client: OpenAI;
  const { valid } = openAiSpec();
  /** Greedy, starting the scripted model's chain `k` (vLLM-style extras the client passes through). */
  const pick = (k: number) => ({ temperature: 0, logit_bias: { [String(at(scripted.heads, k))]: 50 } }) as object;
  /** Every event of a stream checked against its own schema and numbered in order. */
  const checkedEvents = async (stream: AsyncIterable<OpenAI.Responses.ResponseStreamEvent>) => {
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const ev of stream) {
      valid(responseEventSchema(ev.type), ev);
      assert.equal(ev.sequence_number, events.length);
      events.push(ev);
    }
    return events;
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'loom-responses-'));
    scripted = writeQwen3ScriptedModel(dir, [THINK_AND_CALL, ANSWER]);
    cluster = await startLocalCluster({ models: [STORIES_F32(), scripted.file] });
    client = new OpenAI({ baseURL: cluster.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('text: create equals chat for the same conversation; stream deltas join to the same text', async () => {
    const input = 'Once upon a time';
    const params = { model: STORIES, instructions: 'Tell a story.', temperature: 0, max_output_tokens: 24 };
    const created = await client.responses.create({ ...params, input });
    valid('Response', created);
    const chat = await client.chat.completions.create({
      model: STORIES,
      messages: [
        { role: 'system', content: 'Tell a story.' },
        { role: 'user', content: input },
      ],
      temperature: 0,
      max_tokens: 24,
    });
    assert.ok(created.output_text.length > 0);
    assert.equal(created.output_text, at(chat.choices, 0).message.content);
    assert.equal(created.usage!.input_tokens, chat.usage!.prompt_tokens);
    // 24 tokens and stories never stops on its own that soon: cut off, as OpenAI says it.
    assert.equal(created.status, 'incomplete');
    assert.deepEqual(created.incomplete_details, { reason: 'max_output_tokens' });

    const stream = client.responses.stream({ ...params, input });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const events = await checkedEvents(stream);
    const final = await stream.finalResponse();
    valid('Response', final);
    assert.equal(deltas.join(''), created.output_text);
    assert.equal(final.output_text, created.output_text);
    assert.deepEqual(
      events.slice(0, 4).map((e) => e.type),
      ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added'],
    );
    assert.equal(events.at(-1)!.type, 'response.incomplete');
    // Stored by default: retrievable by id, and equal to what the stream ended with.
    // (The client's parse adds `parsed: null` to the stream's parts; the ids and text are the server's.)
    const got = await client.responses.retrieve(final.id);
    valid('Response', got);
    assert.deepEqual(
      got.output.map((i) => i.id),
      final.output.map((i) => i.id),
    );
    assert.equal(got.output_text, final.output_text);
  });

  test('a stream its client abandons is stored incomplete, with the text streamed so far', async () => {
    // ignore_eos: stories would otherwise stop by itself long before the client hangs up.
    const stream = await client.responses.create({
      model: STORIES,
      input: 'Once upon a time',
      max_output_tokens: 400,
      stream: true,
      ignore_eos: true,
    } as OpenAI.Responses.ResponseCreateParamsStreaming);
    let id = '';
    let seen = '';
    for await (const ev of stream) {
      valid(responseEventSchema(ev.type), ev);
      if (ev.type === 'response.created') id = ev.response.id;
      if (ev.type === 'response.output_text.delta') seen += ev.delta;
      if (seen.length > 0) break; // leaving the loop aborts the request
    }
    let got = await client.responses.retrieve(id).catch(() => undefined);
    for (let i = 0; i < 100 && got === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      got = await client.responses.retrieve(id).catch(() => undefined);
    }
    assert.ok(got, 'the abandoned response is stored');
    valid('Response', got);
    assert.equal(got.status, 'incomplete');
    assert.ok(got.output_text.startsWith(seen), `${JSON.stringify(got.output_text)} continues what was streamed`);
    assert.ok(got.usage!.output_tokens < 400, 'generation stopped when the client left');
  });

  test('text.format json_schema: responses.parse with a zod schema, sampled, several seeds; and streamed', async () => {
    const Pet = z.object({
      name: z.string().max(12),
      kind: z.enum(['cat', 'dog', 'bird']),
      age: z.number().int().min(0).max(20),
    });
    const format = zodTextFormat(Pet, 'pet');
    const seeds = [1, 2, 3, 4];
    const parsed = await Promise.all(
      seeds.map((seed) =>
        client.responses.parse({
          model: STORIES,
          input: 'Tell me about a pet.',
          text: { format },
          temperature: 1,
          max_output_tokens: 200,
          ...({ seed } as object),
        }),
      ),
    );
    parsed.forEach((r, i) => {
      valid('Response', { ...r, output_parsed: undefined });
      assert.equal(r.status, 'completed', `seed ${seeds[i]}: ${r.output_text}`);
      assert.deepEqual(Pet.parse(r.output_parsed), r.output_parsed);
    });
    assert.ok(new Set(parsed.map((r) => r.output_text)).size > 1, 'the seeds sample differently');

    const stream = client.responses.stream({
      model: STORIES,
      input: 'Tell me about a pet.',
      text: { format },
      temperature: 1,
      max_output_tokens: 200,
    });
    await checkedEvents(stream);
    const final = await stream.finalResponse();
    assert.deepEqual(Pet.parse(JSON.parse(final.output_text)), final.output_parsed);
  });

  test('a function tool round trip: the call streamed, its output sent back with previous_response_id', async () => {
    const model = path.basename(scripted.file).replace(/\.gguf$/, '');
    const stream = client.responses.stream({
      model,
      input: 'Weather in Paris?',
      tools: [TOOL],
      ...pick(0),
    } as OpenAI.Responses.ResponseCreateParamsStreaming);
    const argDeltas: string[] = [];
    stream.on('response.function_call_arguments.delta', (e) => argDeltas.push(e.delta));
    const events = await checkedEvents(stream);
    const first = await stream.finalResponse();
    valid('Response', first);
    assert.deepEqual(
      first.output.map((i) => i.type),
      ['reasoning', 'function_call'],
    );
    assert.ok(events.some((e) => e.type === 'response.reasoning_text.delta'));
    const reasoning = first.output[0] as OpenAI.Responses.ResponseReasoningItem;
    assert.equal(at(reasoning.content!, 0).text, '\nThe user wants the weather in Paris.\n');
    const call = first.output[1] as OpenAI.Responses.ResponseFunctionToolCall;
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
    assert.ok(argDeltas.length >= 3, JSON.stringify(argDeltas));
    assert.equal(argDeltas.join(''), call.arguments);
    assert.ok(first.usage!.output_tokens_details.reasoning_tokens >= 3);

    const output = JSON.stringify({ temperature: 21 });
    const second = await client.responses.create({
      model,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output }],
      tools: [TOOL],
      ...pick(1),
    } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    valid('Response', second);
    assert.equal(second.output_text, 'It is 21 degrees in Paris.');
    assert.equal(second.previous_response_id, first.id);
    // The prompt was the whole conversation through Qwen3's template: the same as chat renders it.
    const rendered = await fetch(cluster.baseURL.replace(/\/v1$/, '') + '/tokenize', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: null,
            reasoning_content: at(reasoning.content!, 0).text,
            tool_calls: [
              { id: call.call_id, type: 'function', function: { name: call.name, arguments: call.arguments } },
            ],
          },
          { role: 'tool', tool_call_id: call.call_id, content: output },
        ],
        tools: [
          {
            type: 'function',
            function: { name: TOOL.name, description: TOOL.description, parameters: TOOL.parameters, strict: false },
          },
        ],
      }),
    });
    assert.equal(rendered.status, 200);
    assert.equal(second.usage!.input_tokens, ((await rendered.json()) as { count: number }).count);
    const items = await client.responses.inputItems.list(second.id);
    assert.deepEqual(
      items.data.map((i) => i.type),
      ['function_call_output'],
    );

    await client.responses.delete(first.id);
    await assert.rejects(
      client.responses.retrieve(first.id),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 404,
    );
    await assert.rejects(
      client.responses.create({ model, previous_response_id: first.id, input: 'again' }),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 404 && e.param === 'previous_response_id',
    );
  });
});
