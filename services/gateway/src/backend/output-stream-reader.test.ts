import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { useRedis } from '@loom/testing';
import { OutputStreamReader } from './output-stream-reader.js';

/** The values a subscription yields (in bursts), until `count` of them or its end. */
async function take(iter: AsyncGenerator<unknown[]>, count: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const burst of iter) {
    out.push(...burst);
    if (out.length >= count) break;
  }
  return out;
}

/**
 * Writes as the scheduler's OutputLog does: each value to its request stream under id 0-k, and
 * (unless `copy` is false) one fan-in entry `[[key, firstId, [value, ...]], ...]` for the lot.
 */
async function append(
  w: Redis,
  fanIn: string,
  items: { key: string; k: number; values: string[] }[],
  copy = true,
): Promise<void> {
  const m = w.multi();
  for (const { key, k, values } of items) values.forEach((v, i) => m.xadd(key, `0-${k + i}`, 'e', JSON.stringify(v)));
  if (copy) m.xadd(fanIn, '*', 'e', JSON.stringify(items.map(({ key, k, values }) => [key, `0-${k}`, values])));
  await m.exec();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('OutputStreamReader against a real redis-server', () => {
  const local = useRedis();
  let redis: Redis;
  let writer: Redis;

  before(() => {
    redis = local.connect('reader-commands');
    writer = local.connect('test-writer');
  });

  test('150 requests read from one fan-in stream over one connection, each in order from its first entry, once', async () => {
    const reader = new OutputStreamReader(redis, { blockMs: 10_000, pollMs: 60_000 });
    const ac = new AbortController();
    const keys = Array.from({ length: 150 }, (_, i) => `t1:${i}`);
    // Half the streams have entries before they are subscribed (their fan-in copies reach nobody).
    await append(
      writer,
      reader.replyTo,
      keys.slice(0, 75).map((key) => ({ key, k: 1, values: [`${key}#1`] })),
    );
    const results = Promise.all(keys.map((k) => take(reader.subscribe(k, ac.signal), 3)));
    await sleep(100);
    await append(
      writer,
      reader.replyTo,
      keys.slice(75).map((key) => ({ key, k: 1, values: [`${key}#1`] })),
    );
    // One fan-in entry per "step" for all streams; a resent step (the same ids again) is not read twice.
    await append(
      writer,
      reader.replyTo,
      keys.map((key) => ({ key, k: 2, values: [`${key}#2`] })),
    );
    await writer.xadd(reader.replyTo, '*', 'e', JSON.stringify(keys.map((key) => [key, '0-2', [`${key}#2`]])));
    await append(
      writer,
      reader.replyTo,
      keys.map((key) => ({ key, k: 3, values: [`${key}#3`] })),
    );
    const got = await results;
    got.forEach((values, i) =>
      assert.deepEqual(
        values,
        [1, 2, 3].map((j) => `${keys[i]}#${j}`),
      ),
    );
    assert.equal(reader.connections, 1);
    reader.close();
  });

  test('an entry whose fan-in copy is missing (a gap) is read from its stream, in its place', async () => {
    const reader = new OutputStreamReader(redis, { blockMs: 10_000, pollMs: 60_000 });
    const got = take(reader.subscribe('t2:a', new AbortController().signal), 4);
    await sleep(50);
    await append(writer, reader.replyTo, [{ key: 't2:a', k: 1, values: ['a', 'b'] }]);
    await append(writer, reader.replyTo, [{ key: 't2:a', k: 3, values: ['c'] }], false);
    await append(writer, reader.replyTo, [{ key: 't2:a', k: 4, values: ['d'] }]);
    assert.deepEqual(await got, ['a', 'b', 'c', 'd']);
    reader.close();
  });

  test('what a writer that does not fan in adds is read by the poll of quiet subscriptions', async () => {
    const reader = new OutputStreamReader(redis, { blockMs: 10_000, pollMs: 100 });
    const got = take(reader.subscribe('t3:a', new AbortController().signal), 2);
    await sleep(50);
    const started = Date.now();
    await writer.xadd('t3:a', '*', 'e', JSON.stringify('x'));
    await writer.xadd('t3:a', '*', 'e', JSON.stringify('y'));
    assert.deepEqual(await got, ['x', 'y']);
    assert.ok(Date.now() - started < 2000);
    reader.close();
  });

  test('an abort ends a subscription promptly; close() ends them all', async () => {
    const reader = new OutputStreamReader(redis, { blockMs: 30_000 });
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 100);
    assert.deepEqual(await take(reader.subscribe('t4:silent', ac.signal), 1), []);
    assert.ok(Date.now() - started < 5000);
    const pending = take(reader.subscribe('t4:other', new AbortController().signal), 1);
    setTimeout(() => reader.close(), 100);
    assert.deepEqual(await pending, []);
    const subscribedAfterClose = take(reader.subscribe('t4:late', new AbortController().signal), 1);
    assert.deepEqual(await subscribedAfterClose, []);
  });

  test('a consumer that does not pull leaves its backlog in Redis, and gets all of it, in order, when it does', async () => {
    const reader = new OutputStreamReader(redis, { blockMs: 30_000, pollMs: 60_000, maxBuffered: 8 });
    const ac = new AbortController();
    const slow = reader.subscribe('t5:slow', ac.signal);
    const fast = take(reader.subscribe('t5:fast', ac.signal), 200);
    // Start the slow subscription (a generator runs only when pulled), then stop pulling.
    const firstPull = slow.next();
    await sleep(50);
    for (let i = 0; i < 200; i++)
      await append(writer, reader.replyTo, [
        { key: 't5:slow', k: i + 1, values: [`s${i}`] },
        { key: 't5:fast', k: i + 1, values: [`f${i}`] },
      ]);
    const firstBurst = (await firstPull).value ?? [];
    assert.equal(firstBurst[0], 's0');
    // The fast stream is read to the end meanwhile; what the gateway holds for the slow one stays
    // within the bound (a catch-up read may add a bound's worth).
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
