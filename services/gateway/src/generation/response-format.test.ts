import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { chatFormat } from '../chat/chat-format.js';
import { completionFormat } from '../completions/completion-format.js';
import { openAiSchemaValidator } from '../testing/openai-schema.js';
import { OPENAI_SPEC } from '../testing/spec-path.js';
import { usageOf } from './response-format.js';
import { SseWriter } from './sse-writer.js';

const validate = openAiSchemaValidator(OPENAI_SPEC);
const ctx = { id: 'cmpl-1', created: 1700000000, model: 'm', n: 2 };
const usage = usageOf(5, 7);

test('completion chunks and body follow the spec', () => {
  const f = completionFormat(1);
  assert.deepEqual(f.openingChunks(ctx), []);
  const delta = f.deltaChunk(ctx, 1, ' there');
  assert.deepEqual(delta, { id: 'cmpl-1', object: 'text_completion', created: 1700000000, model: 'm', choices: [{ index: 1, text: ' there', logprobs: null, finish_reason: null }] });
  for (const chunk of [f.finishChunk(ctx, 0, 'length'), f.usageChunk(ctx, usage)]) assert.deepEqual(validate('CreateCompletionResponse', chunk), []);
  const body = f.body(ctx, [{ index: 0, text: 'a', finishReason: 'stop' }, { index: 1, text: 'b', finishReason: 'length' }], usage) as { choices: { text: string }[]; usage: object };
  assert.deepEqual(validate('CreateCompletionResponse', body), []);
  assert.deepEqual(body.usage, { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
  const echoed = completionFormat(1, ['Once']);
  assert.equal((echoed.body(ctx, [{ index: 0, text: ' upon', finishReason: 'stop' }], usage) as { choices: { text: string }[] }).choices[0]!.text, 'Once upon');
  assert.equal(echoed.openingChunks(ctx).length, 2);
});

test('chat chunks and body follow the spec', () => {
  const f = chatFormat();
  const opening = f.openingChunks(ctx) as { choices: { index: number; delta: object }[] }[];
  assert.deepEqual(opening.map((c) => [c.choices[0]!.index, c.choices[0]!.delta]), [[0, { role: 'assistant', content: '' }], [1, { role: 'assistant', content: '' }]]);
  for (const chunk of [...opening, f.deltaChunk(ctx, 0, 'hi'), f.finishChunk(ctx, 0, 'stop'), f.usageChunk(ctx, usage)]) {
    assert.deepEqual(validate('CreateChatCompletionStreamResponse', chunk), []);
  }
  const body = f.body(ctx, [{ index: 0, text: 'hello', finishReason: 'stop' }], usage);
  assert.deepEqual(validate('CreateChatCompletionResponse', body), []);
  assert.deepEqual((body as { choices: { message: object }[] }).choices[0]!.message, { role: 'assistant', content: 'hello', refusal: null });
});

test('the schema validator rejects what the spec forbids', () => {
  assert.notDeepEqual(validate('CreateCompletionResponse', { id: 'x', created: 1, model: 'm', choices: [] }), []);
  assert.notDeepEqual(validate('CreateChatCompletionStreamResponse', { ...chatFormat().deltaChunk(ctx, 0, 'x'), object: 'chat.completion' }), []);
  assert.notDeepEqual(validate('ErrorResponse', { error: { message: 'm', type: 't' } }), []);
  assert.throws(() => validate('NoSuchSchema', {}), /NoSuchSchema/);
});

/** Just enough of a ServerResponse to record what SseWriter writes. */
function recorder() {
  const out: string[] = [];
  let head: [number, object] | undefined;
  const res = {
    writableEnded: false,
    destroyed: false,
    writeHead(status: number, headers: object) {
      head = [status, headers];
      return res;
    },
    flushHeaders() {},
    write(s: string) {
      out.push(s);
      return true;
    },
    end() {
      res.writableEnded = true;
    },
  };
  return { res: res as unknown as ServerResponse, out, head: () => head };
}

test('SseWriter: data events, keep-alive comments while idle, [DONE]', async () => {
  const r = recorder();
  const sse = new SseWriter(r.res, 20);
  sse.open({ 'x-request-id': 'abc' });
  assert.equal(r.head()![0], 200);
  assert.match(String((r.head()![1] as Record<string, string>)['content-type']), /^text\/event-stream/);
  assert.equal((r.head()![1] as Record<string, string>)['x-request-id'], 'abc');
  await new Promise((res) => setTimeout(res, 75));
  const keepAlives = r.out.filter((s) => s === ': keep-alive\n\n').length;
  assert.ok(keepAlives >= 2, `expected keep-alives while idle, got ${keepAlives}`);
  sse.send({ a: 1 });
  sse.done();
  assert.deepEqual(r.out.slice(-2), ['data: {"a":1}\n\n', 'data: [DONE]\n\n']);
  const n = r.out.length;
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(r.out.length, n, 'nothing is written after the end');
});
