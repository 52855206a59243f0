import type { Redis } from 'ioredis';
import { WORKERS_KEY, workerHeartbeatKey, type LoomConfig, type Logger, type WorkerRegistration } from '@loom/common';
import type { RequestManager, SeqSpec } from './request-manager.js';
import type { SchedulerMetrics } from './scheduler-metrics.js';
import { WorkerLoop } from './worker-loop.js';

/**
 * Every worker this scheduler steps, discovered from self-registrations in Redis (a registration
 * counts while its heartbeat key lives). Routes new sequences and re-routes those of a lost worker;
 * sequences no worker can take yet wait in `parked` (scale from zero without errors).
 */
export class WorkerPool {
  private readonly loops = new Map<string, WorkerLoop>();
  private readonly starting = new Set<string>();
  private parked: SeqSpec[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly config: LoomConfig,
    private readonly fencingToken: number,
    private readonly manager: RequestManager,
    private readonly metrics: SchedulerMetrics,
    private readonly log: Logger,
    /** Told whenever the set of ready workers changes (intake adjusts how much it takes). */
    private readonly onChange: () => void,
  ) {}

  start(): void {
    const tick = () => void this.refresh().catch((err: Error) => this.log.warn({ err: err.message }, 'worker discovery failed'));
    tick();
    this.timer = setInterval(tick, Math.max(100, this.config.heartbeatMs));
    this.timer.unref();
  }

  /** Models some ready worker serves. */
  allModels(): string[] {
    return [...this.loops.values()].filter((l) => l.ready).map((l) => l.worker.model);
  }

  /** Ready workers serving `model`. */
  workersFor(model: string): WorkerLoop[] {
    return [...this.loops.values()].filter((l) => l.ready && l.worker.model === model);
  }

  /** Place all sequences of one request on one worker, so its choices share the prompt's blocks. */
  route(seqs: SeqSpec[]): void {
    if (seqs.length === 0) return;
    const loop = this.pick(seqs[0]!.model);
    if (!loop) {
      this.parked.push(...seqs);
      return;
    }
    for (const s of seqs) loop.admit(s);
  }

  abort(seqIds: string[]): void {
    const gone = new Set(seqIds);
    this.parked = this.parked.filter((s) => !gone.has(s.seqId));
    for (const loop of this.loops.values()) for (const id of seqIds) loop.abort(id);
  }

  close(): void {
    clearInterval(this.timer);
    for (const loop of this.loops.values()) loop.stop();
    this.loops.clear();
  }

  /** Least-loaded ready worker (prefix-aware scoring comes with the routing work). */
  private pick(model: string): WorkerLoop | undefined {
    let best: WorkerLoop | undefined;
    for (const l of this.workersFor(model)) if (!best || l.load < best.load) best = l;
    return best;
  }

  private async refresh(): Promise<void> {
    const regs = await this.redis.hgetall(WORKERS_KEY);
    const ids = Object.keys(regs);
    const alive = ids.length ? await this.redis.mget(ids.map(workerHeartbeatKey)) : [];
    const live = new Set(ids.filter((_, i) => alive[i] !== null));
    for (const [id, loop] of this.loops) {
      if (!live.has(id)) {
        this.loops.delete(id);
        loop.fail('heartbeat lapsed or worker deregistered');
      }
    }
    for (const id of live) {
      if (this.loops.has(id) || this.starting.has(id)) continue;
      void this.join(JSON.parse(regs[id]!) as WorkerRegistration);
    }
  }

  private async join(reg: WorkerRegistration): Promise<void> {
    this.starting.add(reg.workerId);
    const loop = new WorkerLoop(reg, this.config, this.fencingToken, this.manager, this.metrics, this.log, (l, seqs, reason) =>
      this.lost(l, seqs, reason),
    );
    try {
      await loop.start();
      this.loops.set(reg.workerId, loop);
      this.metrics.setWorkersUp(this.loops.size);
      this.unpark();
      this.onChange();
    } catch (err) {
      loop.stop();
      this.log.warn({ worker: reg.workerId, address: reg.address, err: (err as Error).message }, 'worker did not answer; will retry');
    } finally {
      this.starting.delete(reg.workerId);
    }
  }

  private lost(loop: WorkerLoop, seqs: SeqSpec[], reason: string): void {
    this.loops.delete(loop.worker.workerId);
    this.metrics.setWorkersUp(this.loops.size);
    this.log.warn({ worker: loop.worker.workerId, reason, resumed: seqs.length }, "resuming the lost worker's sequences elsewhere");
    this.reroute(seqs);
    this.onChange();
  }

  private unpark(): void {
    const parked = this.parked;
    this.parked = [];
    this.reroute(parked);
  }

  /** Route again, keeping sibling choices of one request together. */
  private reroute(seqs: SeqSpec[]): void {
    const byRequest = new Map<string, SeqSpec[]>();
    for (const s of seqs) byRequest.set(s.requestId, [...(byRequest.get(s.requestId) ?? []), s]);
    for (const group of byRequest.values()) this.route(group);
  }
}
