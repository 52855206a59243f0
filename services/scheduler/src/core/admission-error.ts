import { FULL_ATTENTION_ONLY, maxBlocksHeld } from './kv-cache-group.js';
import type { Request } from './request.js';
import type { SchedulerConfig } from './scheduler-config.js';

/**
 * Why a request can never run on a worker with this config, or null if it can. A request that
 * passes can always run alone: its largest KV need fits the whole pool, so preemption of everybody
 * else eventually makes room and nobody starves behind an impossible request.
 */
export function admissionError(request: Request, config: SchedulerConfig): string | null {
  const { maxModelLen, numBlocks } = config;
  const maxTokens = request.sampling.maxTokens;
  if (request.numPromptTokens === 0) return 'the prompt is empty';
  if (request.pooling !== null) {
    // An embedding computes its whole prompt (the last token too) and nothing more.
    if (request.numTokens > maxModelLen)
      return `${request.numTokens} tokens exceed the context length (${maxModelLen})`;
    const blocks = blocksHeld(request.numTokens, config);
    if (blocks > numBlocks) return `the input needs ${blocks} KV blocks; this worker has ${numBlocks}`;
    return null;
  }
  if (request.numOutputTokens >= maxTokens) return `max_tokens (${maxTokens}) leaves nothing to generate`;
  if (request.numTokens >= maxModelLen)
    return `${request.numTokens} tokens leave no room to generate in the context length (${maxModelLen})`;
  // The last token is sampled, never computed: this is the most KV the request can ever hold.
  const maxKvTokens = Math.min(request.numPromptTokens + maxTokens, maxModelLen) - 1;
  const needed = blocksHeld(maxKvTokens, config);
  if (needed > numBlocks) return `prompt + max_tokens need ${needed} KV blocks; this worker has ${numBlocks}`;
  return null;
}

/** Most blocks a sequence of `numTokens` KV tokens holds at once, over every KV cache group. */
function blocksHeld(numTokens: number, config: SchedulerConfig): number {
  let n = 0;
  for (const group of config.kvCacheGroups ?? FULL_ATTENTION_ONLY)
    n += maxBlocksHeld(group, numTokens, config.blockSize, config.maxNumBatchedTokens);
  return n;
}
