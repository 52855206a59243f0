import { at, type FinishReason, type PoolingParams, type SamplingParams } from '@loom/common';
import type { BlockHash, BlockHashes } from './block-hash.js';
import type { KVCacheBlock } from './kv-cache-block.js';

export const RequestStatus = {
  WAITING: 'waiting',
  RUNNING: 'running',
  /** Back in the waiting queue after its blocks were taken; resumes by recomputing all its tokens. */
  PREEMPTED: 'preempted',
  FINISHED_STOPPED: 'finished_stopped',
  FINISHED_LENGTH: 'finished_length',
  FINISHED_ABORTED: 'finished_aborted',
  FINISHED_ERROR: 'finished_error',
} as const;
export type RequestStatus = (typeof RequestStatus)[keyof typeof RequestStatus];

const FINISHED_STATUS: Record<FinishReason, RequestStatus> = {
  stop: RequestStatus.FINISHED_STOPPED,
  length: RequestStatus.FINISHED_LENGTH,
  abort: RequestStatus.FINISHED_ABORTED,
  error: RequestStatus.FINISHED_ERROR,
};

/** What the service hands to Scheduler.addRequest (and what Scheduler.drain gives back). */
export interface RequestInit {
  /** One sequence: for n > 1 the service adds `${requestId}#${i}` per choice. */
  requestId: string;
  promptTokenIds: readonly number[];
  sampling: SamplingParams;
  /**
   * An embedding sequence: computes its prompt, samples nothing (sampling is unused) and finishes ('stop')
   * with the worker's pooled vector in the step that computes its last token.
   */
  pooling?: PoolingParams;
  /** Lower = more important. Default 0. */
  priority?: number;
  /** Prefix-cache isolation key (tenant). */
  cacheSalt?: string;
  /** Tokens already generated elsewhere (failover): recomputed, counted against maxTokens. */
  outputTokenIds?: readonly number[];
  /**
   * Full-block hashes of promptTokenIds + outputTokenIds (or of a prefix of them) already computed
   * by the caller (the router). Used when blockSize and cacheSalt match the scheduler's; otherwise
   * the scheduler hashes lazily itself. Never sent back by toInit (the tokens may have grown).
   */
  blockHashes?: BlockHashes;
}

export class Request {
  readonly requestId: string;
  /** The prompt is the first numPromptTokens tokens: kept once, not as a second copy. */
  readonly numPromptTokens: number;
  /**
   * Prompt followed by output in tokens[0..numTokens): the sequence whose KV the worker computes.
   * Int32 storage, which the GC neither scans nor copies: as a JS array a 2k-token prompt was 17 KB
   * of heap per arrival, promoted to the old generation while the request ran, and the marking
   * that followed slowed whole runs of steps. Spare capacity behind numTokens, doubled on demand.
   */
  private tokens: Int32Array;
  private length: number;
  readonly sampling: SamplingParams;
  readonly pooling: PoolingParams | null;
  readonly priority: number;
  readonly cacheSalt: string | null;
  status: RequestStatus = RequestStatus.WAITING;
  /** Leading tokens whose KV is in this request's blocks. */
  numComputedTokens = 0;
  /** Prefix-cache hit tokens at first admission; -1 before it. */
  numCachedTokens = -1;
  numPreemptions = 0;
  /** Steps in which later cache hits were admitted ahead of it while it waited at the queue's head. */
  numPassedOver = 0;
  finishReason: FinishReason | null = null;
  stopReason: string | number | null = null;
  /** Hashes of this sequence's full blocks computed so far (block i at index i); filled lazily. */
  readonly blockHashes: BlockHash[] = [];
  /**
   * One block table per KV cache group, written only by the KVCacheManager (kept here, as nano-vllm
   * keeps its table on the sequence, so a step finds them without a lookup per running request):
   * blockTables[g][i] holds group g's KV of tokens [i*blockSize, (i+1)*blockSize) (NULL_BLOCK where a
   * sliding window left it); all of the same length, empty while the request holds no blocks.
   */
  blockTables: KVCacheBlock[][] = [];
  /** Leading token blocks already offered to the prefix cache in every group (KVCacheManager's too). */
  numCommittedBlocks = 0;
  /** Whether the worker holds this request's state (sent as a NewRequest, not preempted or forgotten since). */
  onWorker = false;

