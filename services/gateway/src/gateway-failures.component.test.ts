import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { assertValid } from './testing/assert-valid.js';
import { FakeBackend } from './testing/fake-backend.js';
import { modelCardFromGguf } from './testing/model-card.js';
import { STORIES_GGUF } from './testing/spec-path.js';
import { parseSse } from './testing/sse-parse.js';
import { useFakeGateway } from './testing/use-fake-gateway.js';
import { waitUntil } from './testing/wait-until.js';

const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');

/** Response bodies are checked against the spec, then read freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();

/** What the gateway answers when a request is bad, the queue is full, the scheduler fails or the client leaves. */
describe('gateway failures against a FakeBackend', () => {
  const backend = new FakeBackend([card]);
  const gw = useFakeGateway({ backend, keepAliveMs: 40, bodyLimit: 64 * 1024 });
  const { post } = gw;

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
});
