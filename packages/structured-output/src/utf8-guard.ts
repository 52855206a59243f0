import { bitmaskWords } from './token-bitmask.js';
import { at } from '@loom/common';

/**
 * Keeps constrained output valid UTF-8, which xgrammar 0.1.27 alone does not: its matcher decodes bytes
 * leniently, so after a lead byte it accepts byte tokens that make overlong forms (C0 89), surrogates
 * (ED A0 80) or code points past U+10FFFF (F5..F7 leads). Decoded, those become U+FFFD, and a string
 * that fit `maxLength` byte-wise no longer does (the random-walk tests found it).
 *
 * A sequence's UTF-8 state after its output so far is one of 8 (RFC 3629: how many continuation bytes
 * are still due, and the range the next one must fall in). For each state this holds the tokens whose
 * bytes continue validly from it; the manager ANDs that mask into the grammar's. Tokens without bytes
 * (EOS and other special tokens) are allowed only between characters.
 */
export class Utf8Guard {
  /** [STATES][words]: tokens allowed in each state. */
  private readonly masks: Int32Array[];
  /** [STATES * vocab]: state after each token from each state; -1 = the token is invalid there. */
  private readonly next: Int8Array;
  readonly words: number;

  /** `tokenBytes(id)` for id < numTokens (the tokenizer's); ids up to vocabSize are never allowed. */
  constructor(
    numTokens: number,
    readonly vocabSize: number,
    tokenBytes: (id: number) => Uint8Array,
  ) {
    this.words = bitmaskWords(vocabSize);
    this.masks = STATES.map(() => new Int32Array(this.words));
    this.next = new Int8Array(STATES.length * vocabSize).fill(-1);
    for (let id = 0; id < numTokens; id++) {
      const bytes = tokenBytes(id);
      for (let s = 0; s < STATES.length; s++) {
        const to = bytes.length === 0 ? (s === 0 ? 0 : -1) : feed(s, bytes);
        this.next[s * vocabSize + id] = to;
        if (to >= 0) {
          const m = at(this.masks, s);
          m[id >>> 5] = at(m, id >>> 5) | (1 << (id & 31));
        }
      }
    }
  }

  static readonly START = 0;

  /** Tokens valid in `state` (do not modify). */
  mask(state: number): Int32Array {
    return at(this.masks, state);
  }

  /** The state after `tokenId`; START when the token was not valid there (the guard then restarts). */
  advance(state: number, tokenId: number): number {
    const to = tokenId < this.vocabSize ? at(this.next, state * this.vocabSize + tokenId) : -1;
    return to < 0 ? Utf8Guard.START : to;
  }

  /**
   * `mask` &= the state's mask, unless that would leave nothing allowed (then the grammar's mask stands
   * alone: a grammar that can only continue with invalid UTF-8 is the grammar's problem, not a dead end).
   */
  apply(state: number, mask: Int32Array): void {
    const g = at(this.masks, state);
    let any = 0;
    for (let w = 0; w < this.words; w++) any |= at(mask, w) & at(g, w);
    if (any === 0) return;
    for (let w = 0; w < this.words; w++) mask[w] = at(mask, w) & at(g, w);
  }
}

/** [continuation bytes still due, lowest next byte, highest next byte]; state 0 = between characters. */
const STATES: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [1, 0x80, 0xbf],
  [2, 0xa0, 0xbf], // after E0: no overlong 3-byte forms
  [2, 0x80, 0xbf],
  [2, 0x80, 0x9f], // after ED: no surrogates
  [3, 0x90, 0xbf], // after F0: no overlong 4-byte forms
  [3, 0x80, 0xbf],
  [3, 0x80, 0x8f], // after F4: nothing past U+10FFFF
];

function stateOf(due: number, lo: number, hi: number): number {
  return STATES.findIndex(([d, l, h]) => d === due && l === lo && h === hi);
}

const S1 = stateOf(1, 0x80, 0xbf);
const S2 = stateOf(2, 0x80, 0xbf);

/** The state after `bytes` from state `s`, or -1 where they are not valid UTF-8. */
function feed(s: number, bytes: Uint8Array): number {
  for (const b of bytes) {
    const [due, lo, hi] = at(STATES, s);
    if (due > 0) {
      if (b < lo || b > hi) return -1;
      s = due === 1 ? 0 : due === 2 ? S1 : S2;
      continue;
    }
    if (b < 0x80) s = 0;
    else if (b >= 0xc2 && b <= 0xdf) s = S1;
    else if (b === 0xe0) s = 2;
    else if (b === 0xed) s = 4;
    else if (b >= 0xe1 && b <= 0xef) s = S2;
    else if (b === 0xf0) s = 5;
    else if (b >= 0xf1 && b <= 0xf3) s = 6;
    else if (b === 0xf4) s = 7;
    else return -1;
  }
  return s;
}
