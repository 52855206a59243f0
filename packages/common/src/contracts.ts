/**
 * Data that crosses process boundaries through Redis: BullMQ job payloads, output-stream events,
 * cancellations, worker registrations and model cards. Plain JSON-serialisable shapes only.
 */

/** Sampling and stopping parameters of one request, already validated and defaulted by the gateway. */
export interface SamplingParams {
  /** 0 = greedy. */
  temperature: number;
  /** 1 = off. */
  topP: number;
  /** 0 = off. */
  topK: number;
  /** 0 = off. */
  minP: number;
  /**
   * Seed of the per-request counter-based RNG; the gateway draws one when the client gives none, so recompute after
   * failover reproduces the same tokens. uint32.
   */
  seed: number;
  maxTokens: number;
  minTokens: number;
  /** Stop strings: generation ends when the text contains one; it is not included in the output. */
  stop: string[];
  /** Stop token ids in addition to the model's EOS ids. */
  stopTokenIds: number[];
  ignoreEos: boolean;
  presencePenalty: number;
  frequencyPenalty: number;
  /** 1 = off. */
  repetitionPenalty: number;
  /** token id → additive bias. */
  logitBias: Record<string, number>;
  /** Top-N logprobs to return per token; null = none. */
  logprobs: number | null;
  /** Top-N logprobs of every prompt token given the tokens before it (echo + logprobs); null = none. */
  promptLogprobs: number | null;
  /** Whether detokenized text skips special tokens. */
  skipSpecialTokens: boolean;
  /**
   * Constrained decoding: every sampled token keeps the output inside this grammar (the scheduler's
   * structured-output manager masks the step's logits); absent = unconstrained.
   */
  structuredOutput?: StructuredOutputSpec;
}

/**
 * One structured-output constraint (vLLM's `structured_outputs`, one kind per request), as the gateway
 * normalised and checked it: it compiles for the model's vocabulary within the documented limits.
 * The same constraint always serialises to the same JSON (structuredOutputKey: the compile cache key).
 * Output under it ends with the model's EOS when the grammar is complete (finish_reason 'stop').
 */
export type StructuredOutputSpec =
  | {
      /** JSON matching a JSON Schema (`response_format` json_schema, `guided_json`, `structured_outputs.json`). */
      type: 'json_schema';
      /** The schema as compact JSON text; key order kept (it orders the output's properties). */
      schema: string;
      /**
       * OpenAI's `strict`: no properties or items beyond those the schema lists (xgrammar's strict mode).
       * false follows JSON Schema's own defaults (additional properties allowed unless the schema forbids them).
       */
      strict: boolean;
      /**
       * Any whitespace between JSON tokens (vLLM's default; its `disable_any_whitespace: false`). Without
       * it JSON is written on one line with `, ` and `: ` (json.dumps' layout, what OpenAI returns): a
       * schema whose strings, arrays and integers are bounded then has finitely many outputs, so the
       * output ends within a known length whatever the model; with it a small model may pad without end.
       */
      anyWhitespace?: boolean;
    }
  /** Any JSON object (`response_format` json_object, `structured_outputs.json_object`). */
  | {
      type: 'json_object';
      /** As json_schema's. */
      anyWhitespace?: boolean;
    }
  /** Text fully matching a regular expression (`guided_regex`, `structured_outputs.regex`). */
  | { type: 'regex'; pattern: string }
  /** Exactly one of these strings (`guided_choice`, `structured_outputs.choice`). */
  | { type: 'choice'; choices: string[] }
  /** Text of an EBNF grammar in xgrammar's dialect, root rule `root` (llama.cpp's GBNF mostly parses). */
  | { type: 'grammar'; grammar: string };

/** The compile-cache key of a spec: its JSON (fields in a fixed order). */
export function structuredOutputKey(spec: StructuredOutputSpec): string {
  switch (spec.type) {
    case 'json_schema':
      return JSON.stringify({
        type: spec.type,
        strict: spec.strict,
        ws: spec.anyWhitespace ?? false,
        schema: spec.schema,
      });
    case 'json_object':
      return JSON.stringify({ type: spec.type, ws: spec.anyWhitespace ?? false });
    case 'regex':
      return JSON.stringify({ type: spec.type, pattern: spec.pattern });
    case 'choice':
      return JSON.stringify({ type: spec.type, choices: spec.choices });
    case 'grammar':
      return JSON.stringify({ type: spec.type, grammar: spec.grammar });
  }
}

