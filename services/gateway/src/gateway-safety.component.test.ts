import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { at, API_KEYS_KEY, configFromEnv, createRedis, type LoomConfig } from '@loom/common';
import { keyDigestHex } from './auth/api-key-records.js';
import { startGateway, type RunningGateway } from './gateway.js';
import { FakeBackend, scriptedText } from './testing/fake-backend.js';
import { modelCardFromGguf } from './testing/model-card.js';
import { openAiSchemaValidator } from './testing/openai-schema.js';
import { clearOfWindowEdge } from './testing/clear-of-window-edge.js';
import { startRedis, type RedisHandle } from '@loom/testing';
import { OPENAI_SPEC, STORIES_GGUF } from './testing/spec-path.js';
import { parseSse } from './testing/sse-parse.js';
import { waitUntil } from './testing/wait-until.js';

const validate = openAiSchemaValidator(OPENAI_SPEC);
const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');
const config = (over: Partial<LoomConfig> = {}): LoomConfig =>
  configFromEnv({}, { host: '127.0.0.1', port: 0, logLevel: 'silent', ...over });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();
const post = (gw: RunningGateway, route: string, body: unknown, key?: string) =>
  fetch(gw.url + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
const counter = async (gw: RunningGateway, re: RegExp) =>
  Number(re.exec(await (await fetch(gw.url + '/metrics')).text())?.[1] ?? 0);

describe('API keys from a file: principal into the job', () => {
  const backend = new FakeBackend([card], scriptedText(['a']));
  let gw: RunningGateway;
  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'loom-keys-'));
    const file = path.join(dir, 'keys.json');
    writeFileSync(
      file,
      JSON.stringify([
        { key: 'sk-acme', tenant: 'acme', priority: 5, cacheSalt: 'acme-salt' },
        { sha256: keyDigestHex('sk-hashed'), tenant: 'hashed-co' },
      ]),
    );
    gw = await startGateway(config({ apiKeysFile: file, apiKeys: 'sk-plain' }), { backend });
  });
  after(() => gw.close());

  test('each key maps to its tenant, priority and cache salt; unknown keys get 401', async () => {
    const ok = await post(gw, '/v1/completions', { model: 'stories260K', prompt: 'x' }, 'sk-acme');
    assert.equal(ok.status, 200);
    let job = backend.submitted.at(-1)!;
    assert.deepEqual([job.tenant, job.priority, job.cacheSalt], ['acme', 5, 'acme-salt']);
    // A client may lower its priority, not raise it; its own salt only splits the tenant's cache further.
    await post(
      gw,
      '/v1/completions',
      { model: 'stories260K', prompt: 'x', priority: -100, cache_salt: 'mine' },
      'sk-acme',
    );
    job = backend.submitted.at(-1)!;
    assert.deepEqual([job.priority, job.cacheSalt], [5, 'acme-salt:mine']);
    await post(gw, '/v1/completions', { model: 'stories260K', prompt: 'x', priority: 9 }, 'sk-acme');
    assert.equal(backend.submitted.at(-1)!.priority, 9);

    assert.equal((await post(gw, '/v1/completions', { model: 'stories260K', prompt: 'x' }, 'sk-hashed')).status, 200);
    assert.equal(backend.submitted.at(-1)!.tenant, 'hashed-co');
    assert.equal((await post(gw, '/v1/completions', { model: 'stories260K', prompt: 'x' }, 'sk-plain')).status, 200);
    assert.match(backend.submitted.at(-1)!.tenant!, /^key-[0-9a-f]{12}$/);

    for (const key of ['sk-acm', 'sk-acmee', keyDigestHex('sk-hashed'), undefined]) {
      const res = await post(gw, '/v1/completions', { model: 'stories260K', prompt: 'x' }, key);
      assert.equal(res.status, 401, String(key));
      const body = await json(res);
      assert.deepEqual(validate('ErrorResponse', body), []);
      assert.equal(body.error.code, 'invalid_api_key');
    }
  });

  test('the key is checked before the body is read: no key and a bad or oversize body is 401, not 400 or 413', async () => {
    const raw = (body: string, key?: string) =>
      fetch(gw.url + '/v1/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body,
      });
    const huge = JSON.stringify({ model: 'stories260K', prompt: 'x'.repeat(20 * 1024 * 1024) }); // past the 16 MiB body limit
    for (const [body, key, status] of [
      ['{not json', undefined, 401],
      [huge, 'sk-wrong', 401],
      ['{not json', 'sk-acme', 400],
      [huge, 'sk-acme', 413],
    ] as const) {
      const res = await raw(body, key);
      assert.equal(res.status, status, `${body.slice(0, 10)} with ${key}`);
      const err = await json(res);
      assert.deepEqual(validate('ErrorResponse', err), []);
      if (status === 401) assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    }
    // Public routes stay open, and GET routes still go through the guard.
    assert.equal((await fetch(gw.url + '/health')).status, 200);
    assert.equal((await fetch(gw.url + '/v1/models')).status, 401);
    assert.equal((await fetch(gw.url + '/v1/models', { headers: { authorization: 'Bearer sk-acme' } })).status, 200);
  });

  test('a malformed keys file stops the gateway at start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'loom-keys-'));
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ key: 'k' }]));
    await assert.rejects(startGateway(config({ apiKeysFile: bad }), { backend }), /tenant/);
    writeFileSync(bad, JSON.stringify([{ key: 'k', sha256: keyDigestHex('k'), tenant: 't' }]));
    await assert.rejects(startGateway(config({ apiKeysFile: bad }), { backend }), /exactly one/);
  });
});

