import {
  createWorkerClient,
  type WorkerClient,
  type PooledOutput,
  type PromptLogprobs as ProtoPromptLogprobs,
  type SampledToken as ProtoSampled,
  type TokenBitmask,
} from '@loom/proto';
import type { LoomConfig, Logger, WorkerDevice, WorkerStatus } from '@loom/common';
import {
  finishInfoOf,
  type BlockHash,
  type BlockHashes,
  type SampledToken,
  type Scheduler,
  type SchedulerOutput,
} from './core/index.js';
import { grammarFillItems } from './grammar-fill-items.js';
import { joinWorker } from './join-worker.js';
import { joiningWorkerStatus } from './joining-worker-status.js';
import type { RequestManager } from './request-manager.js';
import type { SchedulerMetrics, WorkerLabels } from './scheduler-metrics.js';
import type { SeqOutput } from './seq-output.js';
import type { SeqSpec } from './seq-spec.js';
import { StepChannel } from './step-channel.js';
import type { StructuredOutputManager } from './structured-output/structured-output-manager.js';
import { toStepRequest } from './to-step-request.js';

/**
 * The step loop of one worker: schedule() → Step over gRPC → update(), forever, while the core has
 * work. It owns the worker's core Scheduler (block pool included); nothing else touches it. When the
 * worker fails, every unfinished sequence is handed to `onFailed` with the tokens generated so far,
 * to be recomputed on another worker.
 */
export class StepLoop {
  private readonly client: WorkerClient;
  private core: Scheduler | undefined;
  private channel: StepChannel | undefined;
  private readonly specs = new Map<string, SeqSpec>();
  private wake: (() => void) | undefined;
  private stopped = false;
  private stepId = 0;
  private labels: WorkerLabels;
  /** The model the worker serves, learnt from its Info answer. */
  model = '';
  private device: WorkerDevice | undefined;
  private joinedAt = 0;

  constructor(
    readonly id: string,
    readonly address: string,
    private readonly config: LoomConfig,
    private readonly fencingToken: number,
    private readonly manager: RequestManager,
    private readonly metrics: SchedulerMetrics,
    private readonly log: Logger,
    private readonly onFailed: (loop: StepLoop, seqs: SeqSpec[], reason: string) => void,
    /** Grammar state of constrained sequences: masks filled per step, advanced by what was sampled. */
    private readonly structured?: StructuredOutputManager,
  ) {
    this.client = createWorkerClient(address);
    this.labels = { model_name: '', worker: id };
  }

  get ready(): boolean {
    return this.core !== undefined && !this.stopped;
  }

  /** Sequences admitted and not finished (running + waiting): the routing load. */
  get load(): number {
    return this.specs.size;
  }

  get freeBlockRatio(): number {
    return this.core ? 1 - this.core.kvUsage() : 0;
  }

  get blockSize(): number {
    return this.core?.config.blockSize ?? this.config.blockSize;
  }

  /** The router's probe: tokens of the longest prefix (full-block hashes) cached here or being computed (Scheduler.routablePrefixTokens). */
  cachedPrefixTokens(hashes: readonly BlockHash[]): number {
    return this.core?.routablePrefixTokens(hashes) ?? 0;
  }

  /** A snapshot for the status record (SchedulerStatus.workers). */
  status(): WorkerStatus {
    const core = this.core;
    if (!core || this.stopped) return joiningWorkerStatus(this.id, this.address);
    const s = core.stats();
    return {
      workerId: this.id,
      address: this.address,
      model: this.model,
      state: 'up',
      ...(this.device ? { device: this.device } : {}),
      running: s.numRunning,
      waiting: s.numWaiting,
      kvUsage: s.kvUsage,
      numBlocks: core.config.numBlocks,
      blockSize: core.config.blockSize,
      prefixQueriedTokens: s.prefixCache.queriedTokens,
      prefixHitTokens: s.prefixCache.hitTokens,
      preemptions: s.numPreemptions,
      steps: this.stepId,
      joinedAt: this.joinedAt,
    };
  }

