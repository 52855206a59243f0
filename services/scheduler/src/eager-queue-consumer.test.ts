import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { BULLMQ_PREFIX, createRedis } from '@loom/common';
import { startRedis, waitFor, type RedisHandle } from '@loom/testing';
import { EagerQueueConsumer } from './eager-queue-consumer.js';

describe('EagerQueueConsumer against a real redis-server and BullMQ', () => {
  let local: RedisHandle;
  let redis: Redis;
  before(async () => {
    local = await startRedis();
    redis = createRedis(local.url, 'eager-test');
  });
  after(async () => {
    redis?.disconnect();
    await local?.stop();
  });

  test('a burst of jobs: each is told as it is taken, before BullMQ processes the first; each processed once', async () => {
    const name = 'loom-requests-eager-test';
    const opts = { connection: redis, prefix: BULLMQ_PREFIX };
    const queue = new Queue(name, opts);
    const ids = Array.from({ length: 20 }, (_, i) => `job-${i}`);
    await queue.addBulk(ids.map((jobId) => ({ name: 'request', data: { jobId }, opts: { jobId } })));
    const taken: string[] = [];
    const processed: string[] = [];
    let takenAtFirstProcess = -1;
    const c = new EagerQueueConsumer<{ jobId: string }>(
      name,
      async (job) => {
        if (takenAtFirstProcess < 0) takenAtFirstProcess = taken.length;
        processed.push(job.data.jobId);
        await new Promise((r) => setTimeout(r, 5));
      },
      { connection: redis.duplicate(), prefix: BULLMQ_PREFIX, concurrency: 64 },
      (job) => taken.push(job.data.jobId),
    );
    try {
      await waitFor(() => processed.length === ids.length, { timeoutMs: 10_000 });
      assert.deepEqual([...taken].sort(), [...ids].sort(), 'every job told once, when taken');
      assert.deepEqual([...processed].sort(), [...ids].sort(), 'and processed once');
      // BullMQ itself processes none of a burst before it has fetched all of it: what onTaken is for.
      assert.equal(takenAtFirstProcess, ids.length);
      // And completed by BullMQ as usual (processed is pushed when processing starts).
      await waitFor(async () => (await queue.getJobCountByTypes('wait', 'active')) === 0, { timeoutMs: 10_000 });
    } finally {
      await c.close();
      await queue.close();
    }
  });
});
