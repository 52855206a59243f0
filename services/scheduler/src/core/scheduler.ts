import { at, type FinishReason } from '@loom/common';
import { admissionError } from './admission-error.js';
import type { BlockHash } from './block-hash.js';
import { checkStop } from './check-stop.js';
import { type ComputedBlocks, KVCacheManager } from './kv-cache-manager.js';
import { Request, type RequestInit, RequestStatus } from './request.js';
import { before, createRequestQueue, type RequestQueue } from './request-queue.js';
import type { SchedulerConfig, SchedulerStats } from './scheduler-config.js';
import {
  type CachedRequestData,
  finishInfoOf,
  type NewRequestData,
  type PooledVector,
  type RequestOutput,
  type SampledToken,
  type SchedulerOutput,
  type UpdateResult,
} from './scheduler-output.js';

/** Whether the request's step computed its last known token and it samples (an embedding is pooled instead). */
const dueToken = (r: Request): boolean => r.numComputedTokens === r.numTokens && r.pooling === null;

/** newBlockIds of a step that appends no block to a table (most decodes): shared, never mutated. */
const NO_BLOCK_IDS: readonly number[] = Object.freeze([]);

/** Steps in which later cache hits may go ahead of the waiting queue's head (see admitHits). */
const MAX_PASSED_OVER = 4;
/** Waiting requests admitHits looks at per step: bounds its cost behind a long queue. */
const HIT_SCAN_WINDOW = 256;

/**
 * Continuous batching for ONE worker, vLLM v1 style: synchronous and pure (no I/O, no clock).
 * The service loop calls schedule(); if numScheduledTokens > 0 it sends the step and calls
 * update(output, sampled) with the worker's answer, then publishes update's outputs. An empty
 * output is simply dropped (nothing is in flight; what the worker must forget waits for the next).
 *
 * Invariants: a request is in exactly one of `running` (status RUNNING, holds blocks) or `waiting`
 * (WAITING/PREEMPTED, holds no blocks, numComputedTokens 0) while in `byId`; finished requests are in
 * neither and hold no blocks. Only one sent step is in flight; numComputedTokens advances in update().
 */
export class Scheduler {
  private readonly kv: KVCacheManager;
  private waiting: RequestQueue;
  private running: Request[] = [];
  private readonly byId = new Map<string, Request>();
  private arrivals = 0;
  private numPreemptions = 0;
  /** Worker-held requests forgotten since the last sent step (finishedIds of the next one). */
  private finishedIds: string[] = [];
  /** Preempted requests the worker has not been told about yet. */
  private preemptedIds: string[] = [];
  private inFlight: SchedulerOutput | null = null;
  /** Hashes of full blocks the step being built will compute (same-step prefix sharing, see schedule). */
  private readonly filledThisStep = new Set<BlockHash>();
  /** The requests of the step in flight, in scheduledRequestIds order, and their scheduled tokens. */
  private readonly stepRequests: Request[] = [];
  private readonly stepTokens: number[] = [];
  /** The latest unfinished request per prefix root (first block hash), for routablePrefixTokens. */
  private readonly latestByRoot = new Map<BlockHash, Request>();
  /** Scratch of schedule(), kept to spare a per-step allocation. */
  private readonly scheduledRunning: Request[] = [];
  /** Scratch of admitHits. */
  private readonly admittedHits: Request[] = [];

  constructor(readonly config: SchedulerConfig) {
    this.kv = new KVCacheManager({
      numBlocks: config.numBlocks,
      blockSize: config.blockSize,
      enablePrefixCaching: config.enablePrefixCaching ?? true,
      ...(config.kvCacheGroups !== undefined ? { groups: config.kvCacheGroups } : {}),
    });
    this.waiting = createRequestQueue(config.policy ?? 'fcfs');
  }

  get numRunning(): number {
    return this.running.length;
  }

  get numWaiting(): number {
    return this.waiting.length;
  }

  /** The KV manager, read-only use (routing probes, tests). */
  get kvCache(): KVCacheManager {
    return this.kv;
  }

  kvUsage(): number {
    return this.kv.usage();
  }

  hasWork(): boolean {
    return this.running.length > 0 || this.waiting.length > 0;
  }

  getRequest(requestId: string): Request | undefined {
    return this.byId.get(requestId);
  }

