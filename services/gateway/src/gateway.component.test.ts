import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Tokenizer } from '@loom/tokenizer';
import { assertValid } from './testing/assert-valid.js';
import { FakeBackend, scriptedText } from './testing/fake-backend.js';
import { modelCardFromGguf } from './testing/model-card.js';
import { STORIES_GGUF } from './testing/spec-path.js';
import { parseSse } from './testing/sse-parse.js';
import { useFakeGateway } from './testing/use-fake-gateway.js';

const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');

/** Response bodies are checked against the spec, then read freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();

/**
 * The gateway's HTTP layer against a FakeBackend: requests in, jobs out, events back as OpenAI bodies
 * and streams. Logprobs: gateway-logprobs.component.test.ts; errors, back-pressure and clients that
 * leave: gateway-failures.component.test.ts.
 */
describe('gateway HTTP layer against a FakeBackend', () => {
  const backend = new FakeBackend([card]);
  const gw = useFakeGateway({ backend, keepAliveMs: 40, bodyLimit: 64 * 1024 });
  const { post } = gw;

  test('non-streaming completion: body, usage, job, X-Request-Id echo', async () => {
    backend.script = scriptedText([' there', ' was', ' a', ' girl'], 'length');
    const res = await post(
      '/v1/completions',
      { model: 'stories260K', prompt: 'Once upon a time', max_tokens: 4, stop: ['\n'] },
      { 'x-request-id': 'client-42' },
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'client-42');
    const body = await json(res);
    assertValid('CreateCompletionResponse', body);
    assert.equal(body.object, 'text_completion');
    assert.match(body.id, /^cmpl-/);
    assert.equal(body.choices[0].text, ' there was a girl');
    assert.equal(body.choices[0].finish_reason, 'length');
    const job = backend.submitted.at(-1)!;
    assert.equal(job.requestId, body.id);
    const expectedIds = Tokenizer.fromData(card.tokenizer).encode('Once upon a time', {
      addSpecial: true,
      parseSpecial: true,
    });
    assert.equal(expectedIds[0], card.tokenizer.bosTokenId, 'stories260K adds BOS, as llama.cpp does');
    assert.deepEqual(job.promptTokenIds, expectedIds);
    assert.deepEqual(body.usage, {
      prompt_tokens: expectedIds.length,
      completion_tokens: 4,
      total_tokens: expectedIds.length + 4,
      // The fake backend's finish events report no prefix-cache hit.
      prompt_tokens_details: { cached_tokens: 0 },
    });
    assert.equal(job.sampling.maxTokens, 4);
    assert.deepEqual(job.sampling.stop, ['\n']);
    assert.ok(Number.isInteger(job.sampling.seed) && job.sampling.seed >= 0 && job.sampling.seed < 2 ** 32);
  });

  test('token-id prompts and echo', async () => {
    backend.script = scriptedText([' upon']);
    const res = await post('/v1/completions', { model: 'stories260K', prompt: [1, 403], echo: true, seed: 7 });
    const body = await json(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    assertValid('CreateCompletionResponse', body);
    assert.deepEqual(backend.submitted.at(-1)!.promptTokenIds, [1, 403]);
    assert.equal(backend.submitted.at(-1)!.sampling.seed, 7);
    assert.equal(backend.submitted.at(-1)!.sampling.maxTokens, 16);
    assert.ok(
      body.choices[0].text.endsWith(' upon') && body.choices[0].text.length > ' upon'.length,
      body.choices[0].text,
    );
  });

  test('streaming completion: chunks, usage, [DONE], keep-alives before the first token', async () => {
    backend.script = (job) => [
      { event: { type: 'token', index: 0, tokenIds: [5], text: ' there' }, delayMs: 150 },
      { event: { type: 'token', index: 0, tokenIds: [6, 7], text: ' was a' } },
      {
        event: {
          type: 'finish',
          index: 0,
          finishReason: 'stop',
          stopReason: '\n',
          promptTokens: job.promptTokenIds.length,
          completionTokens: 3,
        },
      },
    ];
    const res = await post('/v1/completions', {
      model: 'stories260K',
      prompt: 'Once',
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
    const { data, comments } = parseSse(await res.text());
    assert.ok(comments >= 1, 'keep-alive comments while waiting for the first token');
    assert.equal(data.at(-1), '[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    for (const c of chunks) assertValid('CreateCompletionResponse', completionChunkForSpec(c));
    assert.deepEqual(
      chunks.slice(0, 2).map((c) => c.choices[0].finish_reason),
      [null, null],
    );
    assert.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), ' there was a');
    assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
    const usage = chunks.at(-1);
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.usage.completion_tokens, 3);
    assert.equal(usage.usage.prompt_tokens, backend.submitted.at(-1)!.promptTokenIds.length);
  });

  test('chat, streaming and not, with n = 2', async () => {
    backend.script = scriptedText(['Hi', ' there']);
    const messages = [
      { role: 'system', content: 'You tell stories.' },
      { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
    ];
    const res = await post('/v1/chat/completions', { model: 'stories260K', messages, n: 2, max_completion_tokens: 8 });
    const body = await json(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    assertValid('CreateChatCompletionResponse', body);
    assert.match(body.id, /^chatcmpl-/);
    assert.deepEqual(
      body.choices.map((c: { message: { content: string } }) => c.message.content),
      ['Hi there', 'Hi there'],
    );
    assert.equal(body.usage.completion_tokens, 4);
    assert.equal(backend.submitted.at(-1)!.n, 2);
    assert.equal(backend.submitted.at(-1)!.sampling.maxTokens, 8);

    const s = await post('/v1/chat/completions', { model: 'stories260K', messages, stream: true });
    const { data } = parseSse(await s.text());
    assert.equal(data.at(-1), '[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    for (const c of chunks) assertValid('CreateChatCompletionStreamResponse', c);
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), 'Hi there');
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
    // Without a limit the completion may use the rest of the context window.
    const job = backend.submitted.at(-1)!;
    assert.equal(job.sampling.maxTokens, card.contextLength - job.promptTokenIds.length);
  });

  test('models, tokenize, detokenize, health, version, metrics', async () => {
    const list = await json(await fetch(gw.url + '/v1/models'));
    assertValid('ListModelsResponse', list);
    assert.deepEqual(
      list.data.map((m: { id: string }) => m.id),
      ['stories260K'],
    );
    assert.equal(list.data[0].max_model_len, card.contextLength);
    const one = await fetch(gw.url + '/v1/models/stories260K');
    assertValid('Model', await json(one));
    const missing = await fetch(gw.url + '/v1/models/nope');
    assert.equal(missing.status, 404);
    assertValid('ErrorResponse', await json(missing));

    const tok = await json(await post('/tokenize', { model: 'stories260K', prompt: 'Once upon a time' }));
    assert.equal(tok.count, tok.tokens.length);
    assert.equal(tok.tokens[0], card.tokenizer.bosTokenId);
    assert.equal(tok.max_model_len, card.contextLength);
    const detok = await json(await post('/detokenize', { model: 'stories260K', tokens: tok.tokens.slice(1) }));
    assert.equal(detok.prompt.trim(), 'Once upon a time');
    const bad = await post('/detokenize', { model: 'stories260K', tokens: [100000] });
    assert.equal((await json(bad)).error.param, 'tokens');

    assert.equal((await fetch(gw.url + '/health')).status, 200);
    backend.pingFails = true;
    const down = await fetch(gw.url + '/health');
    backend.pingFails = false;
    assert.equal(down.status, 503);
    assert.match((await json(await fetch(gw.url + '/version'))).version, /^\d+\.\d+\.\d+/);
    // A 400 and a 404 of its own: the error series below exist whichever tests ran before.
    assert.equal((await post('/v1/completions', { model: 'stories260K', prompt: 'x', temperature: 5 })).status, 400);
    assert.equal((await post('/v1/completions', { model: 'nope', prompt: 'x' })).status, 404);
    const metrics = await (await fetch(gw.url + '/metrics')).text();
    assert.match(metrics, /loom_requests_accepted_total\{model_name="stories260K",endpoint="completions"\} \d+/);
    assert.match(metrics, /loom_time_to_first_token_seconds_count\{model_name="stories260K"\} [1-9]/);
    // vLLM's names, so vLLM dashboards and KEDA recipes work unchanged.
    assert.match(metrics, /vllm:time_to_first_token_seconds_count\{model_name="stories260K"\} [1-9]/);
    assert.match(metrics, /vllm:e2e_request_latency_seconds_count\{model_name="stories260K"\} [1-9]/);
    assert.match(metrics, /vllm:generation_tokens_total\{model_name="stories260K"\} [1-9]/);
    assert.match(
      metrics,
      /vllm:request_success_total\{model_name="stories260K",finished_reason="(stop|length)"\} [1-9]/,
    );
    assert.match(metrics, /loom_time_per_output_token_seconds_count\{model_name="stories260K"\} [1-9]/);
    assert.match(metrics, /loom_http_requests_total\{method="POST",route="\/v1\/completions",status="400"\} [1-9]/);
    assert.match(metrics, /loom_request_errors_total\{status="404",code="model_not_found"\} [1-9]/);
  });
});

describe('API keys', () => {
  const gw = useFakeGateway({ backend: new FakeBackend([card]) }, { apiKeys: 'key-one, key-two' });

  test('Bearer keys are required except on /health and /metrics', async () => {
    const models = (auth?: string) => fetch(gw.url + '/v1/models', { headers: auth ? { authorization: auth } : {} });
    for (const auth of [undefined, 'Bearer wrong', 'Basic key-one', 'Bearer key-one-and-more']) {
      const res = await models(auth);
      assert.equal(res.status, 401, String(auth));
      const err = await json(res);
      assertValid('ErrorResponse', err);
      assert.equal(err.error.code, 'invalid_api_key');
    }
    assert.equal((await models('Bearer key-one')).status, 200);
    assert.equal((await models('Bearer key-two')).status, 200);
    assert.equal((await fetch(gw.url + '/health')).status, 200);
    assert.equal((await fetch(gw.url + '/metrics')).status, 200);
  });
});

/**
 * OpenAI's spec gives streamed text_completion chunks the non-stream shape, where finish_reason is
 * a non-null enum; OpenAI's own streams (and vLLM's, and every client) use null until a choice
 * ends. Validate everything else about such a chunk.
 */
function completionChunkForSpec(c: { choices: { finish_reason: string | null }[] }) {
  return { ...c, choices: c.choices.map((ch) => ({ ...ch, finish_reason: ch.finish_reason ?? 'stop' })) };
}
