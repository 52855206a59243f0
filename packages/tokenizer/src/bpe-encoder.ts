/**
 * BPE encoder, a port of llama.cpp's llm_tokenizer_bpe_session: pre-tokenize into words (the regex
 * list of the vocabulary's pre-tokenizer, applied as unicode_regex_split does), map each word's UTF-8
 * bytes to GPT-2's byte alphabet (unless the pre-tokenizer keeps raw text, as Gemma-4's does), then
 * repeatedly merge the adjacent pair with the lowest merge rank (ties: leftmost first).
 * Symbols start as single code points; indices are UTF-16 offsets into the word.
 */
import { at, BinaryHeap } from '@loom/common';
import { byteEncode } from './byte-unicode.js';
import { bpePreTokenizer, type BpePreTokenizerSpec } from './bpe-pre-tokenizer.js';
import { RegexSplitter } from './unicode-regex-split.js';
import { codepoints } from './unicode-flags.js';

interface Bigram {
  left: number;
  right: number;
  text: string;
  rank: number;
}

const byRankThenLeft = (a: Bigram, b: Bigram) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left);
/** Bounds the per-word memo so a long-lived tokenizer's memory stays bounded. */
const WORD_CACHE_LIMIT = 50_000;
const utf8 = new TextEncoder();
const hex = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');

export class BpeEncoder {
  private readonly ranks = new Map<string, number>();
  private readonly spec: BpePreTokenizerSpec;
  private readonly splitter: RegexSplitter;
  private readonly cache = new Map<string, number[]>();

  constructor(
    private readonly tokenToId: ReadonlyMap<string, number>,
    merges: readonly string[],
    pre: string | undefined,
  ) {
    // A merge is "left right"; keyed as written since left/right never contain a plain space.
    merges.forEach((m, rank) => {
      if (!this.ranks.has(m)) this.ranks.set(m, rank);
    });
    this.spec = bpePreTokenizer(pre);
    this.splitter = new RegexSplitter(this.spec.regexes);
  }

  /** Appends the ids of `text` (one fragment between special tokens) to `out`. */
  encode(text: string, out: number[]): void {
    if (this.spec.escapeWhitespace) text = text.replaceAll(' ', '\u2581');
    const cpts = codepoints(text); // text is well-formed UTF-16 (Tokenizer.encode), so code points map 1:1
    let cp = 0;
    let u16 = 0;
    for (const len of this.splitter.split(cpts)) {
      const from = u16;
      for (const end = cp + len; cp < end; cp++) u16 += at(cpts, cp) > 0xffff ? 2 : 1;
      const word = text.slice(from, u16);
      let ids = this.cache.get(word);
      if (!ids) {
        ids = this.encodeWord(this.spec.byteEncode === false ? word : byteEncode(word));
        if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
        this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  private encodeWord(word: string): number[] {
    if (this.spec.ignoreMerges || (this.spec.newlineWords && /^\n+$/.test(word))) {
      const whole = this.tokenToId.get(word);
      if (whole !== undefined) return [whole];
    }
    const start: number[] = [];
    for (let i = 0; i < word.length; i += word.codePointAt(i)! > 0xffff ? 2 : 1) start.push(i);
    const n = start.length;
    const len = start.map((s, i) => (start[i + 1] ?? word.length) - s);
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
    const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const queue = new BinaryHeap<Bigram>(byRankThenLeft);
    const sym = (i: number) => word.substr(at(start, i), at(len, i));
    const addBigram = (left: number, right: number) => {
      if (left === -1 || right === -1) return;
      const l = sym(left);
      const r = sym(right);
      const rank = this.ranks.get(`${l} ${r}`);
      if (rank !== undefined) queue.push({ left, right, text: l + r, rank });
    };

    for (let i = 1; i < n; i++) addBigram(i - 1, i);
    for (let b = queue.pop(); b; b = queue.pop()) {
      const { left, right } = b;
      // Stale when a side was merged away or changed since the pair was queued.
      const lenLeft = at(len, left);
      const lenRight = at(len, right);
      if (lenLeft === 0 || lenRight === 0 || lenLeft + lenRight !== b.text.length) continue;
      if (word.substr(at(start, left), b.text.length) !== b.text) continue;
      len[left] = lenLeft + lenRight;
      len[right] = 0;
      const after = at(next, right);
      next[left] = after;
      if (after >= 0) prev[after] = left;
      addBigram(at(prev, left), left);
      addBigram(left, after);
    }

    const ids: number[] = [];
    for (let i = n > 0 ? 0 : -1; i !== -1; i = at(next, i)) {
      const piece = sym(i);
      const id = this.tokenToId.get(piece);
      if (id !== undefined) ids.push(id);
      else this.fallback(piece, ids);
    }
    return ids;
  }

  /**
   * A final symbol that is not a token, as llama.cpp handles it: byte by byte, each byte looked up as a
   * one-byte token text (only ASCII can be one) or, for raw-text vocabularies, as its <0xXX> token;
   * bytes with no token are dropped.
   */
  private fallback(piece: string, ids: number[]): void {
    if (this.spec.byteEncode === false) {
      for (const b of utf8.encode(piece)) {
        const id = this.tokenToId.get(`<0x${hex(b)}>`);
        if (id !== undefined) ids.push(id);
      }
      return;
    }
    for (const ch of piece) {
      const id = ch.charCodeAt(0) < 0x80 ? this.tokenToId.get(ch) : undefined;
      if (id !== undefined) ids.push(id);
    }
  }
}
