/**
 * The TypeScript face of the native engine (services/worker/engine, C++ behind N-API).
 *
 * The engine is stateless about requests: it owns the weights and the paged KV pool, and each
 * `step()` says, per sequence, which tokens to compute at which positions and which KV blocks
 * hold that sequence. The worker's persistent batch (worker-side request state) builds these.
 */

export interface EngineModelInfo {
  /** GGUF `general.architecture`, e.g. "llama". */
  architecture: string;
  vocabSize: number;
  contextLength: number;
  /** Model width (embedding length). */
  dim: number;
  /** FFN hidden width. */
  hiddenDim: number;
  /** Mixture of experts: experts per layer, experts each token runs, and each expert's width (0 when dense). */
  expertCount?: number;
  expertsUsed?: number;
  expertHiddenDim?: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  ropeTheta: number;
  normEps: number;
  /** Type of the bulk of the weights: "f32", "f16", ... */
  weightType: string;
  /** SIMD kernel set picked at run time: "avx512bf16", "avx512vnni", "avx512", "avx2" or "scalar". */
  kernels: string;
  threads: number;
  /** Element type of the paged KV pool: "f16" (default) or "f32". Optional: added by the native engine. */
  kvType?: string;
  /**
   * The KV cache groups, in block-table order (services/worker/engine/src/kv-layout.h): the layers of one
   * attention kind (window 0 = full attention, else a sliding window of that many tokens) cut into groups of
   * kvLayersPerBlock layers, each with its own block table per sequence. Optional: added by the native engine.
   */
  kvCacheGroups?: { window: number; layers: number[] }[];
  /** Layer slots of one KV block (every layer when there is one group). */
  kvLayersPerBlock?: number;
}

/** One sequence's share of a step. */
export interface EngineSeq {
  /** [n] token ids to compute this step (n ≥ 1). */
  tokens: Int32Array;
  /** Position of tokens[0] in the sequence (= tokens already in the KV cache). */
  startPos: number;
  /**
   * [ceil((startPos + n) / blockSize) * G] block ids, the G = kvCacheGroups.length tables interleaved: entry
   * i * G + g is group g's block of positions [i*blockSize, (i+1)*blockSize). A sliding-window group's entries
   * before the window of tokens[0] are never read (-1 there: no block).
   */
  blockTable: Int32Array;
  /** Whether to sample a next token after tokens[n-1] (false for a non-final prefill chunk). */
  sample: boolean;
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  /** Seed of the counter-based RNG: the draw for output token k uses (seed, k) only, so a seed gives the same tokens whatever else is in the batch. uint32. */
  seed: number;
  /** k: number of tokens this sequence generated before this step. */
  rngCounter: number;
  /** Top-N alternatives returned with the sampled token's logprob (which is always returned); absent = 0. */
  logprobs?: number;
  /**
   * Structured outputs: [ceil(vocabSize / 32)] allowed-token bitmask (bit j of word i allows token 32i + j;
   * ids past the mask are not allowed). Applied to the logits before anything else, like vLLM's grammar
   * bitmask: what is sampled (greedy too), the processing below and the returned logprobs (and top
   * alternatives) all see the masked logits. Ignored when it allows nothing. Only for a sampling sequence.
   */
  allowedTokens?: Int32Array;
  /*
   * Logit processing, all optional and applied under greedy too, in vLLM's order: logit bias and masking,
   * then the repetition penalty (prompt + output tokens), then frequency / presence (output tokens).
   * Returned logprobs stay those of the raw logits (after allowedTokens, as vLLM's raw_logprobs).
   */
  /** [-2, 2]; subtracted once from every token that occurs in outputTokens. Default 0. */
  presencePenalty?: number;
  /** [-2, 2]; subtracted per occurrence in outputTokens. Default 0. */
  frequencyPenalty?: number;
  /** > 0; tokens in promptTokens or outputTokens: logit / p when positive, logit * p otherwise. Default 1. */
  repetitionPenalty?: number;
  /** The request's prompt ids (needed only for repetitionPenalty). */
  promptTokens?: Int32Array;
  /** Ids generated so far (needed for any penalty). */
  outputTokens?: Int32Array;
  /** logit[logitBiasIds[i]] += logitBiasValues[i]. */
  logitBiasIds?: Int32Array;
  logitBiasValues?: Float32Array;
  /** Ids that cannot be sampled this step (EOS and stop ids until min_tokens is reached). */
  maskTokens?: Int32Array;
  /**
   * Prompt logprobs (OpenAI `echo` + `logprobs`): top-N alternatives per fed token; absent = none, 0 = only
   * the prompt token's own logprob. Row j of this sequence scores the token after tokens[j]: tokens[j + 1], or
   * `nextPromptToken` after the last row. Computed in the same forward pass (logits of every fed row).
   */
  promptLogprobs?: number;
  /** The prompt token that follows this chunk (the next prefill chunk's first); absent when the chunk ends the prompt. */
  nextPromptToken?: number;
  /**
   * Embeddings: which of this chunk's final-normed hidden rows (rmsnorm * output_norm, llama.cpp's embedding
   * output) the step returns in `pooled`: the last row, the first, or the sum of all (a mean over chunks is the
   * caller's). Only for a sequence that does not sample: no LM head is applied to it.
   */
  pool?: 'last' | 'first' | 'sum';
}

