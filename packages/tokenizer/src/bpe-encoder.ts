/**
 * Byte-level BPE encoder, a port of llama.cpp's llm_tokenizer_bpe_session: pre-tokenize into words,
 * map each word's UTF-8 bytes to GPT-2's byte alphabet, then repeatedly merge the adjacent pair with
 * the lowest merge rank (ties: leftmost first). Symbols are single chars of the byte alphabet, which
 * are all BMP code points, so UTF-16 indices address them directly.
 */
import { byteEncode } from './byte-unicode.js';
import { PriorityQueue } from './priority-queue.js';
import { BpePreTokenizer, IGNORE_MERGES_PRE } from './bpe-pre-tokenizer.js';

interface Bigram {
  left: number;
  right: number;
  text: string;
  rank: number;
}

const byRankThenLeft = (a: Bigram, b: Bigram) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left);
/** Bounds the per-word memo so a long-lived tokenizer's memory stays bounded. */
const WORD_CACHE_LIMIT = 50_000;

export class BpeEncoder {
  private readonly ranks = new Map<string, number>();
  private readonly preTokenizer: BpePreTokenizer;
  private readonly ignoreMerges: boolean;
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
    this.preTokenizer = new BpePreTokenizer(pre);
    this.ignoreMerges = pre !== undefined && IGNORE_MERGES_PRE.has(pre);
  }

  /** Appends the ids of `text` to `out`. */
  encode(text: string, out: number[]): void {
    for (const word of this.preTokenizer.split(text)) {
      if (word.length === 0) continue;
      let ids = this.cache.get(word);
      if (!ids) {
        ids = this.encodeWord(byteEncode(word));
        if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
        this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  private encodeWord(word: string): number[] {
    if (this.ignoreMerges) {
      const whole = this.tokenToId.get(word);
      if (whole !== undefined) return [whole];
    }
    const n = word.length;
    const start = Int32Array.from({ length: n }, (_, i) => i);
    const len = new Int32Array(n).fill(1);
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
    const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const queue = new PriorityQueue<Bigram>(byRankThenLeft);
    const sym = (i: number) => word.substr(start[i]!, len[i]!);
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
      if (len[left] === 0 || len[right] === 0 || len[left]! + len[right]! !== b.text.length) continue;
      if (word.substr(start[left]!, b.text.length) !== b.text) continue;
      len[left]! += len[right]!;
      len[right] = 0;
      next[left] = next[right]!;
      if (next[right]! >= 0) prev[next[right]!] = left;
      addBigram(prev[left]!, left);
      addBigram(left, next[left]!);
    }

    const ids: number[] = [];
    for (let i = 0; i !== -1; i = next[i]!) {
      const piece = sym(i);
      const id = this.tokenToId.get(piece);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      // Not a token: emit its chars one by one, dropping any the vocabulary lacks (as llama.cpp does).
      for (const ch of piece) {
        const c = this.tokenToId.get(ch);
        if (c !== undefined) ids.push(c);
      }
    }
    return ids;
  }
}