  stats(): SchedulerStats {
    const prefix = this.kv.stats();
    return {
      numRunning: this.running.length,
      numWaiting: this.waiting.length,
      kvUsage: this.kv.usage(),
      numFreeBlocks: this.kv.blockPool.numFreeBlocks,
      prefixCache: prefix,
      numPreemptions: this.numPreemptions,
    };
  }

  /**
   * Queues a request (`eosTokenIds` overrides the config's). One that can never run here (empty
   * prompt, no room in the context length, more KV than the whole pool for prompt + maxTokens) is
   * NOT queued: it comes back already finished, finishReason 'error', the message in stopReason,
   * for the caller to report (the worker never hears of it).
   * `init.blockHashes`, when given, spare schedule() from hashing the prompt (the router did).
   */
  addRequest(init: RequestInit, eosTokenIds?: readonly number[]): Request {
    if (this.byId.has(init.requestId)) throw new Error(`request ${init.requestId} is already scheduled`);
    const request = new Request(init, this.arrivals++, eosTokenIds ?? this.config.eosTokenIds ?? []);
    request.adoptBlockHashes(init.blockHashes, this.config.blockSize);
    const error = admissionError(request, this.config);
    if (error !== null) {
      request.markFinished('error', error);
      return request;
    }
    this.byId.set(request.requestId, request);
    this.waiting.add(request);
    const [root] = request.blockHashes;
    if (root !== undefined) this.latestByRoot.set(root, request);
    return request;
  }

  /**
   * Builds the next step: running requests first (decode 1 token, or the next prefill chunk within
   * the token budget), preempting by recompute when blocks run out; then, if nobody was preempted,
   * waiting requests in policy order while budget, maxNumSeqs and blocks allow.
   *
   * Same-step prefix sharing: blocks enter the prefix cache only after their KV is computed, so a
   * waiting request whose next cache-hit block is being filled by this very step (n > 1 siblings,
   * a shared system prompt) is held back one step and then hits it instead of computing a duplicate.
   */
  schedule(): SchedulerOutput {
    if (this.inFlight !== null) throw new Error('schedule() called before update() of the previous step');
    let budget = this.config.maxNumBatchedTokens;
    const filled = this.filledThisStep;
    filled.clear();
    this.stepRequests.length = 0;
    this.stepTokens.length = 0;
    // Running requests scheduled so far, parallel to cachedRequests (a preempted one leaves both).
    const scheduled = this.scheduledRunning;
    scheduled.length = 0;
    const cachedRequests: CachedRequestData[] = [];
    let preempted = false;

    for (let i = 0; i < this.running.length && budget > 0;) {
      const request = at(this.running, i);
      const numNew = Math.min(request.numTokens - request.numComputedTokens, budget);
      let blocks = numNew > 0 ? this.kv.allocateSlots(request, numNew) : null;
      while (numNew > 0 && blocks === null) {
        const victimIndex = this.pickVictim();
        const victim = at(this.running, victimIndex);
        this.running.splice(victimIndex, 1);
        if (victimIndex < i) {
          // Already scheduled in this step: give its tokens back to the budget.
          i--;
          const k = scheduled.indexOf(victim);
          budget += at(cachedRequests, k).numScheduledTokens;
          scheduled.splice(k, 1);
          cachedRequests.splice(k, 1);
        }
        this.preempt(victim);
        preempted = true;
        if (victim === request) break;
        blocks = this.kv.allocateSlots(request, numNew);
      }
      // Preempted itself: its blocks are free now, so the requests after it may still fit.
      if (request.status !== RequestStatus.RUNNING) continue;
      i++;
      if (blocks === null) continue;
      scheduled.push(request);
      cachedRequests.push({
        requestId: request.requestId,
        newBlockIds: blocks.length === 0 ? NO_BLOCK_IDS : blocks.map((b) => b.blockId),
        numComputedTokens: request.numComputedTokens,
        numScheduledTokens: numNew,
      });
      this.kv.collectFilledBlockHashes(request, request.numComputedTokens, request.numComputedTokens + numNew, filled);
      budget -= numNew;
    }

    const newRequests: NewRequestData[] = [];
    if (!preempted) budget = this.admit(budget, newRequests);

    // Step order: admissions (pushed by admit), then the running requests.
    for (let k = 0; k < scheduled.length; k++) {
      this.stepRequests.push(at(scheduled, k));
      this.stepTokens.push(at(cachedRequests, k).numScheduledTokens);
    }
    const numScheduledTokens = this.config.maxNumBatchedTokens - budget;
    const output: SchedulerOutput = {
      newRequests,
      cachedRequests,
      finishedIds: [],
      preemptedIds: [],
      numScheduledTokens,
      scheduledRequestIds: this.stepRequests.map((r) => r.requestId),
    };
    // An empty step is not sent: keep what the worker must forget for the next one.
    if (numScheduledTokens > 0) {
      output.finishedIds = this.finishedIds;
      output.preemptedIds = this.preemptedIds;
      this.finishedIds = [];
      this.preemptedIds = [];
      this.inFlight = output;
    }
    return output;
  }

