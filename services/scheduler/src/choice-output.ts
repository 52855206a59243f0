import { IncrementalDetokenizer, StopChecker, type Tokenizer } from '@loom/tokenizer';
import type { OutputEvent, TokenLogprob } from '@loom/common';

/** What one step produced for one choice: the event to append, and whether a stop string ended it. */
export interface ChoiceStep {
  event: Extract<OutputEvent, { type: 'token' }>;
  stop?: string;
}

/**
 * Turns one choice's sampled token ids into final text: incremental detokenization (never broken
 * UTF-8) and stop strings (text that could still become a stop string is held back, and the stop
 * string itself is never emitted). Pure: no I/O. Invariant: `emitted` is a prefix of `detok.text`.
 */
export class ChoiceOutput {
  private readonly detok: IncrementalDetokenizer;
  private readonly stops: StopChecker;
  /** Characters of detok.text already sent to the client. */
  private emitted = 0;
  /** Output tokens so far, including those before a resume. */
  numTokens = 0;
  finished = false;

  constructor(
    readonly index: number,
    tokenizer: Tokenizer,
    promptIds: number[],
    stop: string[],
    skipSpecial: boolean,
  ) {
    this.detok = new IncrementalDetokenizer(tokenizer, promptIds, { skipSpecial });
    this.stops = new StopChecker(stop);
  }

  /**
   * Rebuild state after a failover: tokens and text already in the output stream are replayed
   * into the detokenizer without being emitted again.
   */
  replay(tokenIds: number[], emittedChars: number): void {
    if (tokenIds.length) this.detok.push(tokenIds);
    this.numTokens += tokenIds.length;
    this.emitted = emittedChars;
  }

  /**
   * `hideLast`: the last token ended the choice as a stop token id; like vLLM V1 it counts as
   * generated but its text is not part of the output.
   */
  push(tokenIds: number[], logprobs?: TokenLogprob[], hideLast = false): ChoiceStep {
    this.numTokens += tokenIds.length;
    this.detok.push(hideLast ? tokenIds.slice(0, -1) : tokenIds);
    const text = this.detok.text;
    const check = this.stops.check(text, this.emitted);
    const end = check.stop !== undefined ? check.stopIndex! : check.safeEnd;
    const piece = end > this.emitted ? text.slice(this.emitted, end) : '';
    this.emitted = Math.max(this.emitted, end);
    const event: ChoiceStep['event'] = { type: 'token', index: this.index, tokenIds, text: piece };
    if (logprobs) event.logprobs = logprobs;
    return check.stop !== undefined ? { event, stop: check.stop } : { event };
  }

  /**
   * Text held back as a possible stop-string start is released when the choice ends for another
   * reason (EOS, stop token, length). Not called when a stop string ended it.
   */
  flush(): string {
    this.detok.flush();
    const text = this.detok.text;
    const rest = text.slice(this.emitted);
    this.emitted = text.length;
    return rest;
  }
}
