// /v1/responses whose output does not complete, with `store`: a failure (an error event mid-stream, or in a
// non-streamed create) is stored `failed` with its error, a client that hangs up leaves it `incomplete`, as
// OpenAI keeps them; GET returns what the stream's `response.failed` carried. FakeBackend scripts the
// cluster's events; the store is real Redis.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { at, configFromEnv, type OutputEvent } from '@loom/common';
import { startRedis, type RedisHandle } from '@loom/testing';
import { startGateway, type RunningGateway } from './gateway.js';
import { FakeBackend, scriptedText, type ScriptStep } from './testing/fake-backend.js';
import { modelCardFromGguf } from './testing/model-card.js';
import { openAiSchemaValidator } from './testing/openai-schema.js';
import { responseEventSchema } from './testing/response-event-schema.js';
import { OPENAI_SPEC, STORIES_GGUF } from './testing/spec-path.js';
import { waitUntil } from './testing/wait-until.js';

const validate = openAiSchemaValidator(OPENAI_SPEC);
const valid = (schema: string, value: unknown) => assert.deepEqual(validate(schema, value), [], schema);

type Obj = Record<string, unknown>;
interface ResponseBody {
  id: string;
  status: string;
  error: { code: string; message: string } | null;
  incomplete_details: unknown;
  output: { type: string; status: string; content: { text: string }[] }[];
  usage: { output_tokens: number };
}

const token = (text: string, k: number, delayMs = 0): ScriptStep => ({
  event: { type: 'token', index: 0, tokenIds: [100 + k], text },
  delayMs,
});
const failure: OutputEvent = { type: 'error', status: 500, code: 'generation_failed', message: 'the worker failed' };

describe('/v1/responses that fail or are cut short are stored as such (FakeBackend, real Redis)', () => {
  const backend = new FakeBackend([modelCardFromGguf(STORIES_GGUF, 'stories260K')]);
  let redis: RedisHandle;
  let gw: RunningGateway;
  const post = (body: Obj, signal?: AbortSignal) =>
    fetch(gw.url + '/v1/responses', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', input: 'Tell a story.', ...body }),
      signal,
    });
  const stored = async (id: string): Promise<ResponseBody> => {
    const res = await fetch(`${gw.url}/v1/responses/${id}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as ResponseBody;
    valid('Response', body);
    return body;
  };
  /** The stored response once the gateway has noticed its client left and kept it. */
  const storedEventually = async (id: string) => {
    const deadline = Date.now() + 5000;
    while ((await fetch(`${gw.url}/v1/responses/${id}`)).status === 404 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    return stored(id);
  };

  before(async () => {
    redis = await startRedis();
    gw = await startGateway(
      configFromEnv({}, { host: '127.0.0.1', port: 0, logLevel: 'silent', redisUrl: redis.url }),
      { backend },
    );
  });
  after(async () => {
    await gw?.close();
    await redis?.stop();
  });

  test('an error mid-stream: `error`, then `response.failed`; GET returns that failed response', async () => {
    backend.script = () => [token('Once', 0), token(' upon', 1), { event: failure }];
    const res = await post({ stream: true });
    assert.equal(res.status, 200);
    const events = (await res.text())
      .split('\n\n')
      .filter((b) => b.startsWith('event: '))
      .map((b) => JSON.parse(at(b.split('\n'), 1).slice('data: '.length)) as Obj);
    events.forEach((ev, i) => {
      valid(responseEventSchema(ev.type as string), ev);
      assert.equal(ev.sequence_number, i);
    });
    assert.deepEqual(
      events.slice(-2).map((e) => e.type),
      ['error', 'response.failed'],
    );
    const failed = events.at(-1)!.response as ResponseBody;
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.error, { code: 'server_error', message: 'the worker failed' });
    assert.equal(failed.usage.output_tokens, 2);
    // What was written so far, its item cut short.
    assert.deepEqual(
      failed.output.map((o) => [o.type, o.status, at(o.content, 0).text]),
      [['message', 'incomplete', 'Once upon']],
    );
    assert.deepEqual(await stored(failed.id), failed);
  });

  test('a non-streamed create that fails: the HTTP error, and GET (by x-request-id) shows it failed', async () => {
    backend.script = () => [token('Once', 0), { event: failure }];
    const res = await post({});
    assert.equal(res.status, 500);
    valid('ErrorResponse', await res.json());
    const id = res.headers.get('x-request-id')!;
    assert.match(id, /^resp_/);
    const failed = await stored(id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.message, 'the worker failed');
  });

  test('a client that hangs up mid-stream: the response is stored incomplete with what was generated', async () => {
    backend.script = () => Array.from({ length: 200 }, (_, k) => token(` w${k}`, k, 20));
    const hangUp = new AbortController();
    const res = await post({ stream: true }, hangUp.signal);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('response.output_text.delta'))
      text += new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
    const id = /"id":"(resp_[^"]+)"/.exec(text)?.[1];
    assert.ok(id, 'the stream names its response id');
    hangUp.abort();
    const cut = await storedEventually(id);
    assert.equal(cut.status, 'incomplete');
    assert.equal(cut.error, null);
    assert.equal(cut.incomplete_details, null);
    const item = at(cut.output, 0);
    assert.equal(item.status, 'incomplete');
    assert.match(at(item.content, 0).text, /^ w0/);
    assert.ok(cut.usage.output_tokens < 200);
  });

  test('a client that hangs up on a non-streamed create: stored incomplete too', async () => {
    backend.script = () => Array.from({ length: 200 }, (_, k) => token(` w${k}`, k, 20));
    const before = backend.submitted.length;
    const req = request(`${gw.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('error', () => {});
    req.end(JSON.stringify({ model: 'stories260K', input: 'x' }));
    await waitUntil(() => backend.submitted.length > before);
    req.destroy();
    const cut = await storedEventually(backend.submitted.at(-1)!.requestId);
    assert.equal(cut.status, 'incomplete');
  });

  test('store: false keeps nothing, failed or not', async () => {
    backend.script = () => [token('Once', 0), { event: failure }];
    const res = await post({ store: false });
    assert.equal(res.status, 500);
    assert.equal((await fetch(`${gw.url}/v1/responses/${res.headers.get('x-request-id')!}`)).status, 404);
    backend.script = scriptedText(['Hi.']);
  });
});
