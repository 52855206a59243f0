import type { BenchRequest } from '../bench-request.js';
import { Rng } from '../random-variates.js';
import type { TokenRange } from './random-dataset.js';
import { at } from '@loom/common';

export interface SharedPrefixDatasetOptions extends TokenRange {
  numPrompts: number;
  /** Distinct prefixes (tenants, system prompts). */
  numPrefixes: number;
  prefixLen: number;
  /** Tokens after the prefix, random per request. */
  questionLen: number;
  outputLen: number;
  seed?: number;
}

/**
 * Tenants that each send their own long system prompt followed by a short question: the shape of
 * vLLM's prefix_repetition dataset, SGLang's generated-shared-prefix and llm-d's prefix-cache
 * benchmark. Request i belongs to prefix i mod numPrefixes, and the order is shuffled (seeded), so
 * every prefix gets the same share and tenants interleave at random.
 */
export function sharedPrefixDataset(o: SharedPrefixDatasetOptions): BenchRequest[] {
  if (!(o.numPrefixes >= 1)) throw new RangeError(`number of prefixes must be >= 1, got ${o.numPrefixes}`);
  const rng = new Rng(o.seed ?? 0);
  const first = o.firstId ?? 3;
  const allowed = o.vocabSize - first;
  if (allowed <= 0) throw new RangeError(`vocabulary size ${o.vocabSize} leaves no token ids from ${first}`);
  const token = () => first + rng.int(0, allowed - 1);
  const prefixes = Array.from({ length: o.numPrefixes }, () => Array.from({ length: o.prefixLen }, token));
  const requests = Array.from({ length: o.numPrompts }, (_, i): BenchRequest => {
    const group = i % o.numPrefixes;
    return {
      prompt: [...at(prefixes, group), ...Array.from({ length: o.questionLen }, token)],
      promptLen: o.prefixLen + o.questionLen,
      outputLen: o.outputLen,
      group,
    };
  });
  return rng.shuffle(requests);
}