  /**
   * Applies a step's result: advances numComputedTokens by what was scheduled, caches newly full
   * blocks, appends the sampled token of each request whose scheduled tokens reached the end of its
   * known tokens, and finishes requests on EOS / stop ids / maxTokens / context length (blocks freed
   * at once). An embedding request whose last token was computed finishes ('stop') with its `pooled`
   * vector instead of a token. Throws if the worker sent no token or vector where one is due, or one
   * where none is (protocol violation: drain()).
   */
  update(
    output: SchedulerOutput,
    sampled: readonly SampledToken[],
    pooled: readonly PooledVector[] = [],
  ): UpdateResult {
    if (output.numScheduledTokens > 0) {
      if (output !== this.inFlight) throw new Error('update() of a step that is not the one in flight');
      this.inFlight = null;
    }
    const outputs: RequestOutput[] = [];
    if (output.numScheduledTokens === 0) return { outputs };
    const requests = this.stepRequests;
    let due = 0;
    for (let k = 0; k < requests.length; k++) {
      const request = at(requests, k);
      // Finished (aborted, stop string) after schedule(): its result is dropped.
      if (request.status !== RequestStatus.RUNNING) continue;
      request.numComputedTokens += at(this.stepTokens, k);
      this.kv.cacheComputedBlocks(request);
      if (request.numComputedTokens === request.numTokens) due++;
    }
    let anyFinished = false;
    // Workers usually answer in step order: try the next step request before the id map.
    let cursor = 0;
    for (const s of sampled) {
      while (cursor < requests.length && !dueToken(at(requests, cursor))) cursor++;
      const next = requests[cursor];
      const request =
        next !== undefined && next.requestId === s.requestId ? requests[cursor++] : this.byId.get(s.requestId);
      if (request === undefined || request.status !== RequestStatus.RUNNING) continue;
      if (!dueToken(request)) throw new Error(`worker sent a token for ${s.requestId}, which is not due one`);
      due--;
      anyFinished = this.appendSampled(request, s, outputs) || anyFinished;
    }
    for (const p of pooled) {
      const request = this.byId.get(p.requestId);
      if (request === undefined || request.status !== RequestStatus.RUNNING) continue;
      if (request.pooling === null || request.numComputedTokens !== request.numTokens)
        throw new Error(`worker sent a pooled vector for ${p.requestId}, which is not due one`);
      due--;
      request.markFinished('stop');
      this.release(request);
      outputs.push({
        requestId: request.requestId,
        newTokenIds: [],
        pooled: p.embedding,
        finished: finishInfoOf(request),
      });
      anyFinished = true;
    }
    if (due > 0) {
      const missing = requests.filter((r) => r.status === RequestStatus.RUNNING && r.numComputedTokens === r.numTokens);
      const tokens = missing.filter((r) => r.pooling === null).map((r) => r.requestId);
      const vectors = missing.filter((r) => r.pooling !== null).map((r) => r.requestId);
      throw new Error(
        tokens.length > 0
          ? `worker sent no token for ${tokens.join(', ')}`
          : `worker sent no pooled vector for ${vectors.join(', ')}`,
      );
    }
    if (anyFinished) {
      let w = 0;
      for (const request of this.running) if (!request.isFinished()) this.running[w++] = request;
      this.running.length = w;
    }
    return { outputs };
  }

  /**
   * Finishes a waiting or running request now (stop string found by the service, client gone) and
   * frees its blocks. Returns false if it is unknown or already finished.
   */
  finishRequest(requestId: string, reason: FinishReason, stopReason?: string | number): boolean {
    const request = this.byId.get(requestId);
    if (request === undefined) return false;
    const i = this.running.indexOf(request);
    if (i >= 0) this.running.splice(i, 1);
    else this.waiting.remove(request);
    request.markFinished(reason, stopReason ?? null);
    this.release(request);
    return true;
  }