describe('queue-wait timeout', () => {
  const backend = new FakeBackend([card]);
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(config(), { backend, queueWaitTimeoutMs: 150, keepAliveMs: 1000 });
  });
  after(() => gw.close());

  test('no first event in time → cancelled everywhere, 503 with Retry-After (streaming and not)', async () => {
    backend.script = () => [{ event: { type: 'token', index: 0, tokenIds: [5], text: 'late' }, delayMs: 5000 }];
    for (const stream of [false, true]) {
      backend.cancels.length = 0;
      const res = await post(gw, '/v1/completions', { model: 'stories260K', prompt: 'x', stream });
      assert.equal(res.status, 503, `stream=${stream}`);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      const body = await json(res);
      assert.deepEqual(validate('ErrorResponse', body), []);
      assert.equal(body.error.code, 'queue_timeout');
      assert.deepEqual(backend.cancels, [{ requestId: backend.submitted.at(-1)!.requestId, reason: 'queue_timeout' }]);
    }
    assert.equal(await counter(gw, /loom_requests_cancelled_total\{reason="queue_timeout"\} (\d+)/), 2);
  });

  test('a first event in time disarms it', async () => {
    backend.script = () => [
      { event: { type: 'token', index: 0, tokenIds: [5], text: 'a' }, delayMs: 50 },
      {
        event: { type: 'finish', index: 0, finishReason: 'length', promptTokens: 2, completionTokens: 2 },
        delayMs: 300,
      },
    ];
    const res = await post(gw, '/v1/completions', { model: 'stories260K', prompt: 'x' });
    assert.equal(res.status, 200);
  });
});

describe('several prompts in one completion; continuous usage', () => {
  const backend = new FakeBackend([card], scriptedText([' one', ' two']));
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(config(), { backend });
  });
  after(() => gw.close());

  test('one job per prompt, choices prompt-major, echo per prompt, usage summed', async () => {
    const before = backend.submitted.length;
    const res = await post(gw, '/v1/completions', {
      model: 'stories260K',
      prompt: ['Once', 'The dog'],
      n: 2,
      echo: true,
    });
    const body = await json(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(validate('CreateCompletionResponse', body), []);
    const jobs = backend.submitted.slice(before);
    assert.equal(jobs.length, 2);
    assert.deepEqual(
      jobs.map((j) => j.requestId),
      [body.id, `${body.id}-1`],
    );
    assert.deepEqual(
      body.choices.map((c: { index: number; text: string }) => [c.index, c.text]),
      [
        [0, 'Once one two'],
        [1, 'Once one two'],
        [2, 'The dog one two'],
        [3, 'The dog one two'],
      ],
    );
    assert.equal(body.usage.prompt_tokens, at(jobs, 0).promptTokenIds.length + at(jobs, 1).promptTokenIds.length);
    assert.equal(body.usage.completion_tokens, 8);

    const s = await post(gw, '/v1/completions', {
      model: 'stories260K',
      prompt: [
        [1, 400],
        [1, 401, 402],
      ],
      stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    });
    const chunks = parseSse(await s.text())
      .data.slice(0, -1)
      .map((d) => JSON.parse(d));
    const texts = new Map<number, string>();
    for (const c of chunks) for (const ch of c.choices) texts.set(ch.index, (texts.get(ch.index) ?? '') + ch.text);
    assert.deepEqual([...texts.entries()].sort(), [
      [0, ' one two'],
      [1, ' one two'],
    ]);
    // Every chunk carries the usage so far; completion tokens never go down.
    const used = chunks.map((c) => c.usage.completion_tokens as number);
    assert.deepEqual(
      used,
      [...used].sort((a, b) => a - b),
    );
    assert.equal(chunks.at(-1).usage.prompt_tokens, 5);
    assert.equal(used.at(-1), 4);
  });

  test('a failed prompt cancels its siblings', async () => {
    backend.script = (job) =>
      job.requestId.endsWith('-1')
        ? [{ event: { type: 'error', status: 400, code: 'bad', message: 'refused' } }]
        : [{ event: { type: 'token', index: 0, tokenIds: [5], text: 'a' }, delayMs: 5000 }];
    backend.cancels.length = 0;
    const res = await post(gw, '/v1/completions', { model: 'stories260K', prompt: ['a', 'b'] });
    assert.equal(res.status, 400);
    await waitUntil(() => backend.cancels.length >= 2);
    assert.deepEqual(
      backend.cancels.map((c) => c.reason),
      ['request_failed', 'request_failed'],
    );
  });
});

