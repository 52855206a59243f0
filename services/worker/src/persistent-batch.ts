import { at } from '@loom/common';
import type {
  CachedRequest,
  NewRequest,
  PooledOutput,
  PromptLogprobs,
  ProtoSamplingParams,
  SampledToken,
  StepRequest,
} from '@loom/proto';
import { EmbeddingPooling } from './embedding-pooling.js';
import type { EngineSeq, EngineStepResult } from './engine/engine-api.js';
import { StepRejected } from './step-rejected.js';

export { StepRejected } from './step-rejected.js';

/** What the worker remembers about one request between steps (vLLM's CachedRequestState). */
interface RequestState {
  /** Every known token: prompt, then generated ones (the worker appends what it samples). */
  tokenIds: number[];
  blockIds: number[];
  numComputedTokens: number;
  sampling: ProtoSamplingParams;
  /** Tokens generated so far, counting those generated before a preemption (the RNG counter). */
  numOutputTokens: number;
  /** Length of the original prompt (tokenIds minus the generated tail at admission): positions prompt logprobs cover. */
  promptLength: number;
  /** Prompt ids for the repetition penalty (tokenIds minus the generated tail); set only when it applies. */
  promptTokens?: Int32Array;
  /** Logit bias as the engine takes it; set only when the request has one. */
  logitBiasIds?: Int32Array;
  logitBiasValues?: Float32Array;
  /** Set for an embedding request: it samples nothing and is pooled once its last token is computed. */
  pooling?: EmbeddingPooling;
}

const EMPTY32 = new Float32Array(0);

/** A step the engine can run: one EngineSeq per scheduled request, in the order of `requestIds`. */
export interface PreparedStep {
  requestIds: string[];
  seqs: EngineSeq[];
}

/**
 * The step's allowed-token masks by request, each copied into its own Int32Array: the decoded bytes
 * share the message's buffer at any offset, and a view needs 4-byte alignment.
 */
function bitmasksById(step: StepRequest): Map<string, Int32Array> {
  const out = new Map<string, Int32Array>();
  for (const b of step.tokenBitmasks ?? []) {
    if (b.words.byteLength % 4 !== 0)
      throw new StepRejected(
        `request ${b.requestId}: a token bitmask of ${b.words.byteLength} bytes is not whole words`,
      );
    const words = new Int32Array(b.words.byteLength / 4);
    new Uint8Array(words.buffer).set(b.words);
    out.set(b.requestId, words);
  }
  return out;
}

/**
 * The worker's persistent batch: applies a StepRequest's diffs to per-request state, hands the
 * engine the tokens to compute, and appends sampled tokens. Invariant after `prepare`: for every
 * scheduled request, numComputedTokens + numScheduledTokens ≤ tokenIds.length, and its block table
 * covers every position up to there.
 */
export class PersistentBatch {
  private readonly states = new Map<string, RequestState>();

  /**
   * Token ids and block ids are range-checked by the engine itself; this class checks its own state.
   * `eosTokenIds` (from the model) are masked, with the request's stop ids, until its min_tokens.
   */
  constructor(
    private readonly blockSize: number,
    private readonly eosTokenIds: readonly number[] = [],
    /** The engine's KV cache groups: a request's blockIds interleave this many tables. */
    private readonly numKvGroups = 1,
  ) {}

  get size(): number {
    return this.states.size;
  }

  clear(): void {
    this.states.clear();
  }

  prepare(step: StepRequest): PreparedStep {
    for (const id of step.finishedIds) this.states.delete(id);
    for (const id of step.preemptedIds) this.states.delete(id);
    const requestIds: string[] = [];
    const seqs: EngineSeq[] = [];
    const bitmasks = bitmasksById(step);
    for (const r of step.newRequests) {
      this.checkNew(r);
      const state: RequestState = {
        tokenIds: [...r.tokenIds],
        blockIds: [...r.blockIds],
        numComputedTokens: r.numComputedTokens,
        sampling: r.sampling,
        numOutputTokens: r.numOutputTokens,
        promptLength: r.tokenIds.length - r.numOutputTokens,
      };
      const pooling = EmbeddingPooling.of(r);
      if (pooling) state.pooling = pooling;
      const sp = r.sampling;
      if (sp.repetitionPenalty !== 1 && sp.repetitionPenalty !== 0) {
        state.promptTokens = Int32Array.from(r.tokenIds.slice(0, r.tokenIds.length - r.numOutputTokens));
      }
      const bias = Object.entries(sp.logitBias ?? {});
      if (bias.length > 0) {
        state.logitBiasIds = Int32Array.from(bias, ([id]) => Number(id));
        state.logitBiasValues = Float32Array.from(bias, ([, v]) => v);
      }
      this.states.set(r.requestId, state);
      requestIds.push(r.requestId);
      seqs.push(this.seqOf(r.requestId, state, r.numScheduledTokens, bitmasks));
    }
    for (const c of step.cachedRequests) {
      const state = this.cachedState(c);
      state.blockIds.push(...c.newBlockIds);
      state.numComputedTokens = c.numComputedTokens;
      requestIds.push(c.requestId);
      seqs.push(this.seqOf(c.requestId, state, c.numScheduledTokens, bitmasks));
    }
    if (bitmasks.size > 0)
      throw new StepRejected(`token bitmasks for requests not in this step: ${[...bitmasks.keys()].join(', ')}`);
    return { requestIds, seqs };
  }

