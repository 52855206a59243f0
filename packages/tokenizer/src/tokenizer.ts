/**
 * Text ↔ token ids for every vocabulary kind llama.cpp's test vocabularies use: SPM (`llama`,
 * SentencePiece), BPE (`gpt2` byte-level, `gemma4` raw-text), WPM (`bert`, WordPiece) and UGM (`t5`,
 * Unigram), built from the published TokenizerData alone (no weights needed).
 * encode() reproduces llama.cpp's llama_tokenize (fragments split on special tokens first, BOS/EOS per
 * the data); decode() concatenates token bytes as llama.cpp's token_to_piece(special=true) produces
 * them and decodes UTF-8 once at the end, so a character split across byte tokens comes out whole.
 */
import { at, type TokenizerData } from '@loom/common';
import { byteDecode } from './byte-unicode.js';
import { BpeEncoder } from './bpe-encoder.js';
import { bpePreTokenizer } from './bpe-pre-tokenizer.js';
import { SpmEncoder } from './spm-encoder.js';
import { endOfGenerationIds } from './special-tokens.js';
import { splitSpecial, type SpecialToken } from './split-special.js';
import { TokenType } from './token-type.js';
import { UgmEncoder } from './ugm-encoder.js';
import { WpmEncoder } from './wpm-encoder.js';

export { TokenType };

export interface EncodeOptions {
  /** Add BOS/EOS as the data's addBosToken/addEosToken say (WordPiece: always [CLS] ... [SEP]). Default true. */
  addSpecial?: boolean;
  /**
   * Turn control/user-defined token texts in the input (e.g. "<|im_end|>") into their ids. Default false: only
   * user-defined tokens are matched, as in llama.cpp.
   */
  parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Leave out control and unknown tokens (BOS, EOS, <|im_end|>, ...). Default false. */
  skipSpecial?: boolean;
  /**
   * SentencePiece-style vocabularies that prefix words with "▁": drop the one space that encoding
   * prefixed, i.e. the leading space of the first token that produces text (a skipped special token
   * does not count). Default true. Pass false when decoding a window from the middle of a sequence.
   */
  stripLeadingSpace?: boolean;
}

/** Encodes one fragment of text between special tokens; `afterSpecial`: it starts the input or follows a special token. */
type FragmentEncoder = (text: string, out: number[], afterSpecial: boolean) => void;

