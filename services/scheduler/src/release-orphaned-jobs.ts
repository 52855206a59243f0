import type { Redis } from 'ioredis';
import { BULLMQ_PREFIX } from '@loom/common';

/**
 * Hands a new leader the previous leader's in-flight jobs at once: deletes the lock of every active
 * job of `queueName`, so BullMQ's next stalled checks (this leader's queue consumer, every second) put them
 * back in the queue, where this leader takes them and resumes each from its output stream. Only a
 * leader runs intake, so every job active when a term starts belongs to an earlier term; locks can
 * then be long (a live leader starved of CPU keeps its jobs) while failover stays fast. Returns how
 * many jobs were released. Keys are BullMQ's: `<prefix>:<queue>:active` and `<prefix>:<queue>:<id>:lock`.
 */
export async function releaseOrphanedJobs(redis: Redis, queueName: string): Promise<number> {
  const base = `${BULLMQ_PREFIX}:${queueName}`;
  const ids = await redis.lrange(`${base}:active`, 0, -1);
  if (ids.length > 0) await redis.del(...ids.map((id) => `${base}:${id}:lock`));
  return ids.length;
}
