import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  at,
  BULLMQ_PREFIX,
  SCHEDULERS_KEY,
  SCHEDULER_FENCE_KEY,
  SCHEDULER_LEASE_KEY,
  WORKERS_KEY,
  createRedis,
  requestQueueName,
  schedulerStatusKey,
  workerHeartbeatKey,
  type Logger,
  type SchedulerStatus,
  type WorkerRegistration,
} from '@loom/common';

/** What Redis holds about the cluster right now, as the workers and schedulers published it. */
export interface ClusterState {
  /** Worker registrations whose heartbeat is alive. */
  workers: WorkerRegistration[];
  /** Records of live scheduler processes (leader and standbys). */
  schedulers: SchedulerStatus[];
  /** Holder id in the leader lease, null when no scheduler leads. */
  leaseHolder: string | null;
  /** The fencing counter: leader terms since this Redis began. */
  terms: number;
  /** Per model id: requests waiting in its queue, and those a scheduler took (active). */
  queues: Record<string, { waiting: number; active: number }>;
}

export interface ClusterStateSource {
  read(models: readonly string[]): Promise<ClusterState>;
  close(): Promise<void>;
}

/**
 * Reads ClusterState from Redis on a connection of its own, opened on the first read: a gateway whose
 * status nobody asks for holds no extra connection.
 */
export class RedisClusterState implements ClusterStateSource {
  private redis: Redis | undefined;
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly redisUrl: string,
    private readonly log?: Logger,
  ) {}

  async read(models: readonly string[]): Promise<ClusterState> {
    const redis = (this.redis ??= this.connect());
    const [regs, schedulerIds, leaseHolder, fence] = await Promise.all([
      redis.hgetall(WORKERS_KEY),
      redis.smembers(SCHEDULERS_KEY),
      redis.get(SCHEDULER_LEASE_KEY),
      redis.get(SCHEDULER_FENCE_KEY),
    ]);
    const workerIds = Object.keys(regs);
    const [beats, records, queues] = await Promise.all([
      workerIds.length ? redis.mget(workerIds.map(workerHeartbeatKey)) : [],
      schedulerIds.length ? redis.mget(schedulerIds.map(schedulerStatusKey)) : [],
      Promise.all(models.map((m) => this.queueCounts(redis, m))),
    ]);
    return {
      workers: workerIds.flatMap((id, i) => {
        const reg = regs[id]; // a worker deregistering between the two reads has none
        return beats[i] === null || reg === undefined ? [] : parse<WorkerRegistration>(reg);
      }),
      schedulers: records.flatMap((r) => (r === null ? [] : parse<SchedulerStatus>(r))),
      leaseHolder,
      terms: Number(fence ?? 0),
      queues: Object.fromEntries(models.map((m, i) => [m, at(queues, i)])),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.redis?.disconnect();
  }

  private connect(): Redis {
    const redis = createRedis(this.redisUrl, 'loom-gateway-status');
    // The backend's connection reports Redis outages; this one only keeps ioredis from printing them.
    redis.on('error', (err: Error) => this.log?.debug({ err: err.message }, 'status redis connection error'));
    return redis;
  }

  private async queueCounts(redis: Redis, model: string): Promise<{ waiting: number; active: number }> {
    let q = this.queues.get(model);
    if (!q) {
      q = new Queue(requestQueueName(model), { connection: redis, prefix: BULLMQ_PREFIX });
      this.queues.set(model, q);
    }
    const c = await q.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0), active: c.active ?? 0 };
  }
}

/** A record that does not parse is left out (a newer or broken writer), never fatal to the page. */
function parse<T>(json: string): T[] {
  try {
    return [JSON.parse(json) as T];
  } catch {
    return [];
  }
}