const EMPTY = new Uint8Array(0);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const utf8 = new TextEncoder();
// ignoreBOM keeps a decoded U+FFFD / U+FEFF as text instead of swallowing it.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export class Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  /** Ids that end generation: the data's eogTokenIds (llama.cpp's set), else EOS and EOT. */
  readonly eosIds: readonly number[];
  private readonly tokenToId = new Map<string, number>();
  private readonly types: Uint8Array;
  private readonly pieces: Uint8Array[];
  private readonly encodeFragment: FragmentEncoder;
  /** The model's output starts words with "▁" that decode strips once (stripLeadingSpace). */
  private readonly spacePrefixed: boolean;
  private readonly wordPiece: boolean;
  /** Control, user-defined and unknown tokens in llama.cpp's order (parseSpecial). */
  private readonly specialAll: SpecialToken[];
  /** User-defined tokens only (always matched). */
  private readonly specialUser: SpecialToken[];

  private constructor(readonly data: TokenizerData) {
    const { tokens } = data;
    this.vocabSize = tokens.length;
    // Duplicate texts: the last id wins; an empty text is "[EMPTY_<id>]"; both as in llama.cpp.
    tokens.forEach((t, id) => this.tokenToId.set(t === '' ? `[EMPTY_${id}]` : t, id));
    this.types = Uint8Array.from(tokens, (_, id) => data.tokenTypes?.[id] ?? TokenType.NORMAL);
    // llama.cpp forces an auto-detected end-of-turn token to be a control token.
    if (data.eotTokenId !== undefined) this.types[data.eotTokenId] = TokenType.CONTROL;
    for (const name of [
      'bosTokenId',
      'eosTokenId',
      'eotTokenId',
      'eomTokenId',
      'unknownTokenId',
      'sepTokenId',
    ] as const)
      this.checkId(name, data[name]);
    for (const id of data.eogTokenIds ?? []) this.checkId('eogTokenIds', id);
    this.bosId = data.bosTokenId;
    this.eosIds = endOfGenerationIds(data);
    this.wordPiece = data.model === 'bert';
    this.spacePrefixed =
      this.wordPiece || ((data.model === 'llama' || data.model === 't5') && data.addSpacePrefix === true);
    this.encodeFragment = this.fragmentEncoder();
    const escapeWhitespace =
      data.model === 'gemma4' || (data.model === 'gpt2' && bpePreTokenizer(data.pre).escapeWhitespace === true);
    const spmLike = data.model === 'llama' || data.model === 't5' || data.model === 'bert' || escapeWhitespace;
    this.pieces = tokens.map((text, id) => pieceOf(text, at(this.types, id), spmLike));

    const lstrip = new Set(data.lstripTokenIds);
    const rstrip = new Set(data.rstripTokenIds);
    const specials = (accept: (t: number) => boolean) =>
      tokens
        .flatMap((text, id) =>
          accept(at(this.types, id)) ? [{ id, text, lstrip: lstrip.has(id), rstrip: rstrip.has(id) }] : [],
        ) // prettier-ignore
        .map((t) => ({ ...t, bytes: utf8.encode(t.text).length }))
        .sort((a, b) => b.bytes - a.bytes || a.id - b.id);
    this.specialAll = specials(
      (t) => t === TokenType.CONTROL || t === TokenType.USER_DEFINED || t === TokenType.UNKNOWN,
    );
    this.specialUser = specials((t) => t === TokenType.USER_DEFINED);
  }

  static fromData(data: TokenizerData): Tokenizer {
    return new Tokenizer(data);
  }

  private checkId(name: string, id: number | undefined): void {
    if (id !== undefined && (!Number.isInteger(id) || id < 0 || id >= this.vocabSize)) {
      throw new Error(
        `TokenizerData.${name} = ${id} is outside the vocabulary (0..${this.vocabSize - 1}); republish the tokenizer from the model file`,
      );
    }
  }

  private fragmentEncoder(): FragmentEncoder {
    const { data } = this;
    switch (data.model) {
      case 'llama': {
        const spm = new SpmEncoder(this.tokenToId, data.scores ?? new Array<number>(data.tokens.length).fill(0), data.unknownTokenId); // prettier-ignore
        return (text, out, afterSpecial) => {
          const prefixed = data.addSpacePrefix && afterSpecial ? ` ${text}` : text;
          spm.encode(prefixed.replaceAll(' ', '\u2581'), out);
        };
      }
      case 'gpt2':
      case 'gemma4': {
        if (!data.merges)
          throw new Error(`TokenizerData for a BPE vocabulary has no merges; republish it from the model file`);
        const bpe = new BpeEncoder(this.tokenToId, data.merges, data.model === 'gemma4' ? 'gemma4' : data.pre);
        return (text, out) => bpe.encode(text, out);
      }
      case 'bert': {
        const wpm = new WpmEncoder(this.tokenToId, data.unknownTokenId, {
          lowercase: data.lowercase ?? true,
          stripAccents: data.stripAccents ?? data.lowercase ?? true,
        });
        return (text, out) => wpm.encode(text, out);
      }
      case 't5': {
        const charsmap = data.precompiledCharsmap ? Buffer.from(data.precompiledCharsmap, 'base64') : undefined;
        const ugm = new UgmEncoder(data.tokens, this.types, data.scores, this.required('unknownTokenId', data.unknownTokenId), charsmap, {
          addSpacePrefix: data.addSpacePrefix ?? false,
          removeExtraWhitespaces: data.removeExtraWhitespaces ?? false,
          escapeWhitespaces: true,
        }); // prettier-ignore
        return (text, out) => ugm.encode(text, out);
      }
      default:
        throw new Error(
          `unsupported tokenizer model '${data.model}' (supported: llama = SentencePiece, gpt2 / gemma4 = BPE, bert = WordPiece, t5 = Unigram)`,
        );
    }
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const addSpecial = opts.addSpecial ?? true;
    // llama.cpp sees UTF-8, where a lone surrogate can only arrive as U+FFFD.
    text = text.replace(LONE_SURROGATE, '\ufffd');
    const out: number[] = [];
    if (addSpecial && (this.data.addBosToken || this.wordPiece)) out.push(this.required('bosTokenId', this.bosId));
    const frags = text.length === 0 ? [] : splitSpecial(text, opts.parseSpecial ? this.specialAll : this.specialUser);
    let afterSpecial = true;
    for (const frag of frags) {
      if (typeof frag === 'number') {
        out.push(frag);
        afterSpecial = true;
      } else {
        this.encodeFragment(frag, out, afterSpecial);
        afterSpecial = false;
      }
    }
    if (addSpecial && this.wordPiece) out.push(this.required('sepTokenId', this.data.sepTokenId));
    else if (addSpecial && this.data.addEosToken) out.push(this.required('eosTokenId', this.data.eosTokenId));
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
    let stripSpace = (opts.stripLeadingSpace ?? true) && this.spacePrefixed;
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

/**
 * Bytes of a token as llama.cpp's token_to_piece(special = true) renders it. `spmLike`: normal tokens
 * spell spaces "▁" (SentencePiece, WordPiece, Unigram, Gemma-4's BPE) rather than in GPT-2's byte alphabet.
 */
function pieceOf(text: string, type: number, spmLike: boolean): Uint8Array {
  switch (type) {
    case TokenType.CONTROL:
    case TokenType.UNKNOWN:
    case TokenType.USER_DEFINED:
      return utf8.encode(text);
    case TokenType.NORMAL:
      return spmLike ? utf8.encode(text.replaceAll('\u2581', ' ')) : byteDecode(text);
    case TokenType.BYTE: {
      const hex = /^<0x([0-9A-Fa-f]{2})>$/.exec(text)?.[1];
      if (hex !== undefined) return Uint8Array.of(parseInt(hex, 16));
      return spmLike ? utf8.encode(text) : byteDecode(text);
    }
    default:
      return EMPTY; // unused / undefined tokens render as nothing, as in llama.cpp
  }
}
