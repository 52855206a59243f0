import { randomInt } from 'node:crypto';
import { DEFAULT_SAMPLING, type SamplingParams } from '@loom/common';
import { z } from 'zod';
import { ApiError } from '../errors/api-error.js';

const int = () => z.number().int();
/** Optional fields also accept null: OpenAI clients send `null` for "not given". */
const opt = <T extends z.ZodType>(t: T) => t.nullish();

/**
 * Request fields shared by /v1/completions and /v1/chat/completions (OpenAI's plus vLLM's
 * extensions). Spread into each endpoint's zod object; unknown fields are ignored, as OpenAI does.
 */
export const samplingFields = {
  model: z.string().min(1),
  temperature: opt(z.number().min(0).max(2)),
  top_p: opt(z.number().gt(0).max(1)),
  top_k: opt(int().min(-1)),
  min_p: opt(z.number().min(0).max(1)),
  n: opt(int().min(1).max(128)),
  stop: opt(z.union([z.string(), z.array(z.string()).max(64)])),
  stop_token_ids: opt(z.array(int().min(0))),
  seed: opt(int()),
  ignore_eos: opt(z.boolean()),
  min_tokens: opt(int().min(0)),
  presence_penalty: opt(z.number().min(-2).max(2)),
  frequency_penalty: opt(z.number().min(-2).max(2)),
  repetition_penalty: opt(z.number().gt(0).max(10)),
  logit_bias: opt(z.record(z.string().regex(/^\d+$/, 'keys must be token ids'), z.number().min(-100).max(100))),
  skip_special_tokens: opt(z.boolean()),
  stream: opt(z.boolean()),
  stream_options: opt(z.object({ include_usage: opt(z.boolean()), continuous_usage_stats: opt(z.boolean()) })),
  user: opt(z.string()),
  priority: opt(int()),
  cache_salt: opt(z.string().min(1)),
  session_id: opt(z.string().min(1).max(256)),
};

export type SamplingFields = z.infer<z.ZodObject<typeof samplingFields>>;

/**
 * The GenerationRequest fields that samplingFields give as they are: queueing (priority, cache salt,
 * session) and delivery (stream, usage chunks). /v1/responses sets its own.
 */
export function deliveryOf(body: SamplingFields) {
  return {
    priority: body.priority,
    cacheSalt: body.cache_salt,
    sessionId: body.session_id ?? undefined,
    stream: body.stream ?? false,
    includeUsage: body.stream_options?.include_usage ?? false,
    continuousUsage: body.stream_options?.continuous_usage_stats ?? false,
  };
}

/** A client seed (any integer) folded into uint32, or a fresh random one: every job carries a seed so recompute after failover reproduces the same tokens. */
export function resolveSeed(seed: number | null | undefined): number {
  if (seed === null || seed === undefined) return randomInt(0, 2 ** 32);
  return ((seed % 2 ** 32) + 2 ** 32) % 2 ** 32;
}

/** Validated request fields → the scheduler's SamplingParams, with OpenAI's defaults filled in. */
export function toSamplingParams(
  body: SamplingFields,
  maxTokens: number,
  logprobs: number | null = null,
  promptLogprobs: number | null = null,
): SamplingParams {
  const stop = body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  const minTokens = body.min_tokens ?? DEFAULT_SAMPLING.minTokens;
  if (minTokens > maxTokens)
    throw ApiError.invalid(`'min_tokens' (${minTokens}) must be at most max_tokens (${maxTokens}).`, 'min_tokens');
  return {
    temperature: body.temperature ?? DEFAULT_SAMPLING.temperature,
    topP: body.top_p ?? DEFAULT_SAMPLING.topP,
    // vLLM uses -1 for "off"; the contract uses 0.
    topK: Math.max(0, body.top_k ?? DEFAULT_SAMPLING.topK),
    minP: body.min_p ?? DEFAULT_SAMPLING.minP,
    seed: resolveSeed(body.seed),
    maxTokens,
    minTokens,
    stop: stop.filter((s) => s.length > 0),
    stopTokenIds: body.stop_token_ids ?? [],
    ignoreEos: body.ignore_eos ?? DEFAULT_SAMPLING.ignoreEos,
    presencePenalty: body.presence_penalty ?? DEFAULT_SAMPLING.presencePenalty,
    frequencyPenalty: body.frequency_penalty ?? DEFAULT_SAMPLING.frequencyPenalty,
    repetitionPenalty: body.repetition_penalty ?? DEFAULT_SAMPLING.repetitionPenalty,
    logitBias: body.logit_bias ?? {},
    logprobs,
    promptLogprobs,
    skipSpecialTokens: body.skip_special_tokens ?? DEFAULT_SAMPLING.skipSpecialTokens,
  };
}

/** Token ids the client names (logit_bias keys, stop_token_ids) must exist in the vocabulary. */
export function checkTokenIds(body: SamplingFields, vocabSize: number): void {
  for (const id of body.stop_token_ids ?? []) {
    if (id >= vocabSize)
      throw ApiError.invalid(`Token id ${id} is out of range (vocabulary size ${vocabSize}).`, 'stop_token_ids');
  }
  for (const key of Object.keys(body.logit_bias ?? {})) {
    if (Number(key) >= vocabSize)
      throw ApiError.invalid(`Token id ${key} is out of range (vocabulary size ${vocabSize}).`, 'logit_bias');
  }
}
