import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { outputStreamKey, SCHEDULER_FENCE_KEY, type OutputEvent, at } from '@loom/common';
import { useRedis } from '@loom/testing';
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
  const local = useRedis();
  let redis: Redis;
  const texts = async (id: string) =>
    (await redis.xrange(outputStreamKey(id), '-', '+')).map(
      ([eid, f]) =>
        `${eid}:${(JSON.parse(at(f, 1)) as { text?: string; type: string }).text ?? (JSON.parse(at(f, 1)) as { type: string }).type}`,
    );

  before(() => {
    redis = local.connect('output-log-test');
  });

  test('entries get consecutive ids 0-1, 0-2, ...; the final append sets the expiry', async () => {
    const log = new OutputLog(redis);
    await log.read('a', 1);
    await log.append('a', [token('x'), token('y')]);
    await log.append('a', [token('z'), finish], true);
    assert.deepEqual(await texts('a'), ['0-1:x', '0-2:y', '0-3:z', '0-4:finish']);
    assert.ok((await redis.ttl(outputStreamKey('a'))) > 0);
  });

  test('start() stands for reading a stream nobody wrote: nothing streamed, entries from 0-1', async () => {
    const log = new OutputLog(redis);
    assert.deepEqual(log.start('s', 2), await log.read('never-written', 2));
    await log.append('s', [token('x')]);
    await log.append('s', [finish], true);
    assert.deepEqual(await texts('s'), ['0-1:x', '0-2:finish']);
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

  test("one step's events of several requests go in one call, each to its own stream in order", async () => {
    const log = new OutputLog(redis);
    await log.read('m1', 1);
    await log.read('m2', 1);
    await log.appendMany([
      { requestId: 'm1', events: [token('a')], final: false },
      { requestId: 'm2', events: [token('b'), token('c')], final: false },
      { requestId: 'm3', events: [], final: false },
    ]);
    await log.appendMany([
      { requestId: 'm1', events: [token('d'), finish], final: true },
      { requestId: 'm2', events: [token('e')], final: false },
    ]);
    assert.deepEqual(await texts('m1'), ['0-1:a', '0-2:d', '0-3:finish']);
    assert.deepEqual(await texts('m2'), ['0-1:b', '0-2:c', '0-3:e']);
    assert.ok((await redis.ttl(outputStreamKey('m1'))) > 0, 'a finished stream expires');
    assert.equal(await redis.ttl(outputStreamKey('m2')), -1, 'an open one does not');
    assert.equal(await redis.exists(outputStreamKey('m3')), 0, 'no events, no stream');
  });

  test("each append is copied to its requests' gateway fan-in streams, one entry per gateway; a resend is not", async () => {
    const log = new OutputLog(redis);
    const resend = new OutputLog(redis);
    for (const id of ['g1', 'g2', 'g3']) {
      log.start(id, 1);
      resend.start(id, 1);
    }
    const gwA = 'loom:gateway:out:a';
    const gwB = 'loom:gateway:out:b';
    await log.appendMany([
      { requestId: 'g1', events: [token('a'), token('b')], final: false, replyTo: gwA },
      { requestId: 'g2', events: [token('c')], final: false, replyTo: gwB },
      { requestId: 'g3', events: [token('d')], final: false, replyTo: gwA },
    ]);
    // The resend of g1's append (already there: skipped, not copied) with one new entry (copied).
    await resend.appendMany([
      { requestId: 'g1', events: [token('a'), token('b'), token('e')], final: false, replyTo: gwA },
    ]);
    const copies = async (key: string) =>
      (await redis.xrange(key, '-', '+')).map(([, f]) =>
        (JSON.parse(at(f, 1)) as [string, string, { text: string }[]][]).map(
          ([k, id, events]) => `${k}@${id}:${events.map((e) => e.text).join('')}`,
        ),
      );
    assert.deepEqual(await copies(gwA), [
      [`${outputStreamKey('g1')}@0-1:ab`, `${outputStreamKey('g3')}@0-1:d`],
      [`${outputStreamKey('g1')}@0-3:e`],
    ]);
    assert.deepEqual(await copies(gwB), [[`${outputStreamKey('g2')}@0-1:c`]]);
    assert.deepEqual(await texts('g1'), ['0-1:a', '0-2:b', '0-3:e']);
    assert.ok((await redis.ttl(gwA)) > 0, 'a fan-in stream expires unless appended to');
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
