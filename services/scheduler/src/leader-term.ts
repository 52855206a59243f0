import type { Redis } from 'ioredis';
import type { LoomConfig, Logger } from '@loom/common';
import { CancelListener } from './cancel-listener.js';
import { EndpointSliceDiscovery } from './cluster/endpoint-slice-discovery.js';
import { RedisWorkerDiscovery } from './cluster/redis-worker-discovery.js';
import { Intake } from './intake.js';
import { OutputLog } from './output-log.js';
import { RequestManager } from './request-manager.js';
import type { SchedulerMetrics } from './scheduler-metrics.js';
import type { ServedModels } from './served-models.js';
import { StructuredOutputManager } from './structured-output/structured-output-manager.js';
import { WorkerPool, type WorkerDiscovery } from './worker-pool.js';

/**
 * Everything a scheduler runs while it holds the leader lease: discovery, the worker step loops,
 * intake and cancellations, all under one fencing token. A new term starts from Redis alone (the
 * queues and output streams), which is what lets a standby resume a dead leader's requests.
 */
export class LeaderTerm {
  private readonly pool: WorkerPool;
  private readonly intake: Intake;
  private readonly cancels: CancelListener;
  private readonly structured: StructuredOutputManager;

  constructor(
    redis: Redis,
    config: LoomConfig,
    readonly fencingToken: number,
    metrics: SchedulerMetrics,
    models: ServedModels,
    log: Logger,
  ) {
    const structured = new StructuredOutputManager(config.structuredOutputThreads);
    this.structured = structured;
    const manager = new RequestManager(new OutputLog(redis, { fencingToken, log }), (seqId) => structured.close(seqId));
    const discovery: WorkerDiscovery = config.k8sNamespace
      ? EndpointSliceDiscovery.fromEnvironment({ namespace: config.k8sNamespace, serviceName: config.workerService })
      : new RedisWorkerDiscovery(redis, config.heartbeatMs, log);
    this.pool = new WorkerPool(
      discovery,
      config,
      fencingToken,
      manager,
      metrics,
      log,
      () => this.intake.adjust(this.pool.allModels()),
      structured,
    );
    this.intake = new Intake(redis, config, this.pool, manager, models, metrics, log, structured);
    this.cancels = new CancelListener(redis.duplicate(), (e) => this.intake.cancel(e.requestId), log);
    this.pool.start();
    this.cancels.start();
  }

  /** This term's workers and parked sequences, for the status record. */
  status(): ReturnType<WorkerPool['status']> {
    return this.pool.status();
  }

  async close(): Promise<void> {
    this.cancels.stop();
    this.pool.close();
    await this.intake.close();
    await this.structured.shutdown();
  }
}
