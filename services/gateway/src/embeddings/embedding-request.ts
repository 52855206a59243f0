import { DEFAULT_SAMPLING, type ModelCard, type SamplingParams } from '@loom/common';
import { z } from 'zod';
import { ApiError } from '../errors/api-error.js';

/** Inputs in one request: OpenAI's documented limit ("any array must be 2048 dimensions or less"). */
export const MAX_EMBEDDING_INPUTS = 2048;
/** Tokens summed over a request's inputs: OpenAI's documented limit (300,000). */
export const MAX_EMBEDDING_REQUEST_TOKENS = 300_000;

const tokenId = z.number().int().min(0);

/**
 * POST /v1/embeddings body: OpenAI's fields plus vLLM's (truncate_prompt_tokens, normalize,
 * add_special_tokens, priority). `input` is checked for kind and size by inputsOf, which names the limits.
 */
export const embeddingRequestSchema = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.union([z.string(), tokenId, z.array(tokenId)]))]),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().min(1).nullish(),
  user: z.string().nullish(),
  /** vLLM's: keep only the last k tokens of each input (-1 = the context length); absent = over-long is a 400. */
  truncate_prompt_tokens: z.number().int().min(-1).nullish(),
  /** vLLM's: L2-normalise (default true, as OpenAI's vectors are unit length). */
  normalize: z.boolean().nullish(),
  /** vLLM's: add the model's special tokens (BOS, and EOS where its tokenizer says) to text inputs. Default true. */
  add_special_tokens: z.boolean().nullish(),
  priority: z.number().int().nullish(),
  cache_salt: z.string().min(1).nullish(),
});

export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;

export type EmbeddingInput = { text: string } | { ids: number[] };

/**
 * The request's inputs: a string, a list of strings, one token-id list, or a list of token-id lists.
 * An empty input, an empty list, a list of more than MAX_EMBEDDING_INPUTS or a mix of kinds is a 400 naming `input`.
 */
export function inputsOf(body: EmbeddingRequest): EmbeddingInput[] {
  const input = body.input;
  const invalid = (message: string) => ApiError.invalid(message, 'input');
  if (typeof input === 'string') {
    if (input === '') throw invalid("'input' cannot be an empty string.");
    return [{ text: input }];
  }
  if (input.length === 0) throw invalid("'input' is an empty list; give at least one input.");
  if (input.every((x) => typeof x === 'number')) return [{ ids: input as number[] }];
  if (input.length > MAX_EMBEDDING_INPUTS)
    throw invalid(`'input' holds ${input.length} inputs; at most ${MAX_EMBEDDING_INPUTS} are allowed in one request.`);
  if (input.every((x) => typeof x === 'string')) {
    const empty = input.findIndex((x) => x === '');
    if (empty >= 0) throw invalid(`'input[${empty}]' cannot be an empty string.`);
    return (input as string[]).map((text) => ({ text }));
  }
  if (input.every((x) => Array.isArray(x))) {
    const empty = input.findIndex((x) => x.length === 0);
    if (empty >= 0) throw invalid(`'input[${empty}]' is an empty token list.`);
    return (input as number[][]).map((ids) => ({ ids }));
  }
  throw invalid("'input' mixes strings, token ids and token-id lists; give a list of one kind.");
}

/**
 * Each input's token ids, checked against the model: ids in the vocabulary, no input empty after
 * tokenization, each within the context length (or cut to its last `truncate_prompt_tokens`, vLLM's
 * left truncation), and the request within MAX_EMBEDDING_REQUEST_TOKENS.
 */
export function checkedInputIds(body: EmbeddingRequest, card: ModelCard, ids: number[][]): number[][] {
  const k = body.truncate_prompt_tokens;
  const keep = k == null ? undefined : k === -1 ? card.contextLength : k;
  if (keep !== undefined && (keep < 1 || keep > card.contextLength))
    throw ApiError.invalid(
      `'truncate_prompt_tokens' (${k}) must be -1 or between 1 and the context length (${card.contextLength}).`,
      'truncate_prompt_tokens',
    );
  let total = 0;
  const out = ids.map((p) => {
    const bad = p.find((id) => id >= card.vocabSize);
    if (bad !== undefined)
      throw ApiError.invalid(`Token id ${bad} is out of range (vocabulary size ${card.vocabSize}).`, 'input');
    if (p.length === 0) throw ApiError.invalid('An input has no tokens.', 'input');
    const kept = keep !== undefined && p.length > keep ? p.slice(p.length - keep) : p;
    if (kept.length > card.contextLength)
      throw new ApiError(
        400,
        `This model's maximum context length is ${card.contextLength} tokens. However, an input has ${kept.length} ` +
          `tokens. Please reduce its length, or set 'truncate_prompt_tokens'.`,
        'invalid_request_error',
        'input',
        'context_length_exceeded',
      );
    total += kept.length;
    return kept;
  });
  if (total > MAX_EMBEDDING_REQUEST_TOKENS)
    throw ApiError.invalid(
      `The inputs hold ${total} tokens; at most ${MAX_EMBEDDING_REQUEST_TOKENS} are allowed in one request.`,
      'input',
    );
  return out;
}

/** `dimensions` must not exceed the model's hidden size (the vector's full length). */
export function checkDimensions(body: EmbeddingRequest, card: ModelCard): number | undefined {
  const d = body.dimensions ?? undefined;
  if (d !== undefined && card.hiddenSize !== undefined && d > card.hiddenSize)
    throw ApiError.invalid(
      `'dimensions' (${d}) exceeds the model's embedding size (${card.hiddenSize}).`,
      'dimensions',
    );
  return d;
}

/** The job's sampling: unused by embedding sequences (they sample nothing), kept for the RequestJob contract. */
export const EMBEDDING_SAMPLING: Readonly<SamplingParams> = Object.freeze({ ...DEFAULT_SAMPLING, maxTokens: 0 });
