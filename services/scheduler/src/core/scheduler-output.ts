import type { FinishReason, PoolingParams, SamplingParams, TokenLogprob } from '@loom/common';
import type { Request } from './request.js';

/**
 * One step as plain data; maps 1:1 onto proto loom.v1.StepRequest (step id and fencing token are
 * the service's). The worker must apply finishedIds and preemptedIds before newRequests: a
 * preempted request can be re-admitted under the same id in a later step.
 */
export interface SchedulerOutput {
  /** First admissions and resumptions after preemption, in full (proto NewRequest). */
  newRequests: NewRequestData[];
  /** Requests the worker already holds, as diffs (proto CachedRequest). */
  cachedRequests: CachedRequestData[];
  /** Requests the worker should forget: finished or aborted since the previous sent step. */
  finishedIds: string[];
  /** Requests preempted by this step (forget until re-sent as a NewRequest). */
  preemptedIds: string[];
  /** Sum of numScheduledTokens; 0 means: do not send this step. */
  numScheduledTokens: number;
  /** Ids of newRequests then cachedRequests, in that order. */
  scheduledRequestIds: string[];
}

export interface NewRequestData {
  requestId: string;
  /**
   * Every known token: prompt, then output so far (recomputed after preemption/failover). A view of
   * the request's own tokens, not a copy (a 2k-token copy per admission was most of a step's
   * garbage): read or serialize it before update(), which may append to the same storage.
   */
  tokenIds: Int32Array;
  sampling: SamplingParams;
  /** The whole block table, prefix-hit blocks first. */
  blockIds: number[];
  /** Leading tokens whose KV is already in blockIds (prefix hit): not sent for compute. */
  numComputedTokens: number;
  /** Tokens to compute this step, from numComputedTokens on. */
  numScheduledTokens: number;
  numOutputTokens: number;
  /** An embedding sequence (RequestInit.pooling): the worker pools it instead of sampling. */
  pooling?: PoolingParams;
}

export interface CachedRequestData {
  requestId: string;
  /** Blocks appended to the table this step (a shared frozen empty array when none). */
  newBlockIds: readonly number[];
  numComputedTokens: number;
  numScheduledTokens: number;
}

/** What the worker sampled for one request (proto SampledToken). */
export interface SampledToken {
  requestId: string;
  tokenId: number;
  logprob?: number;
  top?: { tokenId: number; logprob: number }[];
}

/** The vector the worker pooled for an embedding request whose last token the step computed (proto PooledOutput). */
export interface PooledVector {
  requestId: string;
  embedding: readonly number[];
}

export interface FinishInfo {
  reason: FinishReason;
  /** The stop token id or stop string that ended the request; for 'error', the message. */
  stopReason?: string | number;
  numPromptTokens: number;
  numOutputTokens: number;
  /** Prompt tokens served from the prefix cache at first admission. */
  numCachedTokens: number;
}

export interface RequestOutput {
  requestId: string;
  /** Tokens appended by this step (0 or 1; none for a request rejected at admission). */
  newTokenIds: number[];
  /** Present when the request asked for logprobs and the worker sent them; same length as newTokenIds. */
  logprobs?: TokenLogprob[];
  /** Present when the request finished in this update: its blocks are already freed. */
  finished?: FinishInfo;
  /** An embedding request's vector (it finished in this update). */
  pooled?: readonly number[];
}

export interface UpdateResult {
  outputs: RequestOutput[];
}

/** The finish info of a finished request. */
export function finishInfoOf(request: Request): FinishInfo {
  const info: FinishInfo = {
    reason: request.finishReason!,
    numPromptTokens: request.numPromptTokens,
    numOutputTokens: request.numOutputTokens,
    numCachedTokens: Math.max(0, request.numCachedTokens),
  };
  if (request.stopReason !== null) info.stopReason = request.stopReason;
  return info;
}
