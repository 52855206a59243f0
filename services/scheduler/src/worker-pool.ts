import type { LoomConfig, Logger, WorkerStatus } from '@loom/common';
import { Router, type RoutingPolicy } from './cluster/router.js';
import { hashFullBlocks } from './core/index.js';
import type { RequestManager } from './request-manager.js';
import { MAX_WORKER_FAILURES, type SeqSpec } from './seq-spec.js';
import type { SchedulerMetrics } from './scheduler-metrics.js';
import type { StructuredOutputManager } from './structured-output/structured-output-manager.js';
import { joiningWorkerStatus } from './joining-worker-status.js';
import { StepLoop } from './step-loop.js';

/** Where workers come from: Redis registrations or Kubernetes EndpointSlices (same events). */
export interface WorkerDiscovery {
  on(event: 'added', listener: (workerId: string, address: string) => void): unknown;
  on(event: 'removed', listener: (workerId: string) => void): unknown;
  start(): void | Promise<void>;
  stop(): void;
}

/**
 * Every worker this scheduler steps. Routes new sequences with the Router (longest cached prefix
 * weighed against load, session affinity) and re-routes those of a lost worker; sequences no
 * worker can take yet wait in `parked` (scale from zero without errors).
 */
export class WorkerPool {
  private readonly loops = new Map<string, StepLoop>();
  private readonly starting = new Set<string>();
  /** What discovery says exists now (id → address); a lost worker still listed here is rejoined. */
  private readonly known = new Map<string, string>();
  private readonly router: Router;
  private parked: SeqSpec[] = [];
  private closed = false;

  constructor(
    private readonly discovery: WorkerDiscovery,
    private readonly config: LoomConfig,
    private readonly fencingToken: number,
    private readonly manager: RequestManager,
    private readonly metrics: SchedulerMetrics,
    private readonly log: Logger,
    /** Told whenever the set of ready workers changes (intake adjusts how much it takes). */
    private readonly onChange: () => void,
    /** Grammar state of constrained sequences (structured outputs); without it none may be routed. */
    private readonly structured?: StructuredOutputManager,
  ) {
    this.router = new Router({ policy: config.routingPolicy as RoutingPolicy });
    discovery.on('added', (id, address) => {
      this.known.set(id, address);
      void this.join(id, address);
    });
    discovery.on('removed', (id) => {
      this.known.delete(id);
      this.loops.get(id)?.fail('worker deregistered or its heartbeat lapsed');
    });
  }

  start(): void {
    void this.discovery.start();
  }

  /** Models some ready worker serves. */
  allModels(): string[] {
    return [...new Set([...this.loops.values()].filter((l) => l.ready).map((l) => l.model))];
  }

  /** Ready workers serving `model`. */
  workersFor(model: string): StepLoop[] {
    return [...this.loops.values()].filter((l) => l.ready && l.model === model);
  }

  /** Sequences of `model` parked until a worker for it appears. */
  numParkedFor(model: string): number {
    return this.parked.filter((s) => s.model === model).length;
  }

  /** Every worker stepped or listed by discovery (status record), and the sequences parked per model. */
  status(): { workers: WorkerStatus[]; parked: Record<string, number> } {
    const workers = [...this.loops.values()].map((l) => l.status());
    for (const [id, address] of this.known) if (!this.loops.has(id)) workers.push(joiningWorkerStatus(id, address));
    const parked: Record<string, number> = {};
    for (const s of this.parked) parked[s.model] = (parked[s.model] ?? 0) + 1;
    return { workers, parked };
  }

