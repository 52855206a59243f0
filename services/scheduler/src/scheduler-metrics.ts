import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BUCKETS, EVENT_LOOP_MONITORING_PRECISION_MS, METRIC, VLLM_METRIC, waitAtMost } from '@loom/common';
import type { Scheduler } from './core/index.js';

/** Longest a scrape waits for the queue depth's Redis read, ms. */
const DEPTH_READ_MS = 250;

/** Label values of one worker's series. */
export type WorkerLabels = { model_name: string; worker: string };

/**
 * Scheduling metrics, labelled by worker. Gauges that the ecosystem keys on (running, waiting, KV
 * usage) are also exported under vLLM's names so vLLM dashboards and KEDA recipes work unchanged.
 */
export class SchedulerMetrics {
  readonly registry = new Registry();
  private readonly running: Gauge[];
  private readonly waiting: Gauge[];
  private readonly kvUsage: Gauge[];
  private readonly stepSeconds: Histogram;
  private readonly stepTokens: Histogram;
  private readonly preemptions: Counter[];
  private readonly prefixQueried: Counter[];
  private readonly prefixHit: Counter[];
  private readonly workersUp: Gauge;
  private readonly leader: Gauge;
  private readonly acquisitions: Counter;
  private readonly queueDepth: Gauge;
  private readonly queueTime: Histogram[];
  private readonly grammarCompile: Histogram;
  private readonly grammarFill: Histogram;
  /** Sets the queue-depth gauge from Redis; called at each scrape while intake runs. */
  private depthSource?: () => Promise<void>;
  /** Last cumulative core stats per worker, to turn them into counter increments. */
  private readonly last = new Map<string, { preemptions: number; queried: number; hit: number }>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({
      register: this.registry,
      eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_PRECISION_MS,
    });
    const labelNames = ['model_name', 'worker'];
    const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames, registers });
    this.running = [
      gauge(METRIC.requestsRunning, 'Sequences running on the worker'),
      gauge(VLLM_METRIC.requestsRunning, 'Number of requests in model execution batches'),
    ];
    this.waiting = [
      gauge(METRIC.requestsWaiting, 'Sequences waiting for the worker'),
      gauge(VLLM_METRIC.requestsWaiting, 'Number of requests waiting to be processed'),
    ];
    this.kvUsage = [
      gauge(METRIC.kvUsageRatio, 'Share of KV blocks in use, 0..1'),
      gauge(VLLM_METRIC.kvUsage, 'KV-cache usage. 1 means 100 percent usage'),
    ];
    this.stepSeconds = new Histogram({
      name: METRIC.stepDuration,
      help: 'Wall time of one step, scheduler to worker and back, seconds',
      labelNames,
      buckets: [...BUCKETS.step],
      registers,
    });
    this.stepTokens = new Histogram({
      name: METRIC.tokensPerStep,
      help: 'Tokens scheduled in one step',
      labelNames,
      buckets: [...BUCKETS.tokensPerStep],
      registers,
    });
    this.preemptions = [
      new Counter({
        name: METRIC.preemptions,
        help: 'Sequences preempted (recomputed later) because KV blocks ran out',
        labelNames,
        registers,
      }),
      new Counter({
        name: VLLM_METRIC.preemptions,
        help: 'Cumulative number of preemption from the engine',
        labelNames,
        registers,
      }),
    ];
    this.prefixQueried = [
      new Counter({
        name: METRIC.prefixQueriedTokens,
        help: 'Prompt tokens looked up in the prefix cache',
        labelNames,
        registers,
      }),
      new Counter({
        name: VLLM_METRIC.prefixQueries,
        help: 'Prefix cache queries, in terms of number of queried tokens',
        labelNames,
        registers,
      }),
    ];
    this.prefixHit = [
      new Counter({
        name: METRIC.prefixHitTokens,
        help: 'Prompt tokens served from the prefix cache',
        labelNames,
        registers,
      }),
      new Counter({
        name: VLLM_METRIC.prefixHits,
        help: 'Prefix cache hits, in terms of number of cached tokens',
        labelNames,
        registers,
      }),
    ];
    this.workersUp = new Gauge({ name: METRIC.workersUp, help: 'Workers this scheduler is stepping', registers });
    this.leader = new Gauge({
      name: METRIC.schedulerLeader,
      help: '1 while this scheduler holds the leader lease',
      registers,
    });
    this.acquisitions = new Counter({
      name: METRIC.leaderAcquisitions,
      help: 'Times this scheduler took the leader lease',
      registers,
    });
    // Bounded: a scrape while Redis is away answers with the last value rather than waiting for it.
    const refreshDepth = async () => {
      if (this.depthSource) await waitAtMost(this.depthSource(), DEPTH_READ_MS);
    };
    this.queueDepth = new Gauge({
      name: METRIC.queueDepth,
      help: 'Requests accepted but admitted to no worker yet',
      labelNames: ['model_name'],
      registers,
      // Read at each scrape, so the value is never older than the scrape (the scale-from-zero signal).
      collect: refreshDepth,
    });
    // vLLM's queue time is waiting → scheduled inside one engine; here it spans the cluster: gateway accepted → first routed to a worker.
    this.queueTime = [METRIC.queueTime, VLLM_METRIC.queueTime].map(
      (name) =>
        new Histogram({
          name,
          help: 'Seconds from the gateway accepting a request to its first admission to a worker',
          labelNames: ['model_name'],
          buckets: [...BUCKETS.ttft],
          registers,
        }),
    );
    this.grammarCompile = new Histogram({
      name: METRIC.grammarCompileDuration,
      help: 'Seconds to compile one structured-output grammar for the model vocabulary (cache misses)',
      labelNames: ['model_name'],
      buckets: [...BUCKETS.ttft],
      registers,
    });
    this.grammarFill = new Histogram({
      name: METRIC.grammarFillDuration,
      help: "Seconds per step to advance the constrained sequences' grammars and fill their token masks",
      labelNames,
      buckets: [...BUCKETS.step],
      registers,
    });
    // Exported at 0 from the start, so a standby's first takeover shows in increase().
    this.acquisitions.inc(0);
  }

  observeStep(worker: WorkerLabels, seconds: number, tokens: number): void {
    this.stepSeconds.observe(worker, seconds);
    this.stepTokens.observe(worker, tokens);
  }

  observeCore(worker: WorkerLabels, core: Scheduler): void {
    for (const g of this.running) g.set(worker, core.numRunning);
    for (const g of this.waiting) g.set(worker, core.numWaiting);
    for (const g of this.kvUsage) g.set(worker, core.kvUsage());
    const s = core.stats();
    const prev = this.last.get(worker.worker) ?? { preemptions: 0, queried: 0, hit: 0 };
    const now = { preemptions: s.numPreemptions, queried: s.prefixCache.queriedTokens, hit: s.prefixCache.hitTokens };
    if (now.preemptions > prev.preemptions)
      for (const c of this.preemptions) c.inc(worker, now.preemptions - prev.preemptions);
    if (now.queried > prev.queried) for (const c of this.prefixQueried) c.inc(worker, now.queried - prev.queried);
    if (now.hit > prev.hit) for (const c of this.prefixHit) c.inc(worker, now.hit - prev.hit);
    this.last.set(worker.worker, now);
  }

  /**
   * A worker joined: its series exist from now on, counters at 0, so rate() and increase() see the
   * first event instead of a series appearing mid-way. Its core is new, so counting starts over.
   */
  workerJoined(worker: WorkerLabels): void {
    for (const c of [...this.preemptions, ...this.prefixQueried, ...this.prefixHit]) c.inc(worker, 0);
    for (const g of [...this.running, ...this.waiting, ...this.kvUsage]) g.set(worker, 0);
    this.last.delete(worker.worker);
  }

  /** A request reached a worker for the first time, `seconds` after the gateway accepted it. */
  observeQueueTime(model: string, seconds: number): void {
    for (const h of this.queueTime) h.observe({ model_name: model }, Math.max(0, seconds));
  }

  observeGrammarCompile(model: string, seconds: number): void {
    this.grammarCompile.observe({ model_name: model }, seconds);
  }

  observeGrammarFill(worker: WorkerLabels, seconds: number): void {
    this.grammarFill.observe(worker, seconds);
  }

  setWorkersUp(n: number): void {
    this.workersUp.set(n);
  }

  setLeader(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
    if (leading) this.acquisitions.inc();
  }

  /** What refreshes the queue depth at a scrape (intake's count; none once intake is closed). */
  setQueueDepthSource(fn: (() => Promise<void>) | undefined): void {
    this.depthSource = fn;
  }

  /** Requests accepted but on no worker yet: queued in Redis plus parked in this scheduler. */
  setQueueDepth(model: string, n: number): void {
    this.queueDepth.set({ model_name: model }, n);
  }
}
