import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { createRedis, outputStreamKey, SCHEDULER_FENCE_KEY, type OutputEvent } from '@loom/common';
import { startRedis, type RedisHandle } from '@loom/testing';
import { OutputLog } from './output-log.js';

const token = (text: string): OutputEvent => ({ type: 'token', index: 0, tokenIds: [text.length], text });
const finish: OutputEvent = {
  type: 'finish',
  index: 0,
  finishReason: 'length',
  stopReason: null,
  promptTokens: 1,
  completionTokens: 3,
};

describe('OutputLog against a real redis-server', () => {
  let local: RedisHandle;
  let redis: Redis;
  const texts = async (id: string) =>
    (await redis.xrange(outputStreamKey(id), '-', '+')).map(
      ([eid, f]) =>
        `${eid}:${(JSON.parse(f[1]!) as { text?: string; type: string }).text ?? (JSON.parse(f[1]!) as { type: string }).type}`,
    );

  before(async () => {
    local = await startRedis();
    redis = createRedis(local.url, 'output-log-test');
  });
  after(async () => {
    redis.disconnect();
    await local.stop();
  });

  test('entries get consecutive ids 0-1, 0-2, ...; the final append sets the expiry', async () => {
    const log = new OutputLog(redis);
    await log.read('a', 1);
    await log.append('a', [token('x'), token('y')]);
    await log.append('a', [token('z'), finish], true);
    assert.deepEqual(await texts('a'), ['0-1:x', '0-2:y', '0-3:z', '0-4:finish']);
    assert.ok((await redis.ttl(outputStreamKey('a'))) > 0);
  });

  test('an append sent again (a reply lost to a Redis restart) adds nothing: exactly once', async () => {
    // Two writers at the same stream position stand for one append and its resend by ioredis.
    const log = new OutputLog(redis);
    const resend = new OutputLog(redis);
    await log.read('b', 1);
    await resend.read('b', 1);
    await log.append('b', [token('x')]);
    await resend.append('b', [token('x'), token('y')]);
    assert.deepEqual(await texts('b'), ['0-1:x', '0-2:y'], 'the entry already there is skipped, the new one added');
  });

  test('a resumed request continues after what its stream holds, also after time-based ids', async () => {
    await redis.xadd(outputStreamKey('d'), '0-1', 'e', JSON.stringify(token('x')));
    const log = new OutputLog(redis);
    assert.deepEqual((await log.read('d', 1)).tokenIds, [[1]]);
    await log.append('d', [token('y')]);
    const legacy = await redis.xadd(outputStreamKey('e'), '*', 'e', JSON.stringify(token('x')));
    await log.read('e', 1);
    await log.append('e', [token('y')]);
    assert.deepEqual(await texts('d'), ['0-1:x', '0-2:y']);
    assert.deepEqual(await texts('e'), [`${legacy}:x`, `${legacy!.split('-')[0]}-1:y`]);
  });

  test("a deposed leader's appends are refused once a newer term holds the fence", async () => {
    const term = Number(await redis.incr(SCHEDULER_FENCE_KEY));
    const old = new OutputLog(redis, { fencingToken: term });
    await old.read('f', 1);
    await old.append('f', [token('x')]);
    await redis.incr(SCHEDULER_FENCE_KEY); // a standby took over
    await old.append('f', [token('stale')]);
    const next = new OutputLog(redis, { fencingToken: term + 1 });
    await next.read('f', 1);
    await next.append('f', [token('y')]);
    assert.deepEqual(await texts('f'), ['0-1:x', '0-2:y']);
  });
});
