import type { PoolingParams, SamplingParams } from '@loom/common';
import type { ProtoPoolingParams, ProtoSamplingParams, StepRequest, TokenBitmask } from '@loom/proto';
import type { SchedulerOutput } from './core/index.js';

/**
 * The core's plain-data step, stamped with the step id and the leader's fencing token, with the
 * structured-output manager's masks of the constrained sequences that sample in it.
 */
export function toStepRequest(
  out: SchedulerOutput,
  stepId: number,
  fencingToken: number,
  tokenBitmasks?: TokenBitmask[],
): StepRequest {
  return {
    stepId,
    fencingToken,
    // tokenIds is a view of the core's int32 storage (see NewRequestData): copied out here, before
    // update() can append to it, into the plain array the protobuf encoder takes.
    newRequests: out.newRequests.map((r) => ({
      ...r,
      tokenIds: Array.from(r.tokenIds),
      sampling: toProtoSampling(r.sampling),
      pooling: r.pooling ? toProtoPooling(r.pooling) : null,
    })),
    cachedRequests: out.cachedRequests as StepRequest['cachedRequests'], // newBlockIds: readonly only in the core's type
    finishedIds: out.finishedIds,
    preemptedIds: out.preemptedIds,
    ...(tokenBitmasks && tokenBitmasks.length > 0 ? { tokenBitmasks } : {}),
  };
}

export function toProtoSampling(s: SamplingParams): ProtoSamplingParams {
  return {
    temperature: s.temperature,
    topP: s.topP,
    topK: s.topK,
    minP: s.minP,
    seed: s.seed,
    presencePenalty: s.presencePenalty,
    frequencyPenalty: s.frequencyPenalty,
    repetitionPenalty: s.repetitionPenalty,
    logitBias: s.logitBias,
    minTokens: s.minTokens,
    stopTokenIds: s.stopTokenIds,
    ignoreEos: s.ignoreEos,
    // null (none) is an absent proto3 optional field; a count is sent as it is, 0 included.
    ...(s.logprobs != null ? { logprobs: s.logprobs } : {}),
    ...(s.promptLogprobs != null ? { promptLogprobs: s.promptLogprobs } : {}),
  };
}

const PROTO_POOLING_TYPE = { last: 'POOLING_LAST', mean: 'POOLING_MEAN', cls: 'POOLING_CLS' } as const;

export function toProtoPooling(p: PoolingParams): ProtoPoolingParams {
  return { type: PROTO_POOLING_TYPE[p.type], normalize: p.normalize, dimensions: p.dimensions ?? 0 };
}