export const DEFAULT_SAMPLING: Readonly<SamplingParams> = Object.freeze({
  temperature: 1,
  topP: 1,
  topK: 0,
  minP: 0,
  seed: 0,
  maxTokens: 16,
  minTokens: 0,
  stop: [],
  stopTokenIds: [],
  ignoreEos: false,
  presencePenalty: 0,
  frequencyPenalty: 0,
  repetitionPenalty: 1,
  logitBias: {},
  logprobs: null,
  promptLogprobs: null,
  skipSpecialTokens: true,
});

/**
 * Which final-normed hidden states (rmsnorm * output_norm, llama.cpp's embedding output) make an embedding:
 * the last prompt token's, the mean over all of them, or the first token's.
 */
export type PoolingType = 'last' | 'mean' | 'cls';
export const POOLING_TYPES: readonly PoolingType[] = ['last', 'mean', 'cls'];

/** How an embedding request's sequences become vectors (vLLM's PoolingParams), as the gateway validated them. */
export interface PoolingParams {
  /** The model's pooling (its ModelCard.pooling): the same for every request, as in vLLM. */
  type: PoolingType;
  /** L2-normalise the vector, after truncation to `dimensions` (OpenAI's embeddings are unit length). */
  normalize: boolean;
  /** Matryoshka truncation: keep the first `dimensions` values (<= the model's hiddenSize); absent = all. */
  dimensions?: number;
}

/** Payload of one BullMQ job: one client request (all its `n` choices). */
export interface RequestJob {
  requestId: string;
  model: string;
  promptTokenIds: number[];
  sampling: SamplingParams;
  /** Number of choices; each choice is scheduled as its own sequence `${requestId}#${index}`. */
  n: number;
  /**
   * Embeddings (/v1/embeddings): set on a request whose sequences compute their prompts and are pooled into
   * one vector each (their 'finish' events carry it), generating nothing; `sampling` is then unused.
   */
  pooling?: PoolingParams;
  /**
   * Embeddings: the prompt of each sequence `${requestId}#${i}`, one per input (n = inputs.length and
   * promptTokenIds is empty). Absent for generation: every choice shares promptTokenIds.
   */
  inputs?: number[][];
  /** Lower value = more important (vLLM's convention). */
  priority: number;
  /** Extra key of the prefix-cache hash, isolating tenants' cached blocks. */
  cacheSalt?: string;
  /** Tenant of the API key that sent the request (absent when the gateway runs without keys). */
  tenant?: string;
  /** Routing hint: requests with the same session id prefer the same worker. */
  sessionId?: string;
  /** Epoch milliseconds when the gateway accepted the request. */
  acceptedAt: number;
  /**
   * The accepting gateway's fan-in stream (gatewayOutputKey): every append to this request's output
   * stream is copied there too. Absent: only the request's own stream is written.
   */
  replyTo?: string;
}

/**
 * What an API key grants (API_KEYS_KEY values, entries of --api-keys-file). Limits of 0 or absent
 * fall back to the gateway's --rate-limit-rpm / --rate-limit-tpm.
 */
export interface ApiKeyRecord {
  tenant: string;
  /** Best priority the key's requests get (lower = more important); a request may ask for a worse one. */
  priority?: number;
  /** cache_salt for requests that do not give their own (isolates the tenant's prefix cache). */
  cacheSalt?: string;
  /** Requests per minute. */
  rpm?: number;
  /** Tokens per minute (prompt tokens + max_tokens × n, counted when the request is admitted). */
  tpm?: number;
}

export type FinishReason = 'stop' | 'length' | 'abort' | 'error';

/** One entry of a request's output stream. Events of different choices interleave; `index` tells them apart. */
export type OutputEvent =
  | {
      type: 'token';
      index: number;
      /** Token ids generated since the previous event of this choice (empty only for text released at the end). */
      tokenIds: number[];
      /** Text that became final with these tokens (may be '' while a UTF-8 sequence or a possible stop string is held back). */
      text: string;
      /** Per-token logprobs when requested; same length as tokenIds. */
      logprobs?: TokenLogprob[];
    }
  | {
      type: 'finish';
      index: number;
      finishReason: FinishReason;
      /** The stop string or stop token id that ended the choice, if any. */
      stopReason?: string | number | null;
      promptTokens: number;
      completionTokens: number;
      /**
       * Prompt tokens the prefix cache served when the choice was first admitted (a multiple of the block
       * size, at most promptTokens); absent when it never was (aborted while waiting).
       */
      cachedTokens?: number;
      /** Embeddings: the sequence's vector, little-endian float32 in base64 (encodeEmbedding). */
      embedding?: string;
    }
  | {
      /**
       * The prompt's logprobs when `sampling.promptLogprobs` asked for them: one entry per prompt
       * position, null at 0 (nothing precedes it). Written once per choice, before its first token event.
       */
      type: 'prompt_logprobs';
      index: number;
      logprobs: (TokenLogprob | null)[];
    }
  | { type: 'error'; status: number; code: string; message: string };

