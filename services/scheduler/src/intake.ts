import { Queue, Worker as QueueConsumer, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  BULLMQ_PREFIX,
  MODELS_KEY,
  requestQueueName,
  type LoomConfig,
  type Logger,
  type RequestJob,
} from '@loom/common';
import { releaseOrphanedJobs } from './release-orphaned-jobs.js';
import type { RequestManager } from './request-manager.js';
import type { ServedModels } from './served-models.js';
import type { WorkerPool } from './worker-pool.js';
import type { SchedulerMetrics } from './scheduler-metrics.js';
import type { StructuredOutputManager } from './structured-output/structured-output-manager.js';

/**
 * BullMQ lock of an active job. A new leader releases the previous term's locks when it starts
 * (releaseOrphanedJobs), and its stalled checks (every STALLED_CHECK_MS) put those jobs back in the
 * queue: a request resumes about 2 × STALLED_CHECK_MS after the takeover, whatever LOCK_MS is. The
 * lock is long so that a live leader whose lock renewals run late (a CPU-starved box under a burst)
 * does not see its own running jobs handed out again; BullMQ's default.
 */
const LOCK_MS = 30_000;
const STALLED_CHECK_MS = 1000;
/** Failovers a job may survive; each one counts as a stall to BullMQ. */
const MAX_STALLS = 1000;

/**
 * Takes requests from each model's BullMQ queue only while some worker can take them: with no
 * worker the queue is paused and requests wait in Redis (scale from zero needs no error). A job
 * stays active until its last output event is in Redis, so if this scheduler dies, BullMQ's stalled
 * check hands the job to another scheduler, which resumes it from its output stream.
 */
export class Intake {
  /** One BullMQ consumer (BullMQ calls it a Worker) per model's request queue. */
  private readonly consumers = new Map<string, QueueConsumer>();
  private readonly queues = new Map<string, Queue>();
  /** Settles once the previous term's jobs are released; intake starts after it. */
  private readonly released: Promise<void>;
  private closed = false;

  constructor(
    private readonly connection: Redis,
    private readonly config: LoomConfig,
    private readonly pool: WorkerPool,
    private readonly manager: RequestManager,
    private readonly models: ServedModels,
    private readonly metrics: SchedulerMetrics,
    private readonly log: Logger,
    private readonly structured?: StructuredOutputManager,
  ) {
    metrics.setQueueDepthSource(() => this.reportDepth());
    this.released = this.releaseOrphans();
  }

  /** Re-size intake after the set of workers changed (once the previous term's jobs are released). */
  adjust(models: string[]): void {
    void this.released.then(() => this.resize(models));
  }

  private async releaseOrphans(): Promise<void> {
    try {
      for (const model of await this.connection.smembers(MODELS_KEY)) {
        const n = await releaseOrphanedJobs(this.connection, requestQueueName(model));
        if (n > 0) this.log.info({ model, jobs: n }, "released the previous leader's active jobs");
      }
    } catch (err) {
      // Their locks still lapse by themselves (LOCK_MS): slower, not lost.
      this.log.warn({ err: (err as Error).message }, "could not release the previous leader's jobs");
    }
  }

  private resize(models: string[]): void {
    if (this.closed) return;
    for (const model of models) if (!this.consumers.has(model)) this.consumers.set(model, this.createConsumer(model));
    for (const [model, c] of this.consumers) {
      const n = this.pool.workersFor(model).length;
      if (n === 0) {
        if (!c.isPaused()) void c.pause(true);
        continue;
      }
      // Keep each worker's core supplied with more than it runs, so admission never waits on Redis.
      c.concurrency = n * this.config.maxNumSeqs * 2;
      if (c.isPaused()) c.resume();
    }
  }

  /** The manager remembers it: a job still queued, or being opened, will not run. */
  cancel(requestId: string): void {
    this.pool.abort(this.manager.cancel(requestId));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.metrics.setQueueDepthSource(undefined);
    // Forced: active jobs keep their Redis state and are picked up by the next leader once their locks lapse.
    await Promise.all([...this.consumers.values()].map((c) => c.close(true)));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }

  /** Queue depth of every model ever served, also with zero workers: the scale-from-zero signal. */
  private async reportDepth(): Promise<void> {
    for (const model of await this.connection.smembers(MODELS_KEY).catch(() => [])) {
      if (!this.queues.has(model))
        this.queues.set(
          model,
          new Queue(requestQueueName(model), { connection: this.connection, prefix: BULLMQ_PREFIX }),
        );
    }
    for (const [model, q] of this.queues) {
      const counts = await q.getJobCounts('waiting', 'prioritized').catch(() => undefined);
      if (counts)
        this.metrics.setQueueDepth(
          model,
          (counts.waiting ?? 0) + (counts.prioritized ?? 0) + this.pool.numParkedFor(model),
        );
    }
  }

  private createConsumer(model: string): QueueConsumer {
    const c = new QueueConsumer(requestQueueName(model), (job: Job<RequestJob>) => this.process(job), {
      connection: this.connection.duplicate(),
      prefix: BULLMQ_PREFIX,
      concurrency: this.config.maxNumSeqs,
      autorun: true,
      lockDuration: LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount: MAX_STALLS,
    });
    c.on('error', (err) => this.log.warn({ err: err.message, model }, 'intake error'));
    return c;
  }

  private async process(job: Job<RequestJob>): Promise<void> {
    const req = job.data;
    const model = await this.models.get(req.model);
    if (!model) {
      // Only reachable if the model's workers vanished after the gateway accepted: let BullMQ retry later.
      throw new Error(`model ${req.model} has no published model card yet`);
    }
    const opened = await this.manager.open(req, model, job.attemptsStarted === 1);
    if (!opened) return;
    const spec = req.sampling.structuredOutput;
    if (spec) {
      // Like vLLM's WAITING_FOR_FSM: the grammar is compiled (off the event loop) and every choice's
      // matcher made, replaying output already streamed, before any of them is scheduled.
      const r =
        this.structured && model.card
          ? await this.structured.open(model.card, spec, opened.seqs)
          : { error: 'this scheduler cannot enforce structured outputs', compileMs: [] };
      if (r.error !== null) {
        this.pool.abort(this.manager.fail(req.requestId, 400, 'invalid_structured_output', r.error));
        await opened.done;
        return;
      }
      for (const ms of r.compileMs) this.metrics.observeGrammarCompile(req.model, ms / 1000);
    }
    const resumed = opened.seqs.reduce((n, s) => n + s.outputTokenIds.length, 0);
    if (resumed > 0)
      this.log.info({ requestId: req.requestId, resumedTokens: resumed }, 'request resumed from its output stream');
    this.pool.route(opened.seqs);
    this.log.debug(
      { requestId: req.requestId, queueSeconds: (Date.now() - req.acceptedAt) / 1000 },
      'request admitted',
    );
    await opened.done;
  }
}