describe('rate limits and Redis keys (real redis-server)', () => {
  let redis: RedisHandle;
  const gws: RunningGateway[] = [];
  const backend = new FakeBackend([card], scriptedText(['a']));
  before(async () => {
    redis = await startRedis();
    const r = createRedis(redis.url);
    await r.hset(API_KEYS_KEY, keyDigestHex('sk-redis'), JSON.stringify({ tenant: 'from-redis', rpm: 3 }));
    await r.hset(API_KEYS_KEY, keyDigestHex('sk-tokens'), JSON.stringify({ tenant: 'tok', tpm: 40 }));
    r.disconnect();
    for (let i = 0; i < 2; i++)
      gws.push(await startGateway(config({ redisUrl: redis.url, apiKeysRedis: true }), { backend }));
  });
  after(async () => {
    for (const g of gws) await g.close();
    await redis.stop();
  });

  test('keys stored in Redis authenticate; rpm is shared by two gateways; 429 with Retry-After', async () => {
    await clearOfWindowEdge(redis.url);
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push(
        (
          await post(
            at(gws, i % 2),
            '/v1/completions',
            { model: 'stories260K', prompt: 'x', max_tokens: 1 },
            'sk-redis',
          )
        ).status,
      );
    assert.deepEqual(codes, [200, 200, 200, 429, 429]);
    assert.equal(backend.submitted.at(-1)!.tenant, 'from-redis');
    const res = await post(at(gws, 0), '/v1/completions', { model: 'stories260K', prompt: 'x' }, 'sk-redis');
    assert.equal(res.status, 429);
    const retry = Number(res.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, String(retry));
    const body = await json(res);
    assert.deepEqual(validate('ErrorResponse', body), []);
    assert.equal(body.error.type, 'rate_limit_error');
    const rejected =
      (await counter(at(gws, 0), /loom_rate_limited_requests_total\{limit="rpm"\} (\d+)/)) +
      (await counter(at(gws, 1), /loom_rate_limited_requests_total\{limit="rpm"\} (\d+)/));
    assert.equal(rejected, 3);
    assert.equal(
      (await post(at(gws, 0), '/v1/completions', { model: 'stories260K', prompt: 'x' }, 'sk-nope')).status,
      401,
    );
  });

  test('tpm counts prompt + max_tokens × n; a request larger than the budget says so', async () => {
    await clearOfWindowEdge(redis.url);
    const big = await post(
      at(gws, 0),
      '/v1/completions',
      { model: 'stories260K', prompt: 'x', max_tokens: 50 },
      'sk-tokens',
    );
    assert.equal(big.status, 429);
    assert.match((await json(big)).error.message, /too large/);
    const ok = await post(
      at(gws, 1),
      '/v1/completions',
      { model: 'stories260K', prompt: [1, 2, 3], max_tokens: 10, n: 2 },
      'sk-tokens',
    );
    assert.equal(ok.status, 200); // 3 + 10 × 2 = 23 of 40
    const over = await post(
      at(gws, 0),
      '/v1/completions',
      { model: 'stories260K', prompt: [1, 2, 3], max_tokens: 10, n: 2 },
      'sk-tokens',
    );
    assert.equal(over.status, 429);
    assert.match((await json(over)).error.message, /tokens per minute/);
  });
});
