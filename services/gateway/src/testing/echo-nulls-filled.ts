/**
 * A completion response (or chunk) with the leading nulls of echo + logprobs filled in, for schema
 * validation: OpenAI's spec types `token_logprobs` / `top_logprobs` items as non-null, yet OpenAI and
 * vLLM return null for the first prompt token (nothing precedes it). Only position 0 is filled, so
 * a null anywhere else still fails validation.
 */
export function echoNullsFilled<T>(response: T): T {
  const copy = structuredClone(response) as {
    choices?: { logprobs?: { token_logprobs?: unknown[]; top_logprobs?: unknown[] } | null }[];
  };
  for (const c of copy.choices ?? []) {
    const lp = c.logprobs;
    if (lp?.token_logprobs?.[0] === null) lp.token_logprobs[0] = 0;
    if (lp?.top_logprobs?.[0] === null) lp.top_logprobs[0] = {};
  }
  return copy as T;
}
