import type { Redis } from 'ioredis';
import {
  SCHEDULERS_KEY,
  SCHEDULER_STATUS_INTERVAL_MS,
  SCHEDULER_STATUS_TTL_MS,
  schedulerStatusKey,
  type Logger,
  type SchedulerStatus,
  waitAtMost,
} from '@loom/common';

export interface StatusPublisherOptions {
  /** Defaults: SCHEDULER_STATUS_INTERVAL_MS and SCHEDULER_STATUS_TTL_MS (tests shorten them). */
  intervalMs?: number;
  ttlMs?: number;
}

/** Members of SCHEDULERS_KEY are checked for lapsed records once every this many writes. */
const PRUNE_EVERY = 10;

/**
 * Keeps this scheduler's status record (leader or standby) in Redis: rewritten every interval with a
 * TTL of a few intervals, so a process that dies stops being listed within the TTL, and removed at
 * stop(). `snapshot` is called on the event loop, between steps, so it reads a consistent view.
 */
export class StatusPublisher {
  private timer: NodeJS.Timeout | undefined;
  private writes = 0;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly intervalMs: number;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly holderId: string,
    private readonly snapshot: () => SchedulerStatus,
    private readonly log: Logger,
    opts: StatusPublisherOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? SCHEDULER_STATUS_INTERVAL_MS;
    this.ttlMs = opts.ttlMs ?? SCHEDULER_STATUS_TTL_MS;
  }

  start(): void {
    const tick = () => {
      // One write at a time: while Redis is away commands queue, and stacking them up helps nobody.
      this.inFlight = this.inFlight.then(() =>
        this.publish().catch((err: Error) => this.log.debug({ err: err.message }, 'status record not written')),
      );
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  /** Write the record now (and every PRUNE_EVERY writes, drop members whose records lapsed). */
  async publish(): Promise<void> {
    await this.redis
      .multi()
      .sadd(SCHEDULERS_KEY, this.holderId)
      .set(schedulerStatusKey(this.holderId), JSON.stringify(this.snapshot()), 'PX', this.ttlMs)
      .exec();
    if (this.writes++ % PRUNE_EVERY === 0) await pruneLapsed(this.redis);
  }

  /** Stop writing and delete the record, so readers stop listing this process at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    // Redis may be unreachable (commands queue until it is back): then the record just lapses.
    const remove = this.inFlight.then(() =>
      this.redis.multi().srem(SCHEDULERS_KEY, this.holderId).del(schedulerStatusKey(this.holderId)).exec(),
    );
    await waitAtMost(remove, this.ttlMs);
  }
}

/** Remove members of SCHEDULERS_KEY whose record lapsed (processes that died without stop()). */
async function pruneLapsed(redis: Redis): Promise<void> {
  const ids = await redis.smembers(SCHEDULERS_KEY);
  if (ids.length === 0) return;
  const records = await redis.mget(ids.map(schedulerStatusKey));
  const gone = ids.filter((_, i) => records[i] === null);
  if (gone.length) await redis.srem(SCHEDULERS_KEY, ...gone);
}