  /** Warm the worker up (KV pool), take it over with our fencing token, and start stepping. */
  async start(): Promise<void> {
    const joined = await joinWorker(this.client, this.config, this.fencingToken);
    this.model = joined.model;
    this.labels = { model_name: joined.model, worker: this.id };
    this.device = joined.device;
    this.core = joined.core;
    this.channel = new StepChannel(this.client);
    this.joinedAt = Date.now();
    this.metrics.workerJoined(this.labels);
    const { numBlocks, blockSize } = joined.core.config;
    this.log.info({ worker: this.id, numBlocks, blockSize }, 'worker joined');
    void this.run();
  }

  /** Queues a sequence on this worker's core; `blockHashes` are its tokens' hashes if the router made them. */
  admit(spec: SeqSpec, blockHashes?: BlockHashes): void {
    this.specs.set(spec.seqId, spec);
    const r = this.core!.addRequest(
      {
        requestId: spec.seqId,
        promptTokenIds: spec.promptTokenIds,
        outputTokenIds: spec.outputTokenIds,
        sampling: spec.sampling,
        ...(spec.pooling ? { pooling: spec.pooling } : {}),
        priority: spec.priority,
        cacheSalt: spec.cacheSalt,
        blockHashes,
      },
      spec.eosTokenIds,
    );
    if (r.finishReason === 'error') {
      // The core refuses what can never run here (e.g. prompt + max_tokens beyond the whole KV pool).
      this.specs.delete(spec.seqId);
      for (const id of this.manager.fail(spec.requestId, 400, 'request_too_large', String(r.stopReason)))
        this.abort(id);
      return;
    }
    // A re-admission (failover) may carry output the matcher has not seen: the next fill checks.
    if (spec.sampling.structuredOutput) this.structured?.admitted(spec.seqId);
    this.wake?.();
  }

  abort(seqId: string): void {
    if (!this.specs.delete(seqId)) return;
    this.core?.abort(seqId);
    this.wake?.();
  }

  /** Stop stepping; with a reason, hand every unfinished sequence back for recompute elsewhere. */
  fail(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.();
    this.channel?.close();
    this.client.close();
    const drained = this.core?.drain() ?? [];
    const seqs: SeqSpec[] = [];
    for (const r of drained) {
      const spec = this.specs.get(r.requestId);
      if (spec) seqs.push({ ...spec, outputTokenIds: r.outputTokenIds ? [...r.outputTokenIds] : [] });
    }
    this.specs.clear();
    this.log.warn({ worker: this.id, reason, requeued: seqs.length }, 'worker lost');
    this.onFailed(this, seqs, reason);
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    this.channel?.close();
    this.client.close();
  }