  /**
   * Place all sequences of one request on one worker, so its choices share the prompt's blocks. The
   * inputs of an embedding request share no prompt: each is routed on its own (its prefix, the load).
   */
  route(seqs: SeqSpec[]): void {
    const [s] = seqs;
    if (s === undefined) return;
    if (s.pooling && seqs.length > 1) {
      for (const seq of seqs) this.route([seq]);
      return;
    }
    const candidates = this.workersFor(s.model);
    const tokens = [...s.promptTokenIds, ...s.outputTokenIds];
    // Hashed once here, for the router's probes and the chosen core alike: the step loop never
    // re-hashes a prompt (a long shared system prompt is most of the cost of an admission).
    const [first] = candidates;
    const blockHashes = first === undefined ? undefined : hashFullBlocks(tokens, first.blockSize, s.cacheSalt ?? null);
    const decision = this.router.route(
      { promptTokenIds: tokens, cacheSalt: s.cacheSalt, sessionId: s.sessionId, blockHashes },
      candidates,
    );
    const loop = decision && this.loops.get(decision.workerId);
    if (!loop) {
      this.parked.push(...seqs);
      return;
    }
    this.log.debug(
      { requestId: s.requestId, worker: loop.id, reason: decision.reason, cachedTokens: decision.cachedTokens },
      'request routed',
    );
    if (s.acceptedAt !== undefined) {
      this.metrics.observeQueueTime(s.model, (Date.now() - s.acceptedAt) / 1000);
      // Cleared on the specs the loop keeps, so a failover's re-admission is not a second queue time.
      for (const seq of seqs) seq.acceptedAt = undefined;
    }
    // Siblings resumed with different outputs (failover) share only the prompt: the core hashes theirs.
    for (const seq of seqs) loop.admit(seq, sameTokens(seq.outputTokenIds, s.outputTokenIds) ? blockHashes : undefined);
  }

  abort(seqIds: string[]): void {
    const gone = new Set(seqIds);
    this.parked = this.parked.filter((s) => !gone.has(s.seqId));
    for (const loop of this.loops.values()) for (const id of seqIds) loop.abort(id);
  }

  close(): void {
    this.closed = true;
    this.discovery.stop();
    for (const loop of this.loops.values()) loop.stop();
    this.loops.clear();
  }

  private async join(id: string, address: string, attempt = 0): Promise<void> {
    if (this.closed || this.known.get(id) !== address || this.loops.has(id) || this.starting.has(id)) return;
    this.starting.add(id);
    const loop = new StepLoop(
      id,
      address,
      this.config,
      this.fencingToken,
      this.manager,
      this.metrics,
      this.log,
      (l, seqs, reason) => this.lost(l, seqs, reason),
      this.structured,
    );
    try {
      await loop.start();
      if (this.closed) return loop.stop();
      this.loops.set(id, loop);
      this.metrics.setWorkersUp(this.loops.size);
      this.reroute(this.takeParked());
      this.onChange();
    } catch (err) {
      loop.stop();
      this.log.warn(
        { worker: id, address, attempt, err: (err as Error).message },
        'worker did not answer; retrying while it is listed',
      );
      this.retryJoin(id, address, attempt + 1);
    } finally {
      this.starting.delete(id);
    }
  }

  /** Back off (0.5 s doubling to 10 s) and join again, as long as discovery still lists the worker. */
  private retryJoin(id: string, address: string, attempt: number): void {
    setTimeout(() => void this.join(id, address, attempt), Math.min(10_000, 500 * 2 ** Math.min(attempt, 5))).unref();
  }

  private lost(loop: StepLoop, seqs: SeqSpec[], reason: string): void {
    this.loops.delete(loop.id);
    this.metrics.setWorkersUp(this.loops.size);
    const moved: SeqSpec[] = [];
    for (const s of seqs) {
      const failures = (s.workerFailures ?? 0) + 1;
      if (failures < MAX_WORKER_FAILURES) moved.push({ ...s, workerFailures: failures });
      else
        this.abort(
          this.manager.fail(
            s.requestId,
            500,
            'worker_failures',
            `the request was on ${failures} workers that failed (last: ${reason}); not retried`,
          ),
        );
    }
    this.log.warn(
      { worker: loop.id, reason, resumed: moved.length, given_up: seqs.length - moved.length },
      "resuming the lost worker's sequences elsewhere",
    );
    this.reroute(moved);
    this.onChange();
    // A worker that only broke its stream (still listed) is reset and warmed up again.
    if (!this.closed && this.known.has(loop.id)) this.retryJoin(loop.id, loop.address, 0);
  }

  private takeParked(): SeqSpec[] {
    const parked = this.parked;
    this.parked = [];
    return parked;
  }

  /** Route again, keeping sibling choices of one request together. */
  private reroute(seqs: SeqSpec[]): void {
    const byRequest = new Map<string, SeqSpec[]>();
    for (const s of seqs) byRequest.set(s.requestId, [...(byRequest.get(s.requestId) ?? []), s]);
    for (const group of byRequest.values()) this.route(group);
  }
}

const sameTokens = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((t, i) => t === b[i]);
