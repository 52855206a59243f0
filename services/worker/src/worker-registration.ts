import type { Redis } from 'ioredis';
import {
  MODELS_KEY,
  WORKERS_KEY,
  modelCardKey,
  workerHeartbeatKey,
  type ModelCard,
  type WorkerRegistration,
} from '@loom/common';

/** Heartbeats missed before the worker counts as gone (the heartbeat key's TTL). */
export const MISSED_HEARTBEATS = 3;

/**
 * Publishes the model card and this worker's registration, then keeps a heartbeat key alive.
 * Schedulers treat a registration without a live heartbeat key as a dead worker.
 */
export class WorkerRegistrar {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly reg: WorkerRegistration,
    private readonly heartbeatMs: number,
  ) {}

  async publish(card: ModelCard): Promise<void> {
    await this.redis
      .multi()
      .set(modelCardKey(card.modelId), JSON.stringify(card))
      .sadd(MODELS_KEY, card.modelId)
      .hset(WORKERS_KEY, this.reg.workerId, JSON.stringify(this.reg))
      .set(workerHeartbeatKey(this.reg.workerId), String(Date.now()), 'PX', this.heartbeatMs * MISSED_HEARTBEATS)
      .exec();
    this.timer = setInterval(() => {
      this.redis
        .set(workerHeartbeatKey(this.reg.workerId), String(Date.now()), 'PX', this.heartbeatMs * MISSED_HEARTBEATS)
        .catch(() => {
          // Redis is away: ioredis reconnects; a missed beat or two is what the TTL allows for.
        });
    }, this.heartbeatMs);
    this.timer.unref();
  }

  /** Deregister: schedulers notice at once instead of waiting for the heartbeat to lapse. */
  async withdraw(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.multi().hdel(WORKERS_KEY, this.reg.workerId).del(workerHeartbeatKey(this.reg.workerId)).exec();
  }
}
