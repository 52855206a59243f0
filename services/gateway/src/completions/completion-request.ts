import { z } from 'zod';
import { ApiError } from '../errors/api-error.js';
import { samplingFields } from '../generation/sampling-request.js';

const tokenIds = z.array(z.number().int().min(0)).min(1);

/** POST /v1/completions body. One prompt per request: a string, a token-id list, or a one-element list of either. */
export const completionRequestSchema = z.object({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()).length(1), tokenIds, z.array(tokenIds).length(1)]),
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
  if (body.best_of != null && body.best_of > 1) throw ApiError.unsupported('best_of', "'best_of' > 1 is not supported; use 'n'.");
  if (body.suffix) throw ApiError.unsupported('suffix', "'suffix' is not supported.");
}

/** The prompt as text or token ids, unwrapping the one-element list forms. */
export function promptOf(body: CompletionRequest): { text: string } | { ids: number[] } {
  const p = body.prompt;
  if (typeof p === 'string') return { text: p };
  if (p.length === 1 && typeof p[0] === 'string') return { text: p[0] };
  if (p.length === 1 && Array.isArray(p[0])) return { ids: p[0] };
  return { ids: p as number[] };
}
