import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { entry, WORKERS_KEY, workerHeartbeatKey, type Logger, type WorkerRegistration } from '@loom/common';

interface DiscoveryEvents {
  added: [workerId: string, address: string];
  removed: [workerId: string];
}

/**
 * Worker discovery outside Kubernetes: workers register themselves in WORKERS_KEY and keep a
 * heartbeat key alive; a registration counts while its heartbeat lives. Emits the same events as
 * EndpointSliceDiscovery, so the pool does not care which one feeds it.
 */
export class RedisWorkerDiscovery extends EventEmitter<DiscoveryEvents> {
  private readonly current = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly pollMs: number,
    private readonly log: Logger,
  ) {
    super();
  }

  start(): void {
    const tick = () =>
      void this.poll().catch((err: Error) => this.log.warn({ err: err.message }, 'worker discovery failed'));
    tick();
    this.timer = setInterval(tick, Math.max(100, this.pollMs));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    const regs = await this.redis.hgetall(WORKERS_KEY);
    const ids = Object.keys(regs);
    const beats = ids.length ? await this.redis.mget(ids.map(workerHeartbeatKey)) : [];
    const live = new Map<string, string>();
    ids.forEach((id, i) => {
      if (beats[i] !== null) live.set(id, (JSON.parse(entry(regs, id)) as WorkerRegistration).address);
    });
    for (const [id, address] of this.current) {
      if (live.get(id) !== address) {
        this.current.delete(id);
        this.emit('removed', id);
      }
    }
    for (const [id, address] of live) {
      if (!this.current.has(id)) {
        this.current.set(id, address);
        this.emit('added', id, address);
      }
    }
  }
}
