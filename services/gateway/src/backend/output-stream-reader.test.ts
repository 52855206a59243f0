import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { at, createRedis } from '@loom/common';
import { startRedis, type RedisHandle } from '@loom/testing';
import { OutputStreamReader, type StreamEntry } from './output-stream-reader.js';

/** The values of field 'v' a subscription yields (in bursts), until `count` of them or the signal. */
async function take(iter: AsyncGenerator<StreamEntry[]>, count: number): Promise<string[]> {
  const out: string[] = [];
  for await (const burst of iter) {
    for (const [, fields] of burst) out.push(at(fields, 1));
    if (out.length >= count) break;
  }
  return out;
}

const xreadClients = async (r: Redis) =>
  ((await r.client('LIST')) as string).split('\n').filter((l) => l.includes('name=loom-gateway-xread')).length;

describe('OutputStreamReader against a real redis-server', () => {
  let local: RedisHandle;
  let redis: Redis;
  let writer: Redis;

  before(async () => {
    local = await startRedis();
    redis = createRedis(local.url, 'reader-commands');
    writer = createRedis(local.url, 'test-writer');
  });
  after(async () => {
    redis.disconnect();
    writer.disconnect();
    await local.stop();
  });

  test('150 streams read over 3 connections (64 a connection), each in order from its first entry', async () => {
    const reader = new OutputStreamReader(redis, { blockMs: 10_000, maxKeysPerConnection: 64 });
    const ac = new AbortController();
    const keys = Array.from({ length: 150 }, (_, i) => `t1:${i}`);
    // Half the streams have entries before they are subscribed, half get them after.
    for (const k of keys.slice(0, 75)) await writer.xadd(k, '*', 'v', `${k}#0`);
    const results = Promise.all(keys.map((k) => take(reader.subscribe(k, ac.signal), 3)));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(reader.connections, 3);
    assert.equal(await xreadClients(writer), 3);
    for (const k of keys.slice(75)) await writer.xadd(k, '*', 'v', `${k}#0`);
    for (let j = 1; j < 3; j++) for (const k of keys) await writer.xadd(k, '*', 'v', `${k}#${j}`);
    const got = await results;
    got.forEach((values, i) =>
      assert.deepEqual(
        values,
        [0, 1, 2].map((j) => `${keys[i]}#${j}`),
      ),
    );
    reader.close();
  });

  test('a stream subscribed while a read is blocked is read at once, not after the block timeout', async () => {
    const reader = new OutputStreamReader(redis, { blockMs: 30_000 });
    const ac = new AbortController();
    const first = take(reader.subscribe('t2:a', ac.signal), 1);
    await new Promise((r) => setTimeout(r, 200)); // the lane is now blocked on t2:a alone
    const started = Date.now();
    const second = take(reader.subscribe('t2:b', ac.signal), 1);
    await new Promise((r) => setTimeout(r, 50));
    await writer.xadd('t2:b', '*', 'v', 'hello');
    assert.deepEqual(await second, ['hello']);
    assert.ok(Date.now() - started < 5000, 'woken, not timed out');
    await writer.xadd('t2:a', '*', 'v', 'world');
    assert.deepEqual(await first, ['world']);
    reader.close();
  });

  test('an abort ends a subscription promptly; close() ends them all', async () => {
    const reader = new OutputStreamReader(redis, { blockMs: 30_000 });
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 100);
    assert.deepEqual(await take(reader.subscribe('t3:silent', ac.signal), 1), []);
    assert.ok(Date.now() - started < 5000);
    const pending = take(reader.subscribe('t3:other', new AbortController().signal), 1);
    setTimeout(() => reader.close(), 100);
    assert.deepEqual(await pending, []);
    const subscribedAfterClose = take(reader.subscribe('t3:late', new AbortController().signal), 1);
    assert.deepEqual(await subscribedAfterClose, []);
  });

  test('a consumer that does not pull leaves its backlog in Redis, and gets all of it, in order, when it does', async () => {
    const reader = new OutputStreamReader(redis, { blockMs: 30_000, maxBuffered: 8 });
    const ac = new AbortController();
    const slow = reader.subscribe('t4:slow', ac.signal);
    const fast = take(reader.subscribe('t4:fast', ac.signal), 200);
    // Start the slow subscription (a generator runs only when pulled), then stop pulling.
    const firstPull = slow.next();
    for (let i = 0; i < 200; i++)
      await writer.multi().xadd('t4:slow', '*', 'v', `s${i}`).xadd('t4:fast', '*', 'v', `f${i}`).exec();
    const firstBurst = ((await firstPull).value ?? []).map(([, fields]: StreamEntry) => at(fields, 1));
    assert.equal(firstBurst[0], 's0');
    // The fast stream is read to the end meanwhile: the slow one does not hold its lane up, and
    // what the gateway holds for it stays within the bound (one read may add a bound's worth).
    assert.deepEqual(
      await fast,
      Array.from({ length: 200 }, (_, i) => `f${i}`),
    );
    assert.ok(reader.bufferedEntries <= 16, `${reader.bufferedEntries} entries held`);
    assert.deepEqual(
      [...firstBurst, ...(await take(slow, 200 - firstBurst.length))],
      Array.from({ length: 200 }, (_, i) => `s${i}`),
    );
    reader.close();
  });
});