export interface TokenLogprob {
  tokenId: number;
  logprob: number;
  top: { tokenId: number; logprob: number }[];
}

export interface CancelEvent {
  requestId: string;
  reason: string;
}

/** What a worker publishes about itself in WORKERS_KEY. */
export interface WorkerRegistration {
  workerId: string;
  /** host:port of its gRPC server. */
  address: string;
  model: string;
  pid: number;
  startedAt: number;
}

/**
 * Vocabulary and tokenizer settings, as read from GGUF metadata (`tokenizer.ggml.*`) or a
 * Hugging Face tokenizer.json. Workers publish it in the model card so the gateway never needs
 * the weights.
 */
export interface TokenizerData {
  /**
   * llama.cpp's tokenizer.ggml.model: `llama` SentencePiece, `gpt2` byte-level BPE, `gemma4` BPE over raw
   * UTF-8 (Gemma-4), `bert` WordPiece, `t5` Unigram.
   */
  model: string;
  /** Pre-tokenizer name for BPE (`llama-bpe`, `qwen2`, `gpt-2`, `deepseek-coder`, ...). */
  pre?: string;
  tokens: string[];
  scores?: number[];
  /** llama.cpp token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte. */
  tokenTypes?: number[];
  merges?: string[];
  bosTokenId?: number;
  eosTokenId?: number;
  eotTokenId?: number;
  eomTokenId?: number;
  unknownTokenId?: number;
  paddingTokenId?: number;
  sepTokenId?: number;
  /** Every id that ends generation, as llama.cpp's special_eog_ids: EOS, EOT, EOM and the end-of-turn texts it knows. */
  eogTokenIds?: number[];
  addBosToken: boolean;
  addEosToken: boolean;
  /** SentencePiece: prepend a space to the input (llama.cpp `tokenizer.ggml.add_space_prefix`, default true for llama). */
  addSpacePrefix?: boolean;
  /** Unigram: SentencePiece's precompiled normalization charsmap (`tokenizer.ggml.precompiled_charsmap`), base64. */
  precompiledCharsmap?: string;
  /** Unigram: collapse whitespace runs (`tokenizer.ggml.remove_extra_whitespaces`). */
  removeExtraWhitespaces?: boolean;
  /** WordPiece: BertNormalizer lowercase and strip-accents (`tokenizer.ggml.normalizer.*`, default true). */
  lowercase?: boolean;
  stripAccents?: boolean;
  /** Ids that eat the whitespace before (lstrip) / after (rstrip) them where they are matched in text. */
  lstripTokenIds?: number[];
  rstripTokenIds?: number[];
}

/** What workers publish about the model they serve (modelCardKey). */
/** Layers whose KV shares one block table per sequence (vLLM's KV cache group); slidingWindow 0 = full attention. */
export interface KvCacheGroup {
  slidingWindow: number;
  layers: number[];
}

export interface ModelCard {
  modelId: string;
  architecture: string;
  contextLength: number;
  vocabSize: number;
  eosTokenIds: number[];
  tokenizer: TokenizerData;
  /** The model's own Jinja chat template, if it has one. */
  chatTemplate?: string;
  /** Its template for conversations with tools, when it ships one beside the default (`tool_use`). */
  toolUseChatTemplate?: string;
  /** Width of the final hidden state: the length of its embeddings before any `dimensions` truncation. */
  hiddenSize?: number;
  /** Which layers share a KV block table, in the order of the worker's tables (absent on older cards). */
  kvCacheGroups?: KvCacheGroup[];
  /**
   * How its workers pool embeddings (--pooling, else the model's `<arch>.pooling_type`, else last); 'rank' (a
   * reranker's classification head) is not served as embeddings. Absent on cards of workers before embeddings.
   */
  pooling?: PoolingType | 'rank';
  createdAt: number;
}
