import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  at,
  BULLMQ_PREFIX,
  CANCEL_STREAM_KEY,
  DEFAULT_SAMPLING,
  MODELS_KEY,
  OUTPUT_STREAM_FIELD,
  configFromEnv,
  createRedis,
  modelCardKey,
  outputStreamKey,
  requestQueueName,
  type ModelCard,
  type OutputEvent,
  type RequestJob,
} from '@loom/common';
import { startGateway } from '../gateway.js';
import { modelCardFromGguf } from '../testing/model-card.js';
import { startRedis, type RedisHandle } from '@loom/testing';
import { STORIES_GGUF } from '../testing/spec-path.js';
import { QueueFullError } from './inference-backend.js';
import { RedisBackend } from './redis-backend.js';

const job = (requestId: string, model = 'tiny'): RequestJob => ({
  requestId,
  model,
  promptTokenIds: [1, 2, 3],
  sampling: { ...DEFAULT_SAMPLING, seed: 42, stop: ['\n'] },
  n: 1,
  priority: 0,
  acceptedAt: Date.now(),
});

const xadd = (r: Redis, requestId: string, e: OutputEvent) =>
  r.xadd(outputStreamKey(requestId), '*', OUTPUT_STREAM_FIELD, JSON.stringify(e));

describe('RedisBackend against a real redis-server', () => {
  let local: RedisHandle;
  let backend: RedisBackend;
  let redis: Redis;

  before(async () => {
    local = await startRedis();
    // The writes here go to the requests' own streams only (no fan-in copy): the reader finds them by
    // its catch-up reads, which outputPollMs makes prompt.
    backend = new RedisBackend({
      redisUrl: local.url,
      maxQueueLength: 3,
      cardTtlMs: 0,
      blockMs: 200,
      outputPollMs: 50,
    });
    redis = createRedis(local.url, 'test');
  });
  after(async () => {
    await backend.close();
    redis.disconnect();
    await local.stop();
  });

  test('submit adds one BullMQ job with the request as data, keyed by request id', async () => {
    const j = job('cmpl-a');
    await backend.submit(j);
    const conn = createRedis(local.url);
    const queue = new Queue(requestQueueName('tiny'), { connection: conn, prefix: BULLMQ_PREFIX });
    try {
      const got = await queue.getJob('cmpl-a');
      assert.ok(got, 'job exists under its request id');
      const { replyTo, ...data } = got.data;
      assert.deepEqual(data, j);
      assert.match(replyTo ?? '', /^loom:gateway:out:/, "the job names the gateway's fan-in stream");
      assert.equal(got.opts.removeOnComplete, true);
      assert.equal(got.opts.removeOnFail, 1000);
      assert.equal(await redis.exists(`${BULLMQ_PREFIX}:${requestQueueName('tiny')}:cmpl-a`), 1);
    } finally {
      await queue.close();
      conn.disconnect(); // a Queue does not close a connection it was given
    }
  });

  test('submit rejects with QueueFullError at maxQueueLength waiting jobs', async () => {
    for (const id of ['q1', 'q2', 'q3']) await backend.submit(job(id, 'busy'));
    await assert.rejects(backend.submit(job('q4', 'busy')), QueueFullError);
  });

  test('events yields what a writer XADDs, from the start, until every choice finished', async () => {
    const id = 'cmpl-ev';
    const early: OutputEvent = { type: 'token', index: 1, tokenIds: [7], text: 'B' };
    await xadd(redis, id, early); // written before anyone reads: must not be missed
    const later: OutputEvent[] = [
      { type: 'token', index: 0, tokenIds: [5, 6], text: 'A' },
      { type: 'finish', index: 1, finishReason: 'stop', stopReason: null, promptTokens: 3, completionTokens: 1 },
      { type: 'finish', index: 0, finishReason: 'length', promptTokens: 3, completionTokens: 2 },
      { type: 'token', index: 0, tokenIds: [9], text: 'never read' },
    ];
    const reading = (async () => {
      const out: OutputEvent[] = [];
      for await (const burst of backend.events(id, new AbortController().signal, 2)) out.push(...burst);
      return out;
    })();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      backend.streamStats(),
      { connections: 1, bufferedEvents: 0 },
      'one reading connection while a stream is open',
    );
    for (const e of later) await xadd(redis, id, e);
    assert.deepEqual(await reading, [early, ...later.slice(0, 3)]);
  });

  test('events ends on an error event, and promptly on abort while blocked', async () => {
    await xadd(redis, 'cmpl-err', { type: 'error', status: 503, code: 'no_workers', message: 'x' });
    await xadd(redis, 'cmpl-err', { type: 'token', index: 0, tokenIds: [1], text: 'x' });
    const got: OutputEvent[] = [];
    for await (const burst of backend.events('cmpl-err', new AbortController().signal)) got.push(...burst);
    assert.deepEqual(
      got.map((e) => e.type),
      ['error'],
    );

    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 100);
    const none: OutputEvent[] = [];
    for await (const burst of backend.events('cmpl-silent', ac.signal)) none.push(...burst);
    assert.deepEqual(none, []);
    assert.ok(Date.now() - started < 2000);
  });

  test('cancel writes a CancelEvent to the cancel stream', async () => {
    await backend.cancel('cmpl-x', 'client_disconnected');
    const entries = await redis.xrange(CANCEL_STREAM_KEY, '-', '+');
    const [, fields] = entries.at(-1)!;
    assert.equal(fields[0], OUTPUT_STREAM_FIELD);
    assert.deepEqual(JSON.parse(at(fields, 1)), { requestId: 'cmpl-x', reason: 'client_disconnected' });
  });

  test('model cards come from MODELS_KEY and modelCardKey', async () => {
    const card = { modelId: 'tiny', contextLength: 64 } as ModelCard;
    await redis.sadd(MODELS_KEY, 'tiny', 'gone');
    await redis.set(modelCardKey('tiny'), JSON.stringify(card));
    assert.deepEqual(await backend.listModels(), [card]); // 'gone' has no card: left out
    assert.deepEqual(await backend.getModel('tiny'), card);
    assert.equal(await backend.getModel('nope'), undefined);
    await redis.srem(MODELS_KEY, 'tiny', 'gone');
    assert.equal(await backend.getModel('tiny'), undefined);
    await backend.ping();
  });

  test('a card is parsed once while its text is unchanged, and concurrent lookups share one refresh', async () => {
    // cardTtlMs is 0 here: every lookup refreshes from Redis.
    const card = { modelId: 'big', contextLength: 64 } as ModelCard;
    await redis.sadd(MODELS_KEY, 'big');
    await redis.set(modelCardKey('big'), JSON.stringify(card));
    const first = await backend.getModel('big');
    const burst = await Promise.all(Array.from({ length: 8 }, () => backend.getModel('big')));
    assert.deepEqual(first, card);
    for (const c of burst) assert.equal(c, first, 'the same parsed object: not parsed again');
    await redis.set(modelCardKey('big'), JSON.stringify({ ...card, contextLength: 128 }));
    const changed = await backend.getModel('big');
    assert.notEqual(changed, first);
    assert.equal(changed!.contextLength, 128, 'a changed card is read anew');
    await redis.srem(MODELS_KEY, 'big');
  });

  test('the gateway over Redis: a job goes in, a stream writer answers, the client gets the text', async () => {
    const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');
    await redis.sadd(MODELS_KEY, card.modelId);
    await redis.set(modelCardKey(card.modelId), JSON.stringify(card));
    const gw = await startGateway(
      configFromEnv({}, { host: '127.0.0.1', port: 0, redisUrl: local.url, logLevel: 'silent' }),
    );
    const conn = createRedis(local.url);
    const queue = new Queue(requestQueueName(card.modelId), { connection: conn, prefix: BULLMQ_PREFIX });
    try {
      const res = fetch(gw.url + '/v1/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 2 }),
      });
      let waiting: RequestJob | undefined;
      for (let i = 0; i < 200 && !waiting; i++) {
        waiting = (await queue.getWaiting())[0]?.data as RequestJob | undefined;
        if (!waiting) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(waiting, 'the gateway queued a job');
      // While the request waits for its stream, /metrics shows the reader's connection (the gateway
      // subscribes right after the job is queued, so give it a moment).
      let metrics = '';
      for (let i = 0; i < 100 && !/^loom_gateway_output_stream_connections 1$/m.test(metrics); i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 20));
        metrics = await (await fetch(gw.url + '/metrics')).text();
      }
      assert.match(metrics, /^loom_gateway_output_stream_connections 1$/m);
      assert.match(metrics, /^loom_gateway_output_buffered_events 0$/m);
      await xadd(redis, waiting.requestId, { type: 'token', index: 0, tokenIds: [5, 6], text: ', there' });
      await xadd(redis, waiting.requestId, {
        type: 'finish',
        index: 0,
        finishReason: 'length',
        promptTokens: waiting.promptTokenIds.length,
        completionTokens: 2,
      });
      const body = (await (await res).json()) as {
        id: string;
        choices: { text: string; finish_reason: string }[];
        usage: { prompt_tokens: number };
      };
      assert.equal(body.id, waiting.requestId);
      assert.equal(at(body.choices, 0).text, ', there');
      assert.equal(at(body.choices, 0).finish_reason, 'length');
      assert.equal(body.usage.prompt_tokens, waiting.promptTokenIds.length);
    } finally {
      await queue.close();
      conn.disconnect();
      await gw.close();
    }
  });
});