  /** Advance computed counts and append sampled tokens; returns them in proto form. */
  complete(prepared: PreparedStep, result: EngineStepResult): SampledToken[] {
    const sampled: SampledToken[] = [];
    prepared.requestIds.forEach((id, i) => {
      const state = this.states.get(id)!;
      const seq = at(prepared.seqs, i);
      state.numComputedTokens = seq.startPos + seq.tokens.length;
      if (!seq.sample) return;
      const tokenId = at(result.tokens, i);
      state.tokenIds.push(tokenId);
      state.numOutputTokens += 1;
      const top: { tokenId: number; logprob: number }[] = [];
      const nTop = seq.logprobs ?? 0;
      if (result.topIds && result.topLogprobs && nTop > 0) {
        for (let j = 0; j < Math.min(nTop, result.topN); j++) {
          const t = at(result.topIds, i * result.topN + j);
          if (t >= 0) top.push({ tokenId: t, logprob: at(result.topLogprobs, i * result.topN + j) });
        }
      }
      sampled.push({ requestId: id, tokenId, logprob: at(result.logprobs, i), top });
    });
    return sampled;
  }

  /**
   * Takes the step's pooled rows (one per sequence with `pool`, in order) into each embedding request's state;
   * returns the vectors of those whose last token this step computed. Call after complete().
   */
  pooled(prepared: PreparedStep, result: EngineStepResult): PooledOutput[] {
    const out: PooledOutput[] = [];
    const rows = result.pooled ?? EMPTY32;
    const numPooling = prepared.seqs.reduce((n, s) => n + (s.pool ? 1 : 0), 0);
    const dim = numPooling > 0 ? rows.length / numPooling : 0;
    if (numPooling > 0 && (rows.length === 0 || rows.length % numPooling !== 0))
      throw new Error(`the engine returned ${rows.length} pooled values for ${numPooling} pooling sequences`);
    let k = 0;
    prepared.requestIds.forEach((id, i) => {
      const seq = at(prepared.seqs, i);
      const state = this.states.get(id)!;
      const p = state.pooling;
      if (!p) return;
      if (seq.pool) p.add(seq.pool, rows.subarray(k * dim, ++k * dim), seq.tokens.length);
      if (seq.startPos + seq.tokens.length === state.tokenIds.length)
        out.push({ requestId: id, embedding: p.finish() });
    });
    return out;
  }

  /**
   * Prompt logprobs of the step, per request that asked: engine row j (position startPos + j) scores the
   * token at position startPos + j + 1, reported while that position is inside the original prompt.
   */
  promptLogprobs(prepared: PreparedStep, result: EngineStepResult): PromptLogprobs[] {
    const p = result.prompt;
    if (!p) return [];
    const out: PromptLogprobs[] = [];
    prepared.requestIds.forEach((id, i) => {
      const seq = at(prepared.seqs, i);
      const state = this.states.get(id);
      if (!state || seq.promptLogprobs === undefined) return;
      const nTop = Math.min(seq.promptLogprobs, p.topN);
      const tokens: PromptLogprobs['tokens'] = [];
      for (let k = at(p.offsets, i), end = at(p.offsets, i + 1), j = 0; k < end; k++, j++) {
        const pos = seq.startPos + j + 1;
        if (pos >= state.promptLength) break;
        const top = [];
        for (let t = 0; t < nTop; t++) {
          const tokenId = at(p.topIds, k * p.topN + t);
          if (tokenId >= 0) top.push({ tokenId, logprob: at(p.topLogprobs, k * p.topN + t) });
        }
        tokens.push({ tokenId: at(state.tokenIds, pos), logprob: at(p.logprobs, k), top });
      }
      if (tokens.length > 0) out.push({ requestId: id, startPosition: seq.startPos + 1, tokens });
    });
    return out;
  }

