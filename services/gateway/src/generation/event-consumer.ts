import { at } from '@loom/common';
import type { FinishReason, OutputEvent, TokenLogprob } from '@loom/common';
import { ApiError } from '../errors/api-error.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { ApiFinishReason, ChoiceResult } from './response-format.js';

/** What the response writers see: text deltas and finishes, already checked and accounted. */
export type ChoiceUpdate =
  | { kind: 'prompt'; index: number; logprobs: (TokenLogprob | null)[] }
  /** Every token event, even one whose text is held back (''): `tokens` is how many it carries. */
  | { kind: 'delta'; index: number; text: string; tokens: number; logprobs?: TokenLogprob[] }
  | { kind: 'finish'; index: number; finishReason: ApiFinishReason };

/**
 * Turns a request's raw output events into per-choice updates and keeps the tallies both
 * response modes need (text, completion tokens, finish reasons). Measures TTFT and inter-token
 * latency as the client sees them. Throws ApiError when the cluster reports an error or a choice
 * ends in a way OpenAI's API cannot express.
 */
export class EventConsumer {
  readonly choices: {
    text: string;
    tokens: number;
    logprobs: TokenLogprob[];
    promptLogprobs?: (TokenLogprob | null)[];
    finishReason?: ApiFinishReason;
    /** Prompt tokens the prefix cache served this choice (from its finish event). */
    cachedTokens?: number;
  }[];
  /** Seconds from arrival to the first token delivered; undefined until then. */
  timeToFirstToken: number | undefined;
  private readonly lastTokenAt: number[];
  /** The label set of every per-token series, made once per request. */
  private readonly modelLabels: { model_name: string };

  constructor(
    private readonly n: number,
    private readonly arrivedAt: number,
    private readonly model: string,
    private readonly metrics: GatewayMetrics,
  ) {
    this.choices = Array.from({ length: n }, () => ({ text: '', tokens: 0, logprobs: [] as TokenLogprob[] }));
    this.lastTokenAt = new Array<number>(n).fill(0);
    this.modelLabels = { model_name: model };
  }

  /**
   * Per burst of events, its updates (bursts with none are skipped); an error ends it after the
   * updates before it. `onFirst` is called when the first burst arrives (the queue-wait timeout's end).
   */
  async *consume(bursts: AsyncIterable<OutputEvent[]>, onFirst?: () => void): AsyncGenerator<ChoiceUpdate[]> {
    for await (const burst of bursts) {
      onFirst?.();
      onFirst = undefined;
      const updates: ChoiceUpdate[] = [];
      let tokens = 0;
      try {
        for (const ev of burst) {
          const u = this.apply(ev);
          if (u === undefined) continue;
          updates.push(u);
          if (u.kind === 'delta') tokens += u.tokens;
        }
      } catch (err) {
        if (updates.length > 0) yield updates;
        throw err;
      } finally {
        // One counter update per burst, not per event.
        if (tokens > 0) this.metrics.generationTokens.inc(this.modelLabels, tokens);
      }
      if (updates.length > 0) yield updates;
    }
  }

  private apply(ev: OutputEvent): ChoiceUpdate | undefined {
    if (ev.type === 'error') throw errorFromEvent(ev);
    const choice = this.choices[ev.index];
    if (!choice) return undefined; // an index this request never asked for: ignore rather than crash
    if (ev.type === 'prompt_logprobs') {
      // Written once per choice; a repeat (should one ever be read) must not render the prompt twice.
      if (choice.promptLogprobs) return undefined;
      choice.promptLogprobs = ev.logprobs;
      return { kind: 'prompt', index: ev.index, logprobs: ev.logprobs };
    }
    if (ev.type === 'token') {
      this.observeTokens(ev.index, ev.tokenIds.length);
      choice.tokens += ev.tokenIds.length;
      if (ev.logprobs) choice.logprobs.push(...ev.logprobs);
      choice.text += ev.text;
      // Text may be held back ('') while tokens and logprobs are not: formats decide what to send.
      return {
        kind: 'delta',
        index: ev.index,
        text: ev.text,
        tokens: ev.tokenIds.length,
        ...(ev.logprobs ? { logprobs: ev.logprobs } : {}),
      };
    }
    const finishReason = apiFinishReason(ev.finishReason);
    choice.finishReason = finishReason;
    if (ev.cachedTokens !== undefined) choice.cachedTokens = ev.cachedTokens;
    // The scheduler's count is authoritative (it includes tokens held back, e.g. a stop string).
    choice.tokens = Math.max(choice.tokens, ev.completionTokens);
    this.metrics.requestsFinished.inc({ model_name: this.model, finish_reason: finishReason });
    this.metrics.requestSuccess.inc({ model_name: this.model, finished_reason: finishReason });
    return { kind: 'finish', index: ev.index, finishReason };
  }

  get complete(): boolean {
    return this.choices.every((c) => c.finishReason !== undefined);
  }

  get completionTokens(): number {
    return this.choices.reduce((s, c) => s + c.tokens, 0);
  }

  /**
   * Prompt tokens served from the prefix cache, each prompt counted once as in prompt_tokens: the hit of its
   * first choice (`n` per prompt; later choices reuse the blocks the first computed, a hit that saved no
   * work on the client's prompt). Undefined until every prompt's first choice has finished.
   */
  cachedTokens(n: number): number | undefined {
    let sum = 0;
    for (let i = 0; i < this.choices.length; i += n) {
      const c = at(this.choices, i);
      if (c.finishReason === undefined) return undefined;
      sum += c.cachedTokens ?? 0;
    }
    return sum;
  }

  results(): ChoiceResult[] {
    return this.choices.map((c, index) => ({
      index,
      text: c.text,
      finishReason: c.finishReason ?? 'stop',
      logprobs: c.logprobs,
      ...(c.promptLogprobs ? { promptLogprobs: c.promptLogprobs } : {}),
    }));
  }

  private observeTokens(index: number, count: number): void {
    const now = performance.now();
    if (this.timeToFirstToken === undefined) {
      this.timeToFirstToken = (now - this.arrivedAt) / 1000;
      this.metrics.ttft.observe(this.modelLabels, this.timeToFirstToken);
    }
    const last = at(this.lastTokenAt, index);
    // An event may carry several tokens (a held-back stop string): spread the gap over them.
    if (last > 0 && count > 0)
      for (let i = 0; i < count; i++) this.metrics.itl.observe(this.modelLabels, (now - last) / 1000 / count);
    this.lastTokenAt[index] = now;
  }
}

/** A finish the API can express ('stop', 'length'); an abort is a 503 and a failure a 500 (thrown). */
export function apiFinishReason(r: FinishReason): ApiFinishReason {
  if (r === 'stop' || r === 'length') return r;
  if (r === 'abort')
    throw new ApiError(
      503,
      'The request was aborted by the server; retry it.',
      'service_unavailable_error',
      null,
      'request_aborted',
    );
  throw new ApiError(500, 'Generation failed on the server.', 'server_error', null, 'generation_failed');
}

/** The cluster's error event as the client's ApiError. */
export function errorFromEvent(ev: Extract<OutputEvent, { type: 'error' }>): ApiError {
  const status = ev.status >= 400 && ev.status < 600 ? ev.status : 500;
  const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return new ApiError(status, ev.message, type, null, ev.code);
}
