/**
 * TypeScript shapes of proto/loom/v1/worker.proto messages as @grpc/proto-loader decodes them with
 * LOADER_OPTIONS (camelCase fields, 64-bit ints as numbers, defaults filled in). worker-messages.test.ts
 * checks every field here against the loaded .proto so the two cannot drift apart.
 */
import type { KvCacheGroup } from '@loom/common';

export type InfoRequest = Record<string, never>;

export interface Capabilities {
  kernels: string;
  threads: number;
  weightType: string;
  logprobs: boolean;
}

export interface InfoResponse {
  workerId: string;
  modelId: string;
  architecture: string;
  vocabSize: number;
  contextLength: number;
  eosTokenIds: number[];
  modelCardKey: string;
  capabilities: Capabilities;
  /** In block-table order; empty from older workers (one full-attention group). */
  kvCacheGroups: KvCacheGroup[];
}

/** Layers whose KV shares one block table per sequence; slidingWindow 0 = full attention. */
export type { KvCacheGroup };

export interface WarmupRequest {
  blockSize: number;
  numBlocks: number;
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
  fencingToken: number;
}

export interface WarmupResponse {
  numBlocks: number;
  blockSize: number;
  kvBytesPerBlock: number;
}

export interface ProtoSamplingParams {
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  seed: number;
  presencePenalty: number;
  frequencyPenalty: number;
  repetitionPenalty: number;
  logitBias: Record<string, number>;
  /** Top-N alternatives of each sampled token's logprob; absent = none (proto3 `optional`: 0 is a value). */
  logprobs?: number;
  /** EOS ids (unless ignoreEos) and stopTokenIds are masked until this many tokens are generated. Default 0. */
  minTokens?: number;
  stopTokenIds?: number[];
  ignoreEos?: boolean;
  /** Each prompt token's logprob plus its n most likely alternatives (echo + logprobs = n); absent = none. */
  promptLogprobs?: number;
}

/** Which final-normed hidden states an embedding request pools (enums decode as their names). */
export type ProtoPoolingType = 'POOLING_NONE' | 'POOLING_LAST' | 'POOLING_MEAN' | 'POOLING_CLS';

/** An embedding request's pooling (vLLM's PoolingParams). */
export interface ProtoPoolingParams {
  type: ProtoPoolingType;
  normalize: boolean;
  /** 0 = all. */
  dimensions: number;
}

export interface NewRequest {
  requestId: string;
  tokenIds: number[];
  sampling: ProtoSamplingParams;
  blockIds: number[];
  numComputedTokens: number;
  numScheduledTokens: number;
  numOutputTokens: number;
  /** Set: an embedding request (decoded as null when absent). */
  pooling?: ProtoPoolingParams | null;
}

export interface CachedRequest {
  requestId: string;
  newBlockIds: number[];
  numComputedTokens: number;
  numScheduledTokens: number;
}

/** Allowed tokens of one sampling request this step: ceil(vocab / 32) little-endian uint32 words, bit j of word i = token 32i + j. */
export interface TokenBitmask {
  requestId: string;
  words: Uint8Array;
}

export interface StepRequest {
  stepId: number;
  fencingToken: number;
  newRequests: NewRequest[];
  cachedRequests: CachedRequest[];
  finishedIds: string[];
  preemptedIds: string[];
  /** Decoded as [] when absent; senders without constrained requests may leave it out. */
  tokenBitmasks?: TokenBitmask[];
}

export interface TopLogprob {
  tokenId: number;
  logprob: number;
}

export interface SampledToken {
  requestId: string;
  tokenId: number;
  logprob: number;
  top: TopLogprob[];
}

export interface PromptTokenLogprob {
  tokenId: number;
  logprob: number;
  top: TopLogprob[];
}

/** Prompt tokens scored this step for one request: positions [startPosition, startPosition + tokens.length); position 0 never. */
export interface PromptLogprobs {
  requestId: string;
  startPosition: number;
  tokens: PromptTokenLogprob[];
}

/** An embedding request's vector, pooled, truncated and normalised as its PoolingParams asked. */
export interface PooledOutput {
  requestId: string;
  embedding: number[];
}

export interface StepResponse {
  stepId: number;
  sampled: SampledToken[];
  forwardSeconds: number;
  error: string;
  /** Absent / empty unless some request asked for prompt logprobs. */
  promptLogprobs?: PromptLogprobs[];
  /** Absent / empty unless some embedding request finished its prompt this step. */
  pooled?: PooledOutput[];
}

export interface ResetRequest {
  fencingToken: number;
}

export type ResetResponse = Record<string, never>;