  /** `bitmasks`: the step's allowed-token masks; this request's is taken out of it. */
  private seqOf(
    requestId: string,
    s: RequestState,
    numScheduled: number,
    bitmasks: Map<string, Int32Array>,
  ): EngineSeq {
    const end = s.numComputedTokens + numScheduled;
    if (numScheduled < 1 || end > s.tokenIds.length) {
      throw new StepRejected(
        `request ${requestId}: scheduled tokens [${s.numComputedTokens}, ${end}) exceed its ${s.tokenIds.length} known tokens`,
      );
    }
    const perGroup = Math.floor(s.blockIds.length / this.numKvGroups);
    if (perGroup * this.blockSize < end) {
      const groups = this.numKvGroups > 1 ? ` per group (${this.numKvGroups} KV cache groups)` : '';
      throw new StepRejected(`request ${requestId}: ${perGroup} blocks${groups} cannot hold ${end} tokens`);
    }
    const sp = s.sampling;
    const seq: EngineSeq = {
      tokens: Int32Array.from(s.tokenIds.slice(s.numComputedTokens, end)),
      startPos: s.numComputedTokens,
      blockTable: Int32Array.from(s.blockIds),
      sample: end === s.tokenIds.length && !s.pooling,
      temperature: sp.temperature,
      topP: sp.topP,
      topK: sp.topK,
      minP: sp.minP,
      seed: sp.seed,
      rngCounter: s.numOutputTokens,
    };
    if (sp.logprobs) seq.logprobs = sp.logprobs;
    if (seq.sample) this.addLogitProcessing(seq, s);
    const pool = s.pooling?.rowsOf(s.numComputedTokens, end === s.tokenIds.length);
    if (pool) seq.pool = pool;
    const allowed = bitmasks.get(requestId);
    if (allowed) {
      if (!seq.sample) throw new StepRejected(`request ${requestId}: a token bitmask for a step that does not sample`);
      seq.allowedTokens = allowed;
      bitmasks.delete(requestId);
    }
    // Rows that score prompt positions 1 .. promptLength - 1 exist only while the chunk starts inside the prompt.
    if (sp.promptLogprobs !== undefined && s.numComputedTokens + 1 < s.promptLength) {
      seq.promptLogprobs = sp.promptLogprobs;
      if (end < s.promptLength) seq.nextPromptToken = at(s.tokenIds, end);
    }
    return seq;
  }

  /** Penalties, logit bias and min_tokens masking of a sampling sequence (only the fields that apply). */
  private addLogitProcessing(seq: EngineSeq, s: RequestState): void {
    const sp = s.sampling;
    // A proto3 field left unset decodes as 0; repetition 0 is not a valid penalty, so it means "off".
    const repetition = sp.repetitionPenalty || 1;
    if (sp.presencePenalty || sp.frequencyPenalty || repetition !== 1) {
      seq.presencePenalty = sp.presencePenalty;
      seq.frequencyPenalty = sp.frequencyPenalty;
      seq.repetitionPenalty = repetition;
      seq.outputTokens = Int32Array.from(s.tokenIds.slice(s.tokenIds.length - s.numOutputTokens));
      if (s.promptTokens) seq.promptTokens = s.promptTokens;
    }
    if (s.logitBiasIds) {
      seq.logitBiasIds = s.logitBiasIds;
      seq.logitBiasValues = s.logitBiasValues;
    }
    if (s.numOutputTokens < (sp.minTokens ?? 0)) {
      const ids = [...(sp.ignoreEos ? [] : this.eosTokenIds), ...(sp.stopTokenIds ?? [])];
      if (ids.length > 0) seq.maskTokens = Int32Array.from(ids);
    }
  }

  private checkNew(r: NewRequest): void {
    if (this.states.has(r.requestId))
      throw new StepRejected(`request ${r.requestId} is already running on this worker`);
  }

  private cachedState(c: CachedRequest): RequestState {
    const state = this.states.get(c.requestId);
    if (!state) throw new StepRejected(`request ${c.requestId} is unknown to this worker (send it as a new request)`);
    return state;
  }
}
