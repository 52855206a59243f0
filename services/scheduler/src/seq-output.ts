import type { FinishReason, TokenLogprob } from '@loom/common';

/** One sequence's result of one step, as the core reports it. */
export interface SeqOutput {
  seqId: string;
  newTokenIds: number[];
  logprobs?: TokenLogprob[];
  finished?: { reason: FinishReason; stopReason?: string | number | null };
  /** An embedding sequence's vector (it is finished with it). */
  pooled?: readonly number[];
  /** Prompt tokens its worker's prefix cache served when the core admitted it (vLLM's num_cached_tokens). */
  cachedTokens?: number;
}
