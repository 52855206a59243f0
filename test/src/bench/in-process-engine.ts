import { DEFAULT_SAMPLING } from '@loom/common';
import { emptyOutput, type BenchRequest, type BenchTarget, type RequestOutput, type SendOptions } from '@loom/bench';
import { Scheduler, toStepRequest } from '@loom/scheduler';
import { PersistentBatch, buildModelCard, kvCacheGroupsOf, loadEngine, type NativeEngine } from '@loom/worker';

export interface InProcessOptions {
  model: string;
  threads: number;
  numBlocks: number;
  blockSize?: number;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
}

/**
 * The engine with the scheduler's core in this process, stepped by the same loop a step loop runs
 * (schedule, encode the step, the worker's persistent batch, the engine, update), and nothing else:
 * no HTTP, no Redis, no gRPC, no detokenizing. What it serves is the baseline of the serving
 * benchmark's control-plane overhead: the cluster on the same workload minus this is what the
 * gateway, Redis, the scheduler service and gRPC cost. Times are taken when a step's tokens come
 * back, so TTFT and ITL here are per token, the cluster's per SSE chunk.
 */
export class InProcessEngine implements BenchTarget {
  private readonly engine: NativeEngine;
  private readonly core: Scheduler;
  private readonly batch: PersistentBatch;
  private readonly eos: number[];
  private readonly pending = new Map<
    string,
    { out: RequestOutput; last: number; resolve: (o: RequestOutput) => void; o: SendOptions }
  >();
  private wake: (() => void) | undefined;
  private stopped = false;
  private stepId = 0;
  private nextId = 0;
  private readonly loop: Promise<void>;

  constructor(o: InProcessOptions) {
    const blockSize = o.blockSize ?? 16;
    const maxNumSeqs = o.maxNumSeqs ?? 64;
    const maxNumBatchedTokens = o.maxNumBatchedTokens ?? 512;
    this.engine = loadEngine(o.model, { threads: o.threads });
    const info = this.engine.info();
    this.eos = buildModelCard(o.model, 'in-process', info).eosTokenIds;
    this.engine.initKv(o.numBlocks, blockSize, maxNumBatchedTokens, maxNumSeqs);
    const kvCacheGroups = kvCacheGroupsOf(info);
    this.batch = new PersistentBatch(blockSize, this.eos, kvCacheGroups.length);
    this.core = new Scheduler({
      kvCacheGroups,
      numBlocks: o.numBlocks,
      blockSize,
      maxNumBatchedTokens,
      maxNumSeqs,
      maxModelLen: info.contextLength,
    });
    this.loop = this.run();
  }

  send(req: BenchRequest, o: SendOptions): Promise<RequestOutput> {
    if (typeof req.prompt === 'string') throw new Error('the in-process engine takes token-id prompts');
    const requestId = `r${this.nextId++}`;
    const start = performance.now();
    const out = emptyOutput(req.prompt.length, start / 1000);
    out.status = 200;
    out.id = requestId;
    const temperature = Number((o.extraBody as { temperature?: number } | undefined)?.temperature ?? 1);
    return new Promise((resolve) => {
      this.pending.set(requestId, { out, last: start, resolve, o });
      this.core.addRequest(
        {
          requestId,
          promptTokenIds: req.prompt as number[],
          sampling: { ...DEFAULT_SAMPLING, temperature, maxTokens: req.outputLen, ignoreEos: o.ignoreEos ?? false },
        },
        this.eos,
      );
      this.wake?.();
    });
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.core.hasWork()) {
        await new Promise<void>((r) => (this.wake = r));
        this.wake = undefined;
        continue;
      }
      const out = this.core.schedule();
      if (out.numScheduledTokens === 0) throw new Error('in-process engine: nothing fits the KV pool');
      const prepared = this.batch.prepare(toStepRequest(out, ++this.stepId, 1));
      const result = await this.engine.step(prepared.seqs);
      const sampled = this.batch.complete(prepared, result);
      const now = performance.now();
      const upd = this.core.update(out, sampled as Parameters<Scheduler['update']>[1]);
      for (const u of upd.outputs) {
        const p = this.pending.get(u.requestId);
        if (!p) continue;
        for (let i = 0; i < u.newTokenIds.length; i++) {
          if (p.out.outputTokens === 0) p.out.ttft = (now - p.out.startTime * 1000) / 1000;
          else p.out.itl.push((now - p.last) / 1000);
          p.last = now;
          p.out.outputTokens++;
        }
        if (u.newTokenIds.length) p.o.onOutput?.(p.out);
        if (u.finished) {
          p.out.latency = (now - p.out.startTime * 1000) / 1000;
          p.out.finishReason = u.finished.reason;
          p.out.success = true;
          this.pending.delete(u.requestId);
          p.resolve(p.out);
        }
      }
    }
  }
}