  abort(requestId: string): boolean {
    return this.finishRequest(requestId, 'abort');
  }

  /**
   * The router's probe: tokens of the longest prefix of `hashes` this worker has cached, or will
   * have once the latest unfinished request under the same first block (given its hashes at
   * addRequest) is computed. Blocks enter the cache only after their step, so without the second
   * part a new tenant's requests arriving together all look uncached, scatter over the workers,
   * and every worker ends up caching every tenant's prefix.
   */
  routablePrefixTokens(hashes: readonly BlockHash[]): number {
    const cached = this.kv.cachedPrefixTokens(hashes);
    const [root] = hashes;
    const latest = root === undefined || !this.kv.enablePrefixCaching ? undefined : this.latestByRoot.get(root);
    if (latest === undefined) return cached;
    const n = Math.min(hashes.length, latest.blockHashes.length);
    let i = 0;
    while (i < n && latest.blockHashes[i] === hashes[i]) i++;
    return Math.max(cached, i * this.config.blockSize);
  }

  /** Unfinished requests (running, then waiting), as inits that recreate them elsewhere with their output so far. */
  requests(): RequestInit[] {
    const all = [...this.running, ...this.waiting].sort((a, b) => a.arrivalSeq - b.arrivalSeq);
    return all.map((r) => r.toInit());
  }

  /**
   * Failover: removes every unfinished request and returns it as an init for another worker's
   * scheduler (it recomputes prompt + output so far). The pool is reset, since the worker's KV is
   * gone.
   */
  drain(): RequestInit[] {
    const inits = this.requests();
    this.byId.clear();
    this.latestByRoot.clear();
    this.running = [];
    this.waiting = createRequestQueue(this.config.policy ?? 'fcfs');
    this.finishedIds = [];
    this.preemptedIds = [];
    this.inFlight = null;
    this.kv.reset();
    return inits;
  }

  /**
   * Admits waiting requests into the step: first, under FCFS with prefix caching, the cache hits
   * whose whole prefill fits (admitHits), then in policy order while budget, maxNumSeqs and blocks
   * allow, the last one admitted taking a chunk of what is left.
   */
  private admit(budget: number, newRequests: NewRequestData[]): number {
    const head = this.waiting.peek();
    const hitsFirst = this.config.policy !== 'priority' && this.kv.enablePrefixCaching;
    const before = newRequests.length;
    if (hitsFirst) budget = this.admitHits(budget, newRequests);
    const skipped: Request[] = [];
    while (this.waiting.length > 0 && budget > 0 && this.running.length < this.config.maxNumSeqs) {
      const request = this.waiting.peek()!;
      const hit = this.kv.getComputedBlocks(request);
      const next = this.kv.nextHitCandidate(request, hit.numBlocks);
      if (next !== undefined && this.filledThisStep.has(next)) {
        skipped.push(this.waiting.pop()!);
        continue;
      }
      const numNew = Math.min(request.numTokens - hit.numTokens, budget);
      if (!this.start(request, hit, numNew, newRequests)) break;
      this.waiting.pop();
      budget -= numNew;
    }
    for (let k = skipped.length - 1; k >= 0; k--) this.waiting.prepend(at(skipped, k));
    // The head got nothing while later arrivals went ahead of it: counted, so it is not passed over forever.
    if (head !== undefined && head.status !== RequestStatus.RUNNING && newRequests.length > before)
      head.numPassedOver++;
    return budget;
  }

