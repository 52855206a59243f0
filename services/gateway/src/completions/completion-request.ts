import { z } from 'zod';
import { ApiError } from '../errors/api-error.js';
import { samplingFields } from '../generation/sampling-request.js';
import { structuredOutputFields } from '../generation/structured-output-request.js';

const tokenIds = z.array(z.number().int().min(0)).min(1);

/** Prompts in one request (each is its own job): bounds the work one body can ask for. */
export const MAX_PROMPTS = 64;

/** POST /v1/completions body. The prompt is a string, a token-id list, or a list of either (several prompts). */
export const completionRequestSchema = z.object({
  ...samplingFields,
  ...structuredOutputFields,
  prompt: z.union([
    z.string(),
    z.array(z.string()).min(1).max(MAX_PROMPTS),
    tokenIds,
    z.array(tokenIds).min(1).max(MAX_PROMPTS),
  ]),
  max_tokens: z.number().int().min(1).nullish(),
  echo: z.boolean().nullish(),
  best_of: z.number().int().min(1).nullish(),
  suffix: z.string().nullish(),
  /** Legacy logprobs: how many alternatives per position (vLLM's limit, 20; OpenAI's is 5). */
  logprobs: z.number().int().min(0).max(20).nullish(),
});

export type CompletionRequest = z.infer<typeof completionRequestSchema>;

/** OpenAI's legacy default. */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;

/** Parameters the API defines that Loom does not implement: a clear 400 beats silently ignoring them. */
export function rejectUnsupportedCompletion(body: CompletionRequest): void {
  if (body.best_of != null && body.best_of > 1)
    throw ApiError.unsupported('best_of', "'best_of' > 1 is not supported; use 'n'.");
  if (body.suffix) throw ApiError.unsupported('suffix', "'suffix' is not supported.");
}

export type Prompt = { text: string } | { ids: number[] };

/** Each prompt as text or token ids (a flat number list is one prompt, a list of lists several). */
export function promptsOf(body: CompletionRequest): Prompt[] {
  const p = body.prompt;
  if (typeof p === 'string') return [{ text: p }];
  if (typeof p[0] === 'number') return [{ ids: p as number[] }];
  return (p as (string | number[])[]).map((x) => (typeof x === 'string' ? { text: x } : { ids: x }));
}