/** Prompt logprobs of a step: rows [offsets[i], offsets[i + 1]) belong to seqs[i] (none unless it asked). */
export interface EnginePromptLogprobs {
  /** [nSeqs + 1] */
  offsets: Int32Array;
  /** [rows] log-softmax(raw logits of row j)[token after row j]; NaN where that token is unknown (last row of the prompt). */
  logprobs: Float32Array;
  /** Row width of topIds / topLogprobs: the largest promptLogprobs asked. */
  topN: number;
  /** [rows * topN] most likely next tokens per row, -1 padded. */
  topIds: Int32Array;
  /** [rows * topN] their logprobs, NaN padded. */
  topLogprobs: Float32Array;
}

export interface EngineStepResult {
  /** [nSeqs] sampled token id per sequence; -1 where `sample` was false. */
  tokens: Int32Array;
  /** [nSeqs] log-probability of the sampled token under the unmodified distribution (log-softmax of raw logits, allowedTokens applied). */
  logprobs: Float32Array;
  /** [nSeqs * maxTop] top token ids per sequence (row-major, padded with -1) when any seq asked for logprobs ≥ 1. */
  topIds?: Int32Array;
  /** [nSeqs * maxTop] their logprobs. */
  topLogprobs?: Float32Array;
  /** maxTop: row width of topIds / topLogprobs. */
  topN: number;
  /** Present when some sequence asked for promptLogprobs. */
  prompt?: EnginePromptLogprobs;
  /** [nPooling][dim] one row per sequence with `pool`, in seqs order; present when some sequence pools. */
  pooled?: Float32Array;
  /** Wall seconds of forward + sampling. */
  seconds: number;
}

export interface NativeEngine {
  info(): EngineModelInfo;
  /** Bytes one KV block of `blockSize` tokens takes across all layers (K and V). */
  kvBytesPerBlock(blockSize: number): number;
  /** Allocate the KV pool and step buffers; must be called once before step(). */
  initKv(numBlocks: number, blockSize: number, maxBatchTokens: number, maxSeqs: number): void;
  /**
   * Run one batched forward pass over every token of every sequence, then sample. Runs off the event loop, except a
   * step of at most 16 tokens after one such that took under 10 ms: that one runs on the calling thread (a B=1 decode
   * step saves the hand-off to a libuv thread and back) and its promise is settled when step() returns.
   */
  step(seqs: EngineSeq[]): Promise<EngineStepResult>;
  /** Unmap the weights and free the pool; the engine is unusable afterwards. */
  close(): void;
}
