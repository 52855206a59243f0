/**
 * WordPiece (BERT), a port of llama.cpp's llm_tokenizer_wpm_session: BertNormalizer-style preprocessing
 * (split on whitespace; drop NUL, U+FFFD and control characters; optionally strip accents through
 * llama.cpp's one-code-point NFD and lowercase; punctuation, ASCII symbols and CJK ideographs become
 * words of their own), then per word greedy longest-match of "▁" + word against the vocabulary; a word
 * that cannot be covered entirely becomes the unknown token.
 */
import { at } from '@loom/common';
import { CPT, cptFlags, cptNfd, cptToLower, codepoints, inRanges } from './unicode-flags.js';

export interface WpmOptions {
  lowercase: boolean;
  stripAccents: boolean;
}

const utf8 = new TextEncoder();

/** CJK ideographs as BERT's tokenizer has them (llama.cpp and HF's Rust code start at 0x2B920, not 0x2B820). */
const CHINESE: readonly (readonly [number, number])[] = [
  [0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f], [0x2b740, 0x2b81f], [0x2b920, 0x2ceaf],
  [0xf900, 0xfaff], [0x2f800, 0x2fa1f],
]; // prettier-ignore

export class WpmEncoder {
  /** Longest token text in UTF-8 bytes (llama.cpp's max_token_len bounds each match). */
  private readonly maxTokenBytes: number;

  constructor(
    private readonly tokenToId: ReadonlyMap<string, number>,
    private readonly unknownId: number | undefined,
    private readonly opts: WpmOptions,
  ) {
    let max = 0;
    for (const t of tokenToId.keys()) max = Math.max(max, utf8.encode(t).length);
    this.maxTokenBytes = max;
  }

  /** Appends the ids of `text` (one fragment between special tokens) to `out`. */
  encode(text: string, out: number[]): void {
    for (const word of this.preprocess(text)) {
      const w = `\u2581${word}`;
      // Code point boundaries of w with their UTF-8 offsets, to bound candidates by byte length.
      const cuts: number[] = [0];
      const bytes: number[] = [0];
      for (let i = 0; i < w.length;) {
        const cp = w.codePointAt(i)!;
        i += cp > 0xffff ? 2 : 1;
        cuts.push(i);
        bytes.push(bytes.at(-1)! + (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4));
      }
      const mark = out.length;
      for (let i = 0; i < cuts.length - 1;) {
        let j = cuts.length - 1;
        while (j > i && at(bytes, j) - at(bytes, i) > this.maxTokenBytes + 1) j--;
        let id: number | undefined;
        for (; j > i; j--) {
          id = this.tokenToId.get(w.slice(cuts[i], cuts[j]));
          if (id !== undefined) break;
        }
        if (id === undefined) {
          out.length = mark; // no match at this position: the whole word is unknown
          break;
        }
        out.push(id);
        i = j;
      }
      if (out.length === mark) {
        if (this.unknownId === undefined)
          throw new Error(`cannot encode ${JSON.stringify(word)}: the WordPiece vocabulary has no unknown token`);
        out.push(this.unknownId);
      }
    }
  }

  private preprocess(text: string): string[] {
    const words: string[] = [''];
    for (let cp of codepoints(text)) {
      if (this.opts.stripAccents) cp = cptNfd(cp);
      const flags = cptFlags(cp);
      if (flags & CPT.WHITESPACE) {
        if (words.at(-1) !== '') words.push('');
        continue;
      }
      if (cp === 0 || cp === 0xfffd || flags & CPT.CONTROL) continue;
      if (this.opts.stripAccents && flags & CPT.ACCENT_MARK) continue;
      const s = String.fromCodePoint(this.opts.lowercase ? cptToLower(cp) : cp);
      if (flags & CPT.PUNCTUATION || (cp < 0x7f && flags & CPT.SYMBOL) || inRanges(cp, CHINESE)) {
        if (words.at(-1) !== '') words.push('');
        words[words.length - 1] = s;
        words.push('');
      } else {
        words[words.length - 1] += s;
      }
    }
    if (words.at(-1) === '') words.pop();
    return words;
  }
}