  /**
   * Cache hits first (SGLang's longest-prefix-match ordering, bounded): a waiting request whose
   * prefix is cached and whose remaining prefill fits the budget whole goes ahead of earlier arrivals
   * that are not (a tenant's cold system prompt, 512 tokens of one step): it yields a first token
   * this step for a few tokens of compute. In a burst behind a few new shared prefixes, FCFS makes
   * every request wait for every prefix that arrived before it, one prefix per step; this lets each
   * prefix's followers go as soon as it is cached. Earlier arrivals keep FCFS among themselves and
   * take the rest of the budget; the queue's head is passed over in at most MAX_PASSED_OVER steps,
   * then FCFS alone applies until it is admitted. Looks at the first HIT_SCAN_WINDOW waiting requests.
   */
  private admitHits(budget: number, newRequests: NewRequestData[]): number {
    const head = this.waiting.peek();
    if (head === undefined || head.numPassedOver >= MAX_PASSED_OVER) return budget;
    const admitted = this.admittedHits;
    admitted.length = 0;
    let scanned = 0;
    for (const request of this.waiting) {
      if (budget <= 0 || this.running.length >= this.config.maxNumSeqs || scanned++ >= HIT_SCAN_WINDOW) break;
      const hit = this.kv.getComputedBlocks(request);
      const numNew = request.numTokens - hit.numTokens;
      if (hit.numTokens === 0 || numNew > budget) continue;
      const next = this.kv.nextHitCandidate(request, hit.numBlocks);
      if (next !== undefined && this.filledThisStep.has(next)) continue;
      if (!this.start(request, hit, numNew, newRequests)) break;
      admitted.push(request);
      budget -= numNew;
    }
    for (let k = 0; k < admitted.length; k++) this.waiting.remove(at(admitted, k));
    admitted.length = 0;
    return budget;
  }

  /**
   * Moves a waiting request into the step with its prefix hit and `numNew` tokens to compute;
   * false, changing nothing, when its blocks do not fit. The caller takes it out of `waiting`.
   */
  private start(request: Request, hit: ComputedBlocks, numNew: number, newRequests: NewRequestData[]): boolean {
    if (this.kv.allocateSlots(request, numNew, hit) === null) return false;
    request.status = RequestStatus.RUNNING;
    request.numComputedTokens = hit.numTokens;
    if (request.numCachedTokens < 0) request.numCachedTokens = hit.numTokens;
    request.onWorker = true;
    this.running.push(request);
    this.stepRequests.push(request);
    this.stepTokens.push(numNew);
    this.kv.collectFilledBlockHashes(request, hit.numTokens, hit.numTokens + numNew, this.filledThisStep);
    newRequests.push({
      requestId: request.requestId,
      tokenIds: request.tokenIds(),
      sampling: request.sampling,
      blockIds: this.kv.getBlockIds(request),
      numComputedTokens: hit.numTokens,
      numScheduledTokens: numNew,
      numOutputTokens: request.numOutputTokens,
      ...(request.pooling !== null ? { pooling: request.pooling } : {}),
    });
    return true;
  }

  /** FCFS: the newest running request. Priority: the least important, newest among equals. */
  private pickVictim(): number {
    if (this.config.policy !== 'priority') return this.running.length - 1;
    let worst = 0;
    for (let i = 1; i < this.running.length; i++) if (before(at(this.running, worst), at(this.running, i))) worst = i;
    return worst;
  }

  /** Preemption by recompute: the request keeps its tokens (output included) and restarts from 0. */
  private preempt(request: Request): void {
    this.kv.free(request);
    request.status = RequestStatus.PREEMPTED;
    request.numComputedTokens = 0;
    request.numPreemptions++;
    this.numPreemptions++;
    if (request.onWorker) this.preemptedIds.push(request.requestId);
    request.onWorker = false;
    this.waiting.prepend(request);
  }

  /** Appends a sampled token and applies the stop checks; returns whether the request finished. */
  private appendSampled(request: Request, s: SampledToken, outputs: RequestOutput[]): boolean {
    request.appendOutputToken(s.tokenId);
    const out: RequestOutput = { requestId: request.requestId, newTokenIds: [s.tokenId] };
    if (request.sampling.logprobs !== null && s.logprob !== undefined) {
      out.logprobs = [{ tokenId: s.tokenId, logprob: s.logprob, top: s.top ?? [] }];
    }
    outputs.push(out);
    if (!checkStop(request, this.config.maxModelLen)) return false;
    this.release(request);
    out.finished = finishInfoOf(request);
    return true;
  }

  /** Frees a finished request's blocks and forgets it; the worker is told in the next sent step. */
  private release(request: Request): void {
    this.kv.free(request);
    this.byId.delete(request.requestId);
    const [root] = request.blockHashes;
    if (root !== undefined && this.latestByRoot.get(root) === request) this.latestByRoot.delete(root);
    if (request.onWorker) this.finishedIds.push(request.requestId);
    request.onWorker = false;
  }
}
