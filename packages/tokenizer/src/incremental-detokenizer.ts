/**
 * Streaming detokenization with vLLM's prefix/read offsets. Invariants:
 *  - Text is emitted only once it is final: a window ending in U+FFFD (an incomplete UTF-8 sequence,
 *    e.g. the first byte token of an emoji) is held back until later tokens complete it, so pushes
 *    never carry broken characters.
 *  - Concatenating every push() (and flush()) equals the decode of prompt + output minus the decode of
 *    the prompt: the first output token keeps its leading space after a non-empty prompt (as llama.cpp's
 *    token_to_piece does), and loses it only when there is no prompt, exactly like decode(output).
 *  - Each step decodes only the few tokens since the last emitted boundary: O(new tokens), not O(output).
 */
import type { Tokenizer } from './tokenizer.js';

/** Tokens of prompt context decoded with the first output, so SPM spacing and merges come out right (vLLM uses 5). */
const PROMPT_CONTEXT = 5;

export class IncrementalDetokenizer {
  private readonly ids: number[];
  /** Start of the decode window: tokens before it are final and emitted. */
  private prefixOffset: number;
  /** End of the text already emitted, as a token index. */
  private readOffset: number;
  private emitted = '';

  constructor(
    private readonly tok: Tokenizer,
    promptIds: readonly number[],
    private readonly opts: { skipSpecial: boolean },
  ) {
    this.ids = [...promptIds.slice(-PROMPT_CONTEXT)];
    this.readOffset = this.ids.length;
    this.prefixOffset = 0;
    this.atSequenceStart = promptIds.length === 0;
  }

  /** True while the window starts at the very first token of the sequence (no prompt). */
  private atSequenceStart: boolean;

  /** All output text emitted so far. */
  get text(): string {
    return this.emitted;
  }

  /** Adds generated ids; returns the text that became final with them (often '' mid-character). */
  push(ids: readonly number[]): string {
    for (const id of ids) this.ids.push(id);
    return this.emit(false);
  }

  /** At the end of generation: emits whatever is held back, even an incomplete character (as U+FFFD). */
  flush(): string {
    return this.emit(true);
  }

  private decode(from: number, to: number): string {
    return this.tok.decode(this.ids.slice(from, to), {
      skipSpecial: this.opts.skipSpecial,
      stripLeadingSpace: this.atSequenceStart && from === 0,
    });
  }

  private emit(force: boolean): string {
    if (this.readOffset >= this.ids.length) return '';
    const prefix = this.decode(this.prefixOffset, this.readOffset);
    const full = this.decode(this.prefixOffset, this.ids.length);
    if (full.length <= prefix.length && !force) return '';
    if (full.endsWith('\uFFFD') && !force) return '';
    const fresh = full.slice(prefix.length);
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    // Drop what can never be decoded again, keeping the window's start token for context.
    if (this.prefixOffset > 0) {
      this.ids.splice(0, this.prefixOffset);
      this.readOffset -= this.prefixOffset;
      this.prefixOffset = 0;
      this.atSequenceStart = false;
    }
    this.emitted += fresh;
    return fresh;
  }
}
