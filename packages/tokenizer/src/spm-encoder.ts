/**
 * SentencePiece-style encoder, a line-for-line port of llama.cpp's llm_tokenizer_spm_session:
 * start from one symbol per code point, repeatedly merge the adjacent pair whose concatenation is the
 * vocabulary token with the highest score (ties: leftmost pair first), then emit each final symbol as
 * its token, or resegment it through the merges that built it, or as `<0xXX>` byte tokens.
 * Input must already be whitespace-escaped (' ' → '▁') and carry the space prefix if any.
 * Symbol offsets and lengths are in UTF-16 code units of that input (llama.cpp counts bytes; the merge
 * order only depends on scores and symbol indices, so the result is the same).
 */
import { at, BinaryHeap } from '@loom/common';

interface Bigram {
  left: number;
  right: number;
  score: number;
  size: number;
}

const byScoreThenLeft = (a: Bigram, b: Bigram) => a.score > b.score || (a.score === b.score && a.left < b.left);
const encoder = new TextEncoder();

export class SpmEncoder {
  private readonly byteTokens: (number | undefined)[] = new Array(256);

  constructor(
    private readonly tokenToId: ReadonlyMap<string, number>,
    private readonly scores: readonly number[],
    private readonly unknownId: number | undefined,
  ) {
    for (let b = 0; b < 256; b++) {
      const hex = b.toString(16).toUpperCase().padStart(2, '0');
      this.byteTokens[b] =
        tokenToId.get(`<0x${hex}>`) ?? (b < 0x80 ? tokenToId.get(String.fromCharCode(b)) : undefined);
    }
  }

  /** Appends the ids of `text` to `out`. */
  encode(text: string, out: number[]): void {
    if (text.length === 0) return;
    const start: number[] = [];
    const len: number[] = [];
    for (let i = 0; i < text.length;) {
      const cp = text.codePointAt(i)!;
      const n = cp > 0xffff ? 2 : 1;
      start.push(i);
      len.push(n);
      i += n;
    }
    const count = start.length;
    const prev = Int32Array.from({ length: count }, (_, i) => i - 1);
    const next = Int32Array.from({ length: count }, (_, i) => (i + 1 < count ? i + 1 : -1));
    const queue = new BinaryHeap<Bigram>(byScoreThenLeft);
    const revMerge = new Map<string, [number, number]>();

    const tryAddBigram = (left: number, right: number) => {
      if (left === -1 || right === -1) return;
      const piece = text.substr(at(start, left), at(len, left) + at(len, right));
      const id = this.tokenToId.get(piece);
      const score = id === undefined ? undefined : this.scores[id];
      if (score === undefined) return;
      queue.push({ left, right, score, size: piece.length });
      revMerge.set(piece, [left, right]);
    };

    for (let i = 1; i < count; i++) tryAddBigram(i - 1, i);
    for (let bigram = queue.pop(); bigram; bigram = queue.pop()) {
      const { left, right } = bigram;
      // A pair is stale when either side was merged away or grew since it was queued.
      const lenLeft = at(len, left);
      const lenRight = at(len, right);
      if (lenLeft === 0 || lenRight === 0 || lenLeft + lenRight !== bigram.size) continue;
      len[left] = lenLeft + lenRight;
      len[right] = 0;
      const after = at(next, right);
      next[left] = after;
      if (after >= 0) prev[after] = left;
      tryAddBigram(at(prev, left), left);
      tryAddBigram(left, after);
    }

    const resegment = (sym: number) => {
      const piece = text.substr(at(start, sym), at(len, sym));
      const id = this.tokenToId.get(piece);
      if (id !== undefined) {
        out.push(id);
        return;
      }
      const pair = revMerge.get(piece);
      if (pair) {
        resegment(pair[0]);
        resegment(pair[1]);
        return;
      }
      for (const b of encoder.encode(piece)) out.push(this.byteToken(b, piece));
    };
    for (let i = 0; i !== -1; i = at(next, i)) resegment(i);
  }

  private byteToken(b: number, piece: string): number {
    const id = this.byteTokens[b] ?? this.unknownId;
    if (id === undefined)
      throw new Error(
        `cannot encode ${JSON.stringify(piece)}: the vocabulary has no byte token <0x${b.toString(16).toUpperCase().padStart(2, '0')}> and no unknown token`,
      );
    return id;
  }
}
