import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import {
  SCHEDULERS_KEY,
  SCHEDULER_FENCE_KEY,
  configFromEnv,
  createLogger,
  schedulerStatusKey,
  type SchedulerStatus,
} from '@loom/common';
import { useRedis, waitFor } from '@loom/testing';
import { startScheduler, type RunningScheduler } from '../start-scheduler.js';
import { StatusPublisher } from './status-publisher.js';

const server = useRedis();
const conn = (): Redis => server.connect();
const log = createLogger('test', 'silent');

const record = (holderId: string, leading: boolean): SchedulerStatus => ({
  holderId,
  leading,
  fencingToken: leading ? 7 : null,
  startedAt: 1,
  termStartedAt: leading ? 2 : null,
  updatedAt: Date.now(),
  acquisitions: leading ? 1 : 0,
  workers: [],
  parked: leading ? { m: 3 } : {},
});

async function read(redis: Redis, holderId: string): Promise<SchedulerStatus | null> {
  const raw = await redis.get(schedulerStatusKey(holderId));
  return raw === null ? null : (JSON.parse(raw) as SchedulerStatus);
}

test('each process keeps its own record with a TTL, listed in SCHEDULERS_KEY; stop() removes it at once', async () => {
  const redis = conn();
  const a = new StatusPublisher(conn(), 'pub-a', () => record('pub-a', true), log, { intervalMs: 50, ttlMs: 400 });
  const b = new StatusPublisher(conn(), 'pub-b', () => record('pub-b', false), log, { intervalMs: 50, ttlMs: 400 });
  a.start();
  b.start();
  await waitFor(async () => (await redis.smembers(SCHEDULERS_KEY)).sort().join() === 'pub-a,pub-b');
  const ra = await read(redis, 'pub-a');
  assert.equal(ra?.leading, true);
  assert.deepEqual(ra?.parked, { m: 3 });
  assert.equal((await read(redis, 'pub-b'))?.leading, false);
  const ttl = await redis.pttl(schedulerStatusKey('pub-a'));
  assert.ok(ttl > 0 && ttl <= 400, `record expires (pttl ${ttl})`);
  // Rewritten every interval: updatedAt moves on.
  const first = ra!.updatedAt;
  await waitFor(async () => ((await read(redis, 'pub-a'))?.updatedAt ?? 0) > first);

  await b.stop();
  assert.equal(await read(redis, 'pub-b'), null);
  assert.deepEqual(await redis.smembers(SCHEDULERS_KEY), ['pub-a']);
  await a.stop();
  assert.deepEqual(await redis.smembers(SCHEDULERS_KEY), []);
});

test('a process that dies without stop(): its record lapses and a live writer drops it from the set', async () => {
  const redis = conn();
  const dying = conn();
  const dead = new StatusPublisher(dying, 'pub-dead', () => record('pub-dead', false), log, {
    intervalMs: 50,
    ttlMs: 300,
  });
  dead.start();
  await waitFor(async () => (await read(redis, 'pub-dead')) !== null);
  // Its connection goes away as with a killed process: writes fail from now on.
  dying.disconnect();
  const live = new StatusPublisher(conn(), 'pub-live', () => record('pub-live', true), log, {
    intervalMs: 50,
    ttlMs: 300,
  });
  live.start();
  await waitFor(async () => (await read(redis, 'pub-dead')) === null, { timeoutMs: 2000 });
  await waitFor(async () => (await redis.smembers(SCHEDULERS_KEY)).join() === 'pub-live', { timeoutMs: 3000 });
  await live.stop();
  await assert.rejects(dead.stop(), /Connection is closed/, 'a dead connection cannot remove the record');
});

test('real schedulers publish leader and standby records; a takeover shows in the new leader record', async () => {
  const redis = conn();
  await redis.flushall();
  const config = configFromEnv({}, { redisUrl: server.url, metricsPort: 0, logLevel: 'silent', leaseTtlMs: 1200 });
  const first = await startScheduler(config);
  const running: RunningScheduler[] = [first];
  try {
    await waitFor(async () => (await read(redis, first.holderId))?.leading === true);
    const second = await startScheduler(config);
    running.push(second);
    await waitFor(async () => (await read(redis, second.holderId)) !== null);
    const lead = (await read(redis, first.holderId))!;
    assert.equal(lead.acquisitions, 1);
    assert.equal(lead.fencingToken, Number(await redis.get(SCHEDULER_FENCE_KEY)));
    assert.ok(lead.termStartedAt !== null && lead.termStartedAt >= lead.startedAt);
    assert.deepEqual(lead.workers, [], 'no worker registered');
    const standby = (await read(redis, second.holderId))!;
    assert.equal(standby.leading, false);
    assert.equal(standby.fencingToken, null);

    await first.close();
    running.shift();
    assert.equal(await read(redis, first.holderId), null, 'a stopped scheduler removes its record');
    await waitFor(async () => (await read(redis, second.holderId))?.leading === true, { timeoutMs: 5000 });
    const taken = (await read(redis, second.holderId))!;
    assert.equal(taken.acquisitions, 1);
    assert.equal(taken.fencingToken, lead.fencingToken! + 1, 'the new term has the next fencing token');
    assert.deepEqual(await redis.smembers(SCHEDULERS_KEY), [second.holderId]);
  } finally {
    await Promise.all(running.map((s) => s.close()));
  }
});
