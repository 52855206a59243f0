import * as grpc from '@grpc/grpc-js';
import type {
  InfoRequest,
  InfoResponse,
  ResetRequest,
  ResetResponse,
  StepRequest,
  StepResponse,
  WarmupRequest,
  WarmupResponse,
} from '@loom/proto';
import type { Logger } from '@loom/common';
import type { NativeEngine } from './engine/engine-api.js';
import { PersistentBatch } from './persistent-batch.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** Bytes of host memory the KV pool may take when Warmup asks the worker to measure (numBlocks = 0). */
const DEFAULT_KV_BUDGET_BYTES = 2 * 1024 ** 3;

/**
 * WorkerService over one engine. Steps are executed strictly one at a time, in arrival order,
 * whichever stream they come from; a step (or reset) carrying a fencing token older than the
 * highest seen is refused, so a deposed scheduler leader cannot touch the KV pool.
 */
export class WorkerService {
  private batch: PersistentBatch | undefined;
  private fence = 0;
  private chain: Promise<void> = Promise.resolve();
  /** performance.now() of the last step received: draining waits until the scheduler stops sending. */
  lastStepAt = 0;
  draining = false;

  constructor(
    private readonly engine: NativeEngine,
    private readonly info: Omit<InfoResponse, 'capabilities'> & { capabilities: InfoResponse['capabilities'] },
    private readonly log: Logger,
    private readonly metrics: WorkerMetrics,
    /** The worker's own --num-blocks (0 = none): its memory is its own, so it wins over what Warmup asks. */
    private readonly ownNumBlocks = 0,
  ) {}

  /** SERVING for probes: the KV pool exists and the worker is not draining. */
  get ready(): boolean {
    return this.batch !== undefined && !this.draining;
  }

  handlers(): grpc.UntypedServiceImplementation {
    return {
      info: (_call: grpc.ServerUnaryCall<InfoRequest, InfoResponse>, cb: grpc.sendUnaryData<InfoResponse>) =>
        cb(null, this.info),
      warmup: (call: grpc.ServerUnaryCall<WarmupRequest, WarmupResponse>, cb: grpc.sendUnaryData<WarmupResponse>) =>
        this.serialize(() => this.warmup(call.request)).then(
          (r) => cb(null, r),
          (e: Error) => cb(toStatus(e)),
        ),
      reset: (call: grpc.ServerUnaryCall<ResetRequest, ResetResponse>, cb: grpc.sendUnaryData<ResetResponse>) =>
        this.serialize(async () => this.reset(call.request)).then(
          (r) => cb(null, r),
          (e: Error) => cb(toStatus(e)),
        ),
      step: (call: grpc.ServerDuplexStream<StepRequest, StepResponse>) => this.stepStream(call),
    };
  }

  private warmup(req: WarmupRequest): WarmupResponse {
    this.checkFence(req.fencingToken);
    if (this.batch) {
      // The pool exists already: a new leader re-learns its size without reallocating.
      return this.warmupAnswer;
    }
    const bytesPerBlock = this.engine.kvBytesPerBlock(req.blockSize);
    const maxUseful = Math.ceil((req.maxNumSeqs * this.info.contextLength) / req.blockSize);
    const asked = this.ownNumBlocks > 0 ? this.ownNumBlocks : req.numBlocks;
    const numBlocks =
      asked > 0 ? asked : Math.max(1, Math.min(maxUseful, Math.floor(DEFAULT_KV_BUDGET_BYTES / bytesPerBlock)));
    this.engine.initKv(numBlocks, req.blockSize, req.maxNumBatchedTokens, req.maxNumSeqs);
    this.batch = new PersistentBatch(req.blockSize, this.info.eosTokenIds, Math.max(1, this.info.kvCacheGroups.length));
    this.warmupAnswer = { numBlocks, blockSize: req.blockSize, kvBytesPerBlock: bytesPerBlock };
    this.metrics.cacheConfig(this.warmupAnswer, this.engine.info().kvType ?? 'f16');
    this.log.info({ numBlocks, blockSize: req.blockSize, kvBytes: numBlocks * bytesPerBlock }, 'KV pool allocated');
    return this.warmupAnswer;
  }

  private warmupAnswer: WarmupResponse = { numBlocks: 0, blockSize: 0, kvBytesPerBlock: 0 };

  private reset(req: ResetRequest): ResetResponse {
    this.checkFence(req.fencingToken);
    this.batch?.clear();
    this.log.info({ fencingToken: req.fencingToken }, 'reset: all requests forgotten');
    return {};
  }

  private stepStream(call: grpc.ServerDuplexStream<StepRequest, StepResponse>): void {
    call.on('data', (step: StepRequest) => {
      this.lastStepAt = performance.now();
      void this.serialize(() => this.step(step)).then(
        (res) => call.write(res),
        (err: Error) => call.write({ stepId: step.stepId, sampled: [], forwardSeconds: 0, error: err.message }),
      );
    });
    call.on('end', () => call.end());
    call.on('error', (err) => this.log.warn({ err: err.message }, 'step stream broke'));
  }

  private async step(step: StepRequest): Promise<StepResponse> {
    this.checkFence(step.fencingToken);
    if (!this.batch) throw new Error('Warmup must come before the first Step');
    const prepared = this.batch.prepare(step);
    if (prepared.seqs.length === 0) return { stepId: step.stepId, sampled: [], forwardSeconds: 0, error: '' };
    const result = await this.engine.step(prepared.seqs);
    const sampled = this.batch.complete(prepared, result);
    this.metrics.observeStep(
      result.seconds,
      prepared.seqs.reduce((n, s) => n + s.tokens.length, 0),
    );
    const promptLogprobs = this.batch.promptLogprobs(prepared, result);
    const pooled = this.batch.pooled(prepared, result);
    return {
      stepId: step.stepId,
      sampled,
      forwardSeconds: result.seconds,
      error: '',
      ...(promptLogprobs.length > 0 ? { promptLogprobs } : {}),
      ...(pooled.length > 0 ? { pooled } : {}),
    };
  }

  private checkFence(token: number): void {
    if (token < this.fence)
      throw new StaleFence(`stale fencing token ${token}: a newer scheduler leader holds ${this.fence}`);
    this.fence = token;
  }

  /** Resolves once no engine operation is queued or running. */
  async idle(): Promise<void> {
    await this.chain;
  }

  /** One engine operation at a time, in order of arrival. */
  private serialize<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

class StaleFence extends Error {}

function toStatus(err: Error): Partial<grpc.StatusObject> {
  const code = err instanceof StaleFence ? grpc.status.FAILED_PRECONDITION : grpc.status.INVALID_ARGUMENT;
  return { code, details: err.message };
}
