import type { TokenLogprob } from '@loom/common';
import type { PromptLogprobs } from '@loom/proto';

/**
 * Gathers one sequence's prompt logprobs as steps report them. Chunked prefill reports the prompt
 * in pieces, and a preempted (or failed-over) sequence has its prompt scored again, so pieces may
 * overlap: the first value per position wins, which keeps what the client sees stable. Pure: no I/O.
 */
export class PromptLogprobsCollector {
  /** Index = prompt position; position 0 stays null (nothing precedes it, so it is never scored). */
  private readonly values: (TokenLogprob | null)[];
  /** Positions 1..P-1 filled so far. */
  private filled = 0;
  private taken = false;

  constructor(promptLength: number) {
    this.values = new Array<TokenLogprob | null>(promptLength).fill(null);
  }

  /** Every scored position is in (a one-token prompt has none to wait for). */
  get complete(): boolean {
    return this.filled === this.values.length - 1;
  }

  add(piece: Pick<PromptLogprobs, 'startPosition' | 'tokens'>): void {
    if (this.taken) return;
    piece.tokens.forEach((t, j) => {
      const pos = piece.startPosition + j;
      // Position 0 and anything past the prompt are not ours to keep (a worker bug must not grow the array).
      if (pos < 1 || pos >= this.values.length || this.values[pos] !== null) return;
      this.values[pos] = {
        tokenId: t.tokenId,
        logprob: t.logprob,
        top: t.top.map((x) => ({ tokenId: x.tokenId, logprob: x.logprob })),
      };
      this.filled += 1;
    });
  }

  /**
   * The whole prompt's logprobs, once complete and only once (the event is written once per choice).
   * `force` gives them incomplete (null where missing): when the choice's first token is out, positions
   * still missing will never come (a worker that does not score prompts), and tokens must not wait.
   */
  take(force = false): (TokenLogprob | null)[] | undefined {
    if (this.taken || (!this.complete && !force)) return undefined;
    this.taken = true;
    return this.values;
  }
}
