import type { KVCacheGroupSpec } from './kv-cache-group.js';
import type { SchedulingPolicy } from './request-queue.js';
import type { PrefixCacheStats } from './kv-cache-manager.js';

export interface SchedulerConfig {
  /** Tokens per KV block (the worker's Warmup answer). */
  blockSize: number;
  /** KV blocks of the worker's pool (the worker's Warmup answer). */
  numBlocks: number;
  /** Token budget of one step. */
  maxNumBatchedTokens: number;
  /** Most requests running at once. */
  maxNumSeqs: number;
  /** Context length: prompt + output never exceed it. */
  maxModelLen: number;
  /** The model's EOS ids (worker Info); addRequest may override them per request. Default none. */
  eosTokenIds?: readonly number[];
  policy?: SchedulingPolicy;
  /**
   * The worker's KV cache groups (its Info), in the order of the tables it takes: a block of numBlocks
   * holds one group's KV of blockSize tokens. Default: one full-attention group.
   */
  kvCacheGroups?: readonly KVCacheGroupSpec[];
  enablePrefixCaching?: boolean;
}

export interface SchedulerStats {
  numRunning: number;
  numWaiting: number;
  /** Fraction of KV blocks held by requests. */
  kvUsage: number;
  numFreeBlocks: number;
  prefixCache: PrefixCacheStats;
  /** Preemptions since creation (a counter). */
  numPreemptions: number;
}
