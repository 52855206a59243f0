import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Queue, Worker as QueueConsumer, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { BULLMQ_PREFIX } from '@loom/common';
import { waitFor, useRedis } from '@loom/testing';
import { releaseOrphanedJobs } from './release-orphaned-jobs.js';

describe('releaseOrphanedJobs against a real redis-server and BullMQ', () => {
  const local = useRedis();
  let redis: Redis;
  before(() => {
    redis = local.connect('release-test');
  });

  test("a new leader's queue consumer gets a dead leader's active job at once, not when its 30 s lock lapses", async () => {
    const name = 'loom-requests-release-test';
    const opts = { connection: redis, prefix: BULLMQ_PREFIX };
    // As Intake configures its queue consumers: the stalled check's pace is shared by every consumer of a queue.
    const consumerOpts = { ...opts, lockDuration: 30_000, stalledInterval: 500, maxStalledCount: 10 };
    const queue = new Queue(name, opts);
    await queue.add('request', { n: 1 }, { jobId: 'job-1' });
    // The dead leader: took the job, then stopped without finishing it (its lock stays for 30 s).
    let taken!: () => void;
    const tookIt = new Promise<void>((r) => (taken = r));
    const dead = new QueueConsumer(name, () => (taken(), new Promise(() => undefined)), {
      ...consumerOpts,
      connection: redis.duplicate(),
    });
    await tookIt;
    await dead.close(true);
    const got: string[] = [];
    const leader = new QueueConsumer(name, async (job: Job) => void got.push(job.id!), {
      ...consumerOpts,
      connection: redis.duplicate(),
    });
    try {
      await new Promise((r) => setTimeout(r, 2000));
      assert.deepEqual(got, [], 'while its lock holds, nobody gets the job');
      assert.equal(await releaseOrphanedJobs(redis, name), 1);
      await waitFor(() => got.length > 0, { timeoutMs: 5000 });
      assert.deepEqual(got, ['job-1']);
    } finally {
      await leader.close();
      await queue.close();
    }
  });
});