  /**
   * The loop keeps the worker busy: a step's outputs are handed to the request manager (detokenize,
   * stop strings, the output append) only once the next step is on its way, so that work overlaps the
   * worker's compute instead of sitting between its steps (vLLM's async output processing). A stop
   * string found then finishes its sequence one step late: the token that step computes is dropped
   * by update(), as for an abort. `pending` never outlives a tick: it is published before any await
   * (the loop's waits, the grammar fill, the step's answer), so a worker that fails while a step is
   * in flight hands over exactly the tokens already in the output streams.
   */
  private async run(): Promise<void> {
    const core = this.core!;
    let pending: { outputs: SeqOutput[]; promptLogprobs: ProtoPromptLogprobs[] } | undefined;
    const publish = () => {
      if (!pending) return;
      const { outputs, promptLogprobs } = pending;
      pending = undefined;
      for (const { seqId, stop } of this.manager.apply(outputs, promptLogprobs)) {
        core.finishRequest(seqId, 'stop', stop);
        this.specs.delete(seqId);
      }
      this.metrics.observeCore(this.labels, core);
    };
    while (!this.stopped) {
      if (!core.hasWork()) {
        publish();
        // The gauges are otherwise set after steps: aborts that empty the core must show too.
        this.metrics.observeCore(this.labels, core);
        if (core.hasWork()) continue;
        await new Promise<void>((r) => (this.wake = r));
        this.wake = undefined;
        continue;
      }
      const out = core.schedule();
      if (out.numScheduledTokens === 0) {
        publish();
        // Nothing fits right now (e.g. every block is taken): wait for a finish or an abort.
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, 50).unref();
        });
        this.wake = undefined;
        continue;
      }
      const t0 = performance.now();
      // The grammar fill awaits, and nothing pending may outlive an await: publish first.
      if (this.structured && this.structured.size > 0) publish();
      const tokenBitmasks = await this.fillBitmasks(core, out);
      let sampled: ProtoSampled[];
      let promptLogprobs: ProtoPromptLogprobs[];
      let pooled: PooledOutput[];
      try {
        const answer = this.channel!.send(toStepRequest(out, ++this.stepId, this.fencingToken, tokenBitmasks));
        publish();
        const res = await answer;
        // Failed or stopped meanwhile: its sequences (and their tokens so far) went elsewhere or nowhere.
        if (this.stopped) return;
        if (res.error) throw new Error(`worker refused step ${res.stepId}: ${res.error}`);
        sampled = res.sampled;
        promptLogprobs = res.promptLogprobs ?? [];
        pooled = res.pooled ?? [];
      } catch (err) {
        if (!this.stopped) this.fail((err as Error).message);
        return;
      }
      let upd: ReturnType<Scheduler['update']>;
      try {
        upd = core.update(out, sampled as SampledToken[], pooled);
      } catch (err) {
        // The worker's answer does not match what was scheduled: its state can no longer be trusted.
        this.fail(`inconsistent step answer: ${(err as Error).message}`);
        return;
      }
      this.metrics.observeStep(this.labels, (performance.now() - t0) / 1000, out.numScheduledTokens);
      const outputs = upd.outputs.map((o) => ({
        ...o,
        seqId: o.requestId,
        // A finished request is gone from the core: its finish info has the count.
        cachedTokens: o.finished?.numCachedTokens ?? core.getRequest(o.requestId)?.numCachedTokens,
      }));
      if (this.structured) {
        for (const o of outputs) {
          // A stop token the grammar allowed ends the output, as vLLM ends a terminated matcher's request:
          // also under ignore_eos or before min_tokens, where the core alone would go on.
          const last = o.newTokenIds.at(-1);
          if (o.finished || last === undefined || !this.structured.endsGrammar(o.seqId, last)) continue;
          const request = core.getRequest(o.seqId)!;
          core.finishRequest(o.seqId, 'stop');
          o.finished = finishInfoOf(request);
        }
      }
      for (const o of outputs) if (o.finished) this.specs.delete(o.seqId);
      pending = { outputs, promptLogprobs };
    }
  }

  /**
   * The allowed-token masks of the constrained sequences that sample in step `out` (vLLM's grammar
   * bitmask, filled after schedule()). A sequence whose grammar state broke is failed here; it still
   * rides this step, unconstrained, and its token is dropped by update().
   */
  private async fillBitmasks(core: Scheduler, out: SchedulerOutput): Promise<TokenBitmask[] | undefined> {
    const structured = this.structured;
    if (!structured || structured.size === 0) return undefined;
    const items = grammarFillItems(core, out, structured);
    if (items.length === 0) return undefined;
    const fill = await structured.fill(items);
    this.metrics.observeGrammarFill(this.labels, fill.ms / 1000);
    for (const e of fill.errors) {
      const requestId = this.specs.get(e.seqId)?.requestId;
      if (!requestId) continue;
      this.log.error({ worker: this.id, seqId: e.seqId, err: e.message }, 'structured output failed');
      for (const id of this.manager.fail(requestId, 500, 'structured_output_error', e.message)) this.abort(id);
    }
    return [...fill.masks].map(([requestId, words]) => ({ requestId, words }));
  }
}
