import { seededRandom } from '@loom/testing';

/** One request of the routing benchmark: a tenant's system prompt followed by a short question. */
export interface RoutingRequest {
  tenant: number;
  promptTokenIds: number[];
}

export interface RoutingWorkloadOptions {
  tenants: number;
  systemTokens: number;
  questionTokens: number;
  requests: number;
  /** Token ids are drawn from [3, vocabSize): 0..2 are unknown/BOS/EOS in Llama vocabularies. */
  vocabSize: number;
  seed?: number;
}

/**
 * The shared-prefix workload (vLLM production-stack's multi-round QA and llm-d's prefix-cache
 * benchmarks have the same shape): a few tenants, each with its own long system prompt, sending
 * short questions, tenants interleaved at random. Prompts are token ids (the OpenAI completions API
 * takes them), so every prefix has exactly the intended length whatever the tokenizer.
 */
export function routingWorkload(o: RoutingWorkloadOptions): RoutingRequest[] {
  // The same workload on every run and for every policy.
  const rand = seededRandom(o.seed ?? 7);
  const token = () => 3 + Math.floor(rand() * (o.vocabSize - 3));
  const systems = Array.from({ length: o.tenants }, () => Array.from({ length: o.systemTokens }, token));
  return Array.from({ length: o.requests }, () => {
    const tenant = Math.floor(rand() * o.tenants);
    return { tenant, promptTokenIds: [...systems[tenant]!, ...Array.from({ length: o.questionTokens }, token)] };
  });
}