  constructor(
    init: RequestInit,
    /** Order of addRequest calls: ties of priority go to the earlier arrival. */
    readonly arrivalSeq: number,
    readonly eosTokenIds: readonly number[],
  ) {
    this.requestId = init.requestId;
    const numPrompt = init.promptTokenIds.length;
    const numOutput = init.outputTokenIds?.length ?? 0;
    this.numPromptTokens = numPrompt;
    this.length = numPrompt + numOutput;
    // Room for about half the length again: a typical output never copies the prompt.
    this.tokens = new Int32Array(Math.max(16, Math.ceil(this.length * 1.5)));
    this.tokens.set(init.promptTokenIds);
    if (numOutput > 0) this.tokens.set(init.outputTokenIds!, numPrompt);
    this.sampling = init.sampling;
    this.pooling = init.pooling ?? null;
    this.priority = init.priority ?? 0;
    this.cacheSalt = init.cacheSalt ?? null;
  }

  get numTokens(): number {
    return this.length;
  }

  get numOutputTokens(): number {
    return this.length - this.numPromptTokens;
  }

  /**
   * Every known token, as a view of the request's own storage, not a copy: read it before the next
   * appendOutputToken, which may move the tokens to a larger buffer (the view then keeps the old).
   */
  tokenIds(): Int32Array {
    return this.tokens.subarray(0, this.length);
  }

  /**
   * The output so far, a fresh copy (cold paths: failover, tests). Not kept as a second growing
   * array: in a decode-heavy step loop its growth copies were a large share of the young garbage.
   */
  get outputTokenIds(): number[] {
    return Array.from(this.tokens.subarray(this.numPromptTokens, this.length));
  }

  /** The last token (the latest output token once one was sampled). */
  get lastTokenId(): number {
    return at(this.tokens, this.length - 1);
  }

  appendOutputToken(tokenId: number): void {
    if (this.length === this.tokens.length) {
      const grown = new Int32Array(2 * this.tokens.length);
      grown.set(this.tokens);
      this.tokens = grown;
    }
    this.tokens[this.length++] = tokenId;
  }

  isFinished(): boolean {
    return this.finishReason !== null;
  }

  markFinished(reason: FinishReason, stopReason: string | number | null = null): void {
    this.finishReason = reason;
    this.stopReason = stopReason;
    this.status = FINISHED_STATUS[reason];
  }

  /**
   * Takes precomputed hashes of this sequence's leading full blocks (see RequestInit.blockHashes)
   * when they were made with this block size and salt; beyond the known tokens they are ignored.
   */
  adoptBlockHashes(given: BlockHashes | undefined, blockSize: number): void {
    if (given === undefined || given.blockSize !== blockSize || given.cacheSalt !== this.cacheSalt) return;
    if (this.blockHashes.length > 0) return;
    const n = Math.min(given.hashes.length, Math.floor(this.length / blockSize));
    for (let i = 0; i < n; i++) this.blockHashes.push(at(given.hashes, i));
  }

  /** The init that re-creates this request elsewhere, keeping its output so far (recompute). */
  toInit(): RequestInit {
    const init: RequestInit = {
      requestId: this.requestId,
      promptTokenIds: Array.from(this.tokens.subarray(0, this.numPromptTokens)),
      sampling: this.sampling,
      priority: this.priority,
      outputTokenIds: this.outputTokenIds,
    };
    if (this.cacheSalt !== null) init.cacheSalt = this.cacheSalt;
    if (this.pooling !== null) init.pooling = this.pooling;
    return init;
  }
}
