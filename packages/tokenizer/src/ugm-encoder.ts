/**
 * Unigram (T5 / XLM-R SentencePiece, llama.cpp's `t5` model), a port of llm_tokenizer_ugm_session:
 * normalize (user-defined tokens verbatim, else the precompiled charsmap's longest replacement, else the
 * character itself; spaces → "▁", optional prefix space, optional merging of space runs), then Viterbi
 * over the normalized UTF-8 bytes: the best-scoring segmentation into normal / user-defined (score 0) /
 * unused tokens, an uncovered code point costing the unknown token at (lowest score - 10); consecutive
 * unknowns come out as one.
 * Works on "byte strings" (one char per UTF-8 byte) so positions are llama.cpp's byte offsets. The
 * vocabulary "trie" is a sorted array of token byte strings: a prefix extends while some token starts
 * with it (binary search), which is all llama.cpp's naive_trie walk needs.
 */
import { at } from '@loom/common';
import { TokenType } from './token-type.js';
import { CharsMap } from './ugm-charsmap.js';

export interface UgmOptions {
  addSpacePrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

const utf8 = new TextEncoder();
const latin1 = new TextDecoder('latin1');
/** The byte string of a text: one char (0..255) per UTF-8 byte. */
export const toBytes = (s: string) => latin1.decode(utf8.encode(s));

/** unicode_len_utf8: sequence length from the lead byte (a stray continuation byte counts 1). */
const UTF8_LEN = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4];
const utf8Len = (lead: number) => at(UTF8_LEN, (lead >> 4) & 15);

/** Sorted byte strings with prefix walks. */
class SortedTrie {
  private readonly keys: string[];
  constructor(keys: Iterable<string>) {
    this.keys = [...new Set(keys)].sort();
  }
  private lowerBound(s: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at(this.keys, mid) < s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  /** Calls `hit(end)` for every key that is text[from, end), shortest first. */
  walk(text: string, from: number, hit: (end: number) => void): void {
    for (let end = from + 1; end <= text.length; end++) {
      const p = text.slice(from, end);
      const i = this.lowerBound(p);
      const exact = this.keys[i] === p;
      if (exact) hit(end);
      const next = this.keys[exact ? i + 1 : i];
      if (next === undefined || !next.startsWith(p)) return;
    }
  }
  /** Length of the longest prefix of text[from..] that some key starts with (naive_trie::get_longest_prefix). */
  longestPath(text: string, from: number): number {
    let n = 0;
    for (let end = from + 1; end <= text.length; end++) {
      const p = text.slice(from, end);
      const k = this.keys[this.lowerBound(p)];
      if (k === undefined || !k.startsWith(p)) break;
      n = end - from;
    }
    return n;
  }
}

export class UgmEncoder {
  private readonly ids = new Map<string, number>();
  private readonly scores: readonly number[];
  private readonly userDefined = new Set<number>();
  private readonly vocab: SortedTrie;
  private readonly userTokens: SortedTrie;
  private readonly charsmap: CharsMap | undefined;
  private readonly unknownScore: number;

  constructor(
    tokens: readonly string[],
    types: Uint8Array,
    scores: readonly number[] | undefined,
    private readonly unknownId: number,
    charsmap: Uint8Array | undefined,
    private readonly opts: UgmOptions,
  ) {
    this.scores = scores ?? new Array<number>(tokens.length).fill(0);
    let min = Infinity;
    const user: string[] = [];
    tokens.forEach((t, id) => {
      const type = types[id];
      if (type === TokenType.NORMAL) min = Math.min(min, at(this.scores, id));
      if (type === TokenType.NORMAL || type === TokenType.USER_DEFINED || type === TokenType.UNUSED)
        this.ids.set(toBytes(t), id); // a repeated text: the last id wins, as llama.cpp's trie
      if (type === TokenType.USER_DEFINED) {
        user.push(toBytes(t));
        this.userDefined.add(id);
      }
    });
    this.vocab = new SortedTrie(this.ids.keys());
    this.userTokens = new SortedTrie(user);
    this.charsmap = charsmap && charsmap.length > 0 ? new CharsMap(charsmap) : undefined;
    // llama.cpp keeps min_score and the unknown score as floats (the penalty is subtracted in float); token
    // scores widen exactly to doubles and the path sums are doubles.
    this.unknownScore = Math.fround((min === Infinity ? 3.4028234663852886e38 : min) - 10);
  }

  /** Appends the ids of `text` (one fragment between special tokens) to `out`. */
  encode(text: string, out: number[]): void {
    const s = this.normalize(toBytes(text));
    if (s.length === 0) return;
    const best = Array.from({ length: s.length + 1 }, () => ({
      id: this.unknownId,
      from: 0,
      score: -Number.MAX_VALUE,
    }));
    at(best, 0).score = 0;
    for (let pos = 0; pos < s.length;) {
      const from = pos;
      const n = Math.min(utf8Len(s.charCodeAt(from)), s.length - from);
      const base = at(best, from).score;
      let single = false;
      this.vocab.walk(s, from, (end) => {
        if (end - from === n) single = true;
        const id = this.ids.get(s.slice(from, end))!;
        const score = base + (this.userDefined.has(id) ? 0 : at(this.scores, id));
        if (score > at(best, end).score) best[end] = { id, from, score };
      });
      if (!single) {
        const score = base + this.unknownScore;
        if (score > at(best, from + n).score) best[from + n] = { id: this.unknownId, from, score };
      }
      pos += n;
    }
    const ids: number[] = [];
    let prevUnknown = false;
    for (let t = at(best, s.length); ; t = at(best, t.from)) {
      const unknown = t.id === this.unknownId;
      if (!(prevUnknown && unknown)) ids.push(t.id);
      if (t.from === 0) break;
      prevUnknown = unknown;
    }
    for (const id of ids.reverse()) out.push(id);
  }

  private normalize(input: string): string {
    const space = this.opts.escapeWhitespaces ? '\xe2\x96\x81' : ' ';
    const merge = this.opts.removeExtraWhitespaces;
    let out = '';
    let prepended = false;
    let inWord = false;
    for (let at = 0; at < input.length;) {
      const [piece, consumed] = this.normalizePrefix(input, at);
      for (const c of piece) {
        if (c !== ' ') {
          if (!inWord) {
            inWord = true;
            if ((this.opts.addSpacePrefix && !prepended) || merge) {
              out += space;
              prepended = true;
            }
          }
          out += c;
        } else {
          inWord = false;
          if (!merge) out += space;
        }
      }
      at += consumed;
    }
    return out;
  }

  /** [replacement, bytes consumed] for the input at `at` (normalize_prefix). */
  private normalizePrefix(input: string, at: number): [string, number] {
    const user = this.userTokens.longestPath(input, at);
    if (user > 0) return [input.slice(at, at + user), user];
    const m = this.charsmap?.longestMatch(input, at);
    if (m) return m;
    const n = utf8Len(input.charCodeAt(at));
    return [input.slice(at, at + n), n]; // input came from a JS string: always valid UTF-8
  }
}
