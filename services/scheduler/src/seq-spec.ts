import type { PoolingParams, RequestJob, SamplingParams } from '@loom/common';
import type { ServedModel } from './served-model.js';

/** Each choice of a request is scheduled as its own sequence. */
export const seqIdOf = (requestId: string, index: number): string => `${requestId}#${index}`;

/** The prompt of sequence `index`: its own input for an embedding request, the shared prompt otherwise. */
export const promptOf = (job: RequestJob, index: number): number[] => job.inputs?.[index] ?? job.promptTokenIds;

/**
 * A sequence whose worker failed this many times is failed with an error instead of moved again:
 * a request that crashes or wedges every worker it lands on must not take the fleet down one by one.
 */
export const MAX_WORKER_FAILURES = 3;

/** Everything a worker's core needs to (re)create one sequence. */
export interface SeqSpec {
  seqId: string;
  requestId: string;
  model: string;
  promptTokenIds: number[];
  /** Tokens already generated (and streamed) before this admission: recomputed, not re-sent. */
  outputTokenIds: number[];
  sampling: SamplingParams;
  /** An embedding sequence: its prompt is pooled into one vector, nothing is generated. */
  pooling?: PoolingParams;
  priority: number;
  cacheSalt?: string;
  sessionId?: string;
  eosTokenIds: number[];
  contextLength: number;
  /**
   * When the gateway accepted the request (ms epoch), until the sequence first reaches a worker
   * (queue time is observed then and this cleared); absent for a request resumed with output.
   */
  acceptedAt?: number;
  /** Workers this sequence was on when they failed; past MAX_WORKER_FAILURES it is not moved again. */
  workerFailures?: number;
}

/**
 * Choice `index` of `job` as a sequence for a worker's core. `outputTokenIds` is what its output
 * stream already holds (a resume after a scheduler failover recomputes it); `wantPromptLogprobs` is
 * false once its prompt_logprobs event is in the stream; `fresh` says nothing of the request was
 * streamed yet, so its queue time is still to be observed.
 */
export function seqSpecOf(
  job: RequestJob,
  model: Pick<ServedModel, 'eosTokenIds' | 'contextLength'>,
  index: number,
  opts: { outputTokenIds: number[]; wantPromptLogprobs: boolean; fresh: boolean },
): SeqSpec {
  return {
    seqId: seqIdOf(job.requestId, index),
    requestId: job.requestId,
    model: job.model,
    promptTokenIds: promptOf(job, index),
    outputTokenIds: opts.outputTokenIds,
    // Choices of one request differ by seed, so n > 1 gives n different samples.
    sampling: {
      ...job.sampling,
      seed: (job.sampling.seed + index) >>> 0,
      promptLogprobs: opts.wantPromptLogprobs ? job.sampling.promptLogprobs : null,
    },
    ...(job.pooling ? { pooling: job.pooling } : {}),
    priority: job.priority,
    cacheSalt: job.cacheSalt,
    sessionId: job.sessionId,
    eosTokenIds: model.eosTokenIds,
    contextLength: model.contextLength,
    acceptedAt: opts.fresh ? job.acceptedAt : undefined,
  };
}
