/**
 * Text ↔ token ids for the two vocabulary kinds llama.cpp calls SPM (`llama`, SentencePiece) and BPE
 * (`gpt2`, byte-level BPE), built from the published TokenizerData alone (no weights needed).
 * encode() reproduces llama.cpp's llama_tokenize (fragments split on special tokens first, BOS/EOS per
 * the data); decode() concatenates token bytes as llama.cpp's token_to_piece(special=true) produces
 * them and decodes UTF-8 once at the end, so a character split across byte tokens comes out whole.
 */
import type { TokenizerData } from '@loom/common';
import { byteDecode } from './byte-unicode.js';
import { BpeEncoder } from './bpe-encoder.js';
import { SpmEncoder } from './spm-encoder.js';
import { splitSpecial, type SpecialToken } from './split-special.js';

/** llama.cpp token types (`tokenizer.ggml.token_type`). */
export const TokenType = {
  UNDEFINED: 0,
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

export interface EncodeOptions {
  /** Add BOS/EOS as the data's addBosToken/addEosToken say. Default true. */
  addSpecial?: boolean;
  /** Turn control/user-defined token texts in the input (e.g. "<|im_end|>") into their ids. Default false: only user-defined tokens are matched, as in llama.cpp. */
  parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Leave out control and unknown tokens (BOS, EOS, <|im_end|>, ...). Default false. */
  skipSpecial?: boolean;
  /**
   * SPM with add_space_prefix: drop the one space that encode() prefixed, i.e. the leading space of the
   * first token that produces text (a skipped special token does not count). Default true. Pass false
   * when decoding a window from the middle of a sequence.
   */
  stripLeadingSpace?: boolean;
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();
// ignoreBOM keeps a decoded U+FEFF as text instead of swallowing it.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export class Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  /** Ids that end generation: EOS, plus EOT when the vocabulary has a distinct one. */
  readonly eosIds: readonly number[];
  private readonly tokenToId = new Map<string, number>();
  private readonly types: Uint8Array;
  private readonly pieces: Uint8Array[];
  private readonly spm: SpmEncoder | undefined;
  private readonly bpe: BpeEncoder | undefined;
  /** Control, user-defined and unknown tokens, longest text first (parseSpecial). */
  private readonly specialAll: SpecialToken[];
  /** User-defined tokens only, longest first (always matched). */
  private readonly specialUser: SpecialToken[];

  private constructor(readonly data: TokenizerData) {
    const { tokens } = data;
    this.vocabSize = tokens.length;
    tokens.forEach((t, id) => this.tokenToId.set(t, id)); // duplicate texts: the last id wins, as in llama.cpp
    this.types = Uint8Array.from(tokens, (_, id) => data.tokenTypes?.[id] ?? TokenType.NORMAL);
    // llama.cpp forces an auto-detected end-of-turn token to be a control token.
    if (data.eotTokenId !== undefined) this.types[data.eotTokenId] = TokenType.CONTROL;
    const check = (name: string, id: number | undefined) => {
      if (id !== undefined && (!Number.isInteger(id) || id < 0 || id >= this.vocabSize)) {
        throw new Error(
          `TokenizerData.${name} = ${id} is outside the vocabulary (0..${this.vocabSize - 1}); republish the tokenizer from the model file`,
        );
      }
    };
    check('bosTokenId', data.bosTokenId);
    check('eosTokenId', data.eosTokenId);
    check('eotTokenId', data.eotTokenId);
    check('unknownTokenId', data.unknownTokenId);
    this.bosId = data.bosTokenId;
    this.eosIds = [...new Set([data.eosTokenId, data.eotTokenId].filter((x): x is number => x !== undefined))];

    if (data.model === 'llama') {
      this.spm = new SpmEncoder(
        this.tokenToId,
        data.scores ?? new Array<number>(tokens.length).fill(0),
        data.unknownTokenId,
      );
    } else if (data.model === 'gpt2') {
      if (!data.merges)
        throw new Error(
          'TokenizerData for a gpt2 (byte-level BPE) vocabulary has no merges; republish it from the model file',
        );
      this.bpe = new BpeEncoder(this.tokenToId, data.merges, data.pre);
    } else {
      throw new Error(
        `unsupported tokenizer model '${data.model}' (supported: llama = SentencePiece, gpt2 = byte-level BPE)`,
      );
    }
    this.pieces = tokens.map((text, id) => this.pieceOf(text, this.types[id]!));

    const specials = (accept: (t: number) => boolean) =>
      tokens
        .map((text, id) => ({ id, text }))
        .filter(({ id }) => accept(this.types[id]!))
        .sort((a, b) => b.text.length - a.text.length || a.id - b.id);
    this.specialAll = specials(
      (t) => t === TokenType.CONTROL || t === TokenType.USER_DEFINED || t === TokenType.UNKNOWN,
    );
    this.specialUser = specials((t) => t === TokenType.USER_DEFINED);
  }

  static fromData(data: TokenizerData): Tokenizer {
    return new Tokenizer(data);
  }

  /** Bytes of a token as llama.cpp's token_to_piece(special = true) renders it. */
  private pieceOf(text: string, type: number): Uint8Array {
    switch (type) {
      case TokenType.CONTROL:
      case TokenType.UNKNOWN:
      case TokenType.USER_DEFINED:
        return utf8.encode(text);
      case TokenType.NORMAL:
        return this.spm ? utf8.encode(text.replaceAll('\u2581', ' ')) : byteDecode(text);
      case TokenType.BYTE: {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(text);
        if (m) return Uint8Array.of(parseInt(m[1]!, 16));
        return this.spm ? utf8.encode(text) : byteDecode(text);
      }
      default:
        return EMPTY; // unused / undefined tokens render as nothing, as in llama.cpp
    }
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const addSpecial = opts.addSpecial ?? true;
    const out: number[] = [];
    if (addSpecial && this.data.addBosToken) out.push(this.required('bosTokenId', this.bosId));
    const frags = text.length === 0 ? [] : splitSpecial(text, opts.parseSpecial ? this.specialAll : this.specialUser);
    let prevSpecial = true;
    for (const frag of frags) {
      if (typeof frag === 'number') {
        out.push(frag);
        prevSpecial = true;
      } else if (this.spm) {
        const prefixed = this.data.addSpacePrefix && prevSpecial ? ` ${frag}` : frag;
        this.spm.encode(prefixed.replaceAll(' ', '\u2581'), out);
        prevSpecial = false;
      } else {
        this.bpe!.encode(frag, out);
      }
    }
    if (addSpecial && this.data.addEosToken) out.push(this.required('eosTokenId', this.data.eosTokenId));
    return out;
  }

  private required(name: string, id: number | undefined): number {
    if (id === undefined)
      throw new Error(
        `the tokenizer data asks to add ${name} but defines none; republish it from the model file or encode with addSpecial: false`,
      );
    return id;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const skip = opts.skipSpecial ?? false;
    let stripSpace = (opts.stripLeadingSpace ?? true) && this.spm !== undefined && this.data.addSpacePrefix === true;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (const id of ids) {
      if (skip && this.isSpecial(id)) continue;
      let piece = this.tokenBytes(id);
      if (stripSpace && piece.length > 0 && piece[0] === 0x20) piece = piece.subarray(1);
      stripSpace = false;
      parts.push(piece);
      total += piece.length;
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    return utf8Decoder.decode(bytes);
  }

  /** Raw bytes of one token (a byte-fallback token is a single, possibly partial UTF-8 byte). */
  tokenBytes(id: number): Uint8Array {
    const piece = this.pieces[id];
    if (piece === undefined) throw new Error(`token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    return piece;
  }

  /** One token's text; a partial UTF-8 sequence shows as U+FFFD (use decode() on runs of ids). */
  tokenToPiece(id: number): string {
    return utf8Decoder.decode(this.tokenBytes(id));
  }

  /** The id whose vocabulary text is exactly `text` (e.g. "<|im_end|>"), if any. */
  tokenId(text: string): number | undefined {
    return this.tokenToId.get(text);
  }

  /** Control or unknown token: left out of decode() with skipSpecial. */
  isSpecial(id: number): boolean {
    const t = this.types[id];
    return t === TokenType.CONTROL || t === TokenType.UNKNOWN;
  }
}
