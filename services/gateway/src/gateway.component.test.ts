import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { configFromEnv, type LoomConfig } from '@loom/common';
import { Tokenizer } from '@loom/tokenizer';
import { startGateway, type RunningGateway } from './gateway.js';
import { FakeBackend, scriptedText } from './testing/fake-backend.js';
import { modelCardFromGguf } from './testing/model-card.js';
import { echoNullsFilled } from './testing/echo-nulls-filled.js';
import { openAiSchemaValidator } from './testing/openai-schema.js';
import { OPENAI_SPEC, STORIES_GGUF } from './testing/spec-path.js';
import { parseSse } from './testing/sse-parse.js';
import { waitUntil } from './testing/wait-until.js';

const validate = openAiSchemaValidator(OPENAI_SPEC);
const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');
const config = (over: Partial<LoomConfig> = {}): LoomConfig =>
  configFromEnv({}, { host: '127.0.0.1', port: 0, logLevel: 'silent', ...over });

/** Response bodies are checked against the spec, then read freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();

function assertValid(schema: string, value: unknown): void {
  assert.deepEqual(validate(schema, value), [], `${schema}: ${JSON.stringify(value)}`);
}

describe('gateway HTTP layer against a FakeBackend', () => {
  const backend = new FakeBackend([card]);
  let gw: RunningGateway;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(gw.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  before(async () => {
    gw = await startGateway(config(), { backend, keepAliveMs: 40, bodyLimit: 64 * 1024 });
  });
  after(async () => {
    await gw.close();
  });

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

  test('logprobs: requested top-N reaches the job; token texts, alternatives and offsets come back', async () => {
    const tok = Tokenizer.fromData(card.tokenizer);
    const [a, b] = tok.encode(' Once upon', { addSpecial: false });
    backend.script = (job) => [
      {
        event: {
          type: 'token',
          index: 0,
          tokenIds: [a!],
          text: tok.tokenToPiece(a!),
          logprobs: [
            {
              tokenId: a!,
              logprob: -0.5,
              top: [
                { tokenId: a!, logprob: -0.5 },
                { tokenId: b!, logprob: -1.5 },
                { tokenId: 5, logprob: -9 },
              ],
            },
          ],
        },
      },
      {
        event: {
          type: 'token',
          index: 0,
          tokenIds: [b!],
          text: tok.tokenToPiece(b!),
          logprobs: [{ tokenId: b!, logprob: -0.25, top: [{ tokenId: b!, logprob: -0.25 }] }],
        },
      },
      {
        event: {
          type: 'finish',
          index: 0,
          finishReason: 'stop',
          promptTokens: job.promptTokenIds.length,
          completionTokens: 2,
        },
      },
    ];
    const res = await post('/v1/completions', { model: 'stories260K', prompt: 'x', logprobs: 2 });
    const body = await json(res);
    assertValid('CreateCompletionResponse', body);
    assert.equal(backend.submitted.at(-1)!.sampling.logprobs, 2);
    const lp = body.choices[0].logprobs;
    assert.deepEqual(lp.tokens, [tok.tokenToPiece(a!), tok.tokenToPiece(b!)]);
    assert.deepEqual(lp.token_logprobs, [-0.5, -0.25]);
    assert.equal(Object.keys(lp.top_logprobs[0]).length, 2, 'only the top 2 alternatives');
    assert.deepEqual(lp.text_offset, [0, tok.tokenToPiece(a!).length]);

    const chat = await post('/v1/chat/completions', {
      model: 'stories260K',
      messages: [{ role: 'user', content: 'hi' }],
      logprobs: true,
      top_logprobs: 1,
    });
    const cbody = await json(chat);
    assertValid('CreateChatCompletionResponse', cbody);
    assert.equal(backend.submitted.at(-1)!.sampling.logprobs, 1);
    const content = cbody.choices[0].logprobs.content;
    assert.deepEqual(
      content.map((c: { token: string }) => c.token),
      [tok.tokenToPiece(a!), tok.tokenToPiece(b!)],
    );
    assert.deepEqual(content[0].bytes, [...tok.tokenBytes(a!)]);
    assert.equal(content[0].top_logprobs.length, 1);

    const s = await post('/v1/chat/completions', {
      model: 'stories260K',
      messages: [{ role: 'user', content: 'hi' }],
      logprobs: true,
      stream: true,
    });
    const chunks = parseSse(await s.text())
      .data.slice(0, -1)
      .map((d) => JSON.parse(d));
    for (const c of chunks) assertValid('CreateChatCompletionStreamResponse', c);
    const streamed = chunks.flatMap((c) => c.choices[0].logprobs?.content ?? []);
    assert.deepEqual(
      streamed.map((c: { logprob: number }) => c.logprob),
      [-0.5, -0.25],
    );
    assert.deepEqual(streamed[0].top_logprobs, [], 'top_logprobs defaults to 0 alternatives');

    const noLp = await post('/v1/chat/completions', {
      model: 'stories260K',
      messages: [{ role: 'user', content: 'hi' }],
      top_logprobs: 2,
    });
    assert.equal(noLp.status, 400);
    assert.equal((await json(noLp)).error.param, 'top_logprobs');
  });

  test('echo + logprobs: prompt logprobs asked in the job; the prompt_logprobs event leads the logprobs, streaming and not', async () => {
    const tok = Tokenizer.fromData(card.tokenizer);
    const a = tok.encode('Once upon', { addSpecial: false }).at(-1);
    backend.script = (job) => [
      {
        event: {
          type: 'prompt_logprobs',
          index: 0,
          logprobs: job.promptTokenIds.map((id, i) =>
            i === 0 ? null : { tokenId: id, logprob: -i, top: [{ tokenId: id, logprob: -i }] },
          ),
        },
      },
      {
        event: {
          type: 'token',
          index: 0,
          tokenIds: [a!],
          text: tok.tokenToPiece(a!),
          logprobs: [{ tokenId: a!, logprob: -0.5, top: [] }],
        },
      },
      {
        event: {
          type: 'finish',
          index: 0,
          finishReason: 'length',
          promptTokens: job.promptTokenIds.length,
          completionTokens: 1,
        },
      },
    ];
    const req = { model: 'stories260K', prompt: 'Once', max_tokens: 1, echo: true, logprobs: 1 };
    const body = await json(await post('/v1/completions', req));
    assertValid('CreateCompletionResponse', echoNullsFilled(body));
    const job = backend.submitted.at(-1)!;
    assert.equal(job.sampling.promptLogprobs, 1);
    assert.equal(body.choices[0].text, 'Once' + tok.tokenToPiece(a!));
    const lp = body.choices[0].logprobs;
    assert.deepEqual(
      lp.tokens,
      [...job.promptTokenIds, a!].map((id) => tok.tokenToPiece(id)),
    );
    assert.deepEqual(lp.token_logprobs, [null, ...job.promptTokenIds.slice(1).map((_, i) => -(i + 1)), -0.5]);
    assert.equal(lp.top_logprobs[0], null);
    assert.deepEqual(lp.text_offset, [0, 0, 'Once'.length]);

    const chunks = parseSse(await (await post('/v1/completions', { ...req, stream: true })).text())
      .data.slice(0, -1)
      .map((d) => JSON.parse(d));
    assert.deepEqual(
      chunks.map((c) => c.choices[0].text),
      ['Once', tok.tokenToPiece(a!), ''],
    );
    assert.deepEqual(
      chunks.flatMap((c) => c.choices[0].logprobs?.token_logprobs ?? []),
      lp.token_logprobs,
    );
    assert.deepEqual(
      chunks.flatMap((c) => c.choices[0].logprobs?.text_offset ?? []),
      lp.text_offset,
    );

    // Without echo the prompt is not scored, whatever logprobs says.
    await json(await post('/v1/completions', { ...req, echo: false }));
    assert.equal(backend.submitted.at(-1)!.sampling.promptLogprobs, null);
  });

  test('client errors are 4xx in OpenAI format naming the parameter', async () => {
    const cases: [string, unknown, number, string | null, string | null][] = [
      ['/v1/completions', { model: 'nope', prompt: 'x' }, 404, 'model', 'model_not_found'],
      ['/v1/completions', { model: 'stories260K', prompt: 'x', max_tokens: -1 }, 400, 'max_tokens', 'invalid_value'],
      ['/v1/completions', '{"model": "stories260K", "prompt": ', 400, null, 'invalid_json'],
      ['/v1/completions', { model: 'stories260K', prompt: 'x', best_of: 2 }, 400, 'best_of', 'unsupported_parameter'],
      ['/v1/completions', { model: 'stories260K', prompt: [9999] }, 400, 'prompt', 'invalid_value'],
      [
        '/v1/completions',
        { model: 'stories260K', prompt: 'x', max_tokens: card.contextLength },
        400,
        'prompt',
        'context_length_exceeded',
      ],
      [
        '/v1/chat/completions',
        { model: 'stories260K', messages: [{ role: 'user', content: 'x'.repeat(4000) }], max_tokens: 10 },
        400,
        'messages',
        'context_length_exceeded',
      ],
      ['/v1/chat/completions', { model: 'stories260K', messages: 'hi' }, 400, 'messages', 'invalid_type'],
      [
        '/v1/completions',
        JSON.stringify({ model: 'stories260K', prompt: 'x'.repeat(70 * 1024) }),
        413,
        null,
        'request_too_large',
      ],
    ];
    for (const [path, body, status, param, code] of cases) {
      const res = await post(path, body);
      const err = await json(res);
      assert.equal(res.status, status, `${path} ${JSON.stringify(err)}`);
      assertValid('ErrorResponse', err);
      assert.equal(err.error.param, param);
      assert.equal(err.error.code, code);
    }
    const unknown = await fetch(gw.url + '/v1/nothing-here');
    assert.equal(unknown.status, 404);
    assertValid('ErrorResponse', await json(unknown));
  });

  test('queue full → 429 with Retry-After', async () => {
    backend.queueFull = true;
    try {
      const res = await post('/v1/completions', { model: 'stories260K', prompt: 'x' });
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '2');
      const err = await json(res);
      assertValid('ErrorResponse', err);
      assert.equal(err.error.type, 'rate_limit_error');
    } finally {
      backend.queueFull = false;
    }
  });

  test('a scheduler error event mid-stream is sent in-band, then [DONE]', async () => {
    backend.script = () => [
      { event: { type: 'token', index: 0, tokenIds: [5], text: 'a' } },
      { event: { type: 'error', status: 503, code: 'no_workers', message: 'no worker serves the model' } },
    ];
    const res = await post('/v1/completions', { model: 'stories260K', prompt: 'x', stream: true });
    const { data } = parseSse(await res.text());
    assert.equal(data.at(-1), '[DONE]');
    const err = JSON.parse(data.at(-2)!);
    assertValid('ErrorResponse', err);
    assert.equal(err.error.code, 'no_workers');
    backend.script = () => [
      { event: { type: 'error', status: 503, code: 'no_workers', message: 'no worker serves the model' } },
    ];
    const plain = await post('/v1/completions', { model: 'stories260K', prompt: 'x' });
    assert.equal(plain.status, 503);
    assertValid('ErrorResponse', await json(plain));
  });

  /** A completion whose first token is 10 s away, left open for the test to hang up. */
  const openSlowCompletion = (stream: boolean) => {
    backend.script = () => [{ event: { type: 'token', index: 0, tokenIds: [5], text: 'a' }, delayMs: 10_000 }];
    const req = http.request(gw.url + '/v1/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    req.on('error', () => {});
    req.end(JSON.stringify({ model: 'stories260K', prompt: 'x', stream }));
    return req;
  };

  test('client disconnect cancels the request (streaming and not)', async () => {
    for (const stream of [true, false]) {
      backend.cancels.length = 0;
      const req = openSlowCompletion(stream);
      // Wait until the job is queued, then hang up.
      const before = backend.submitted.length;
      await waitUntil(() => backend.submitted.length > before);
      req.destroy();
      await backend.waitForCancel();
      assert.deepEqual(
        backend.cancels,
        [{ requestId: backend.submitted.at(-1)!.requestId, reason: 'client_disconnected' }],
        `stream=${stream}`,
      );
    }
    const metrics = await (await fetch(gw.url + '/metrics')).text();
    assert.match(metrics, /loom_requests_cancelled_total\{reason="client_disconnected"\} 2/);
  });

  test('a client that hangs up while its job is being queued is cancelled too', async () => {
    // The chaos suite's abandoned-streams scenario found this: the response's 'close' fired before
    // the listener was attached, and the job ran to its end for nobody.
    backend.cancels.length = 0;
    backend.submitDelayMs = 300;
    try {
      for (const stream of [true, false]) {
        const req = openSlowCompletion(stream);
        await new Promise((r) => setTimeout(r, 100));
        const before = backend.submitted.length;
        req.destroy();
        await waitUntil(() => backend.submitted.length > before);
        await waitUntil(() => backend.cancels.some((c) => c.requestId === backend.submitted.at(-1)!.requestId));
        assert.equal(backend.cancels.at(-1)!.reason, 'client_disconnected', `stream=${stream}`);
      }
    } finally {
      backend.submitDelayMs = 0;
    }
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
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(config({ apiKeys: 'key-one, key-two' }), { backend: new FakeBackend([card]) });
  });
  after(async () => {
    await gw.close();
  });

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
