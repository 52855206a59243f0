import type { ModelCard } from '@loom/common';
import { BYTE_TO_UNICODE, Tokenizer } from '@loom/tokenizer';
import { Utf8Guard } from './utf8-guard.js';

/** What xgrammar's TokenizerInfo needs to know about a model's vocabulary. */
export interface XGrammarVocab {
  /**
   * Every token's bytes, as the detokenizer renders them (llama.cpp's token_to_piece), written in the
   * byte-level alphabet (GPT-2's bytes_to_unicode), so xgrammar's `byte_level` decoding gives exactly those
   * bytes whatever the tokenizer kind: SentencePiece pieces with their spaces and byte-fallback tokens,
   * byte-level BPE, and added tokens stored as plain text alike. Control, unknown and unused tokens are
   * '' (xgrammar never allows an empty token, except as a stop token).
   */
  encodedVocab: string[];
  /** The engine's logits width (≥ the tokenizer's; ids past the tokenizer's are never allowed). */
  vocabSize: number;
  /** Ids that end generation (the model's EOS / EOT): allowed exactly where the grammar may end. */
  stopTokenIds: number[];
}

export const XGRAMMAR_VOCAB_TYPE = 'byte_level';

const NO_BYTES = new Uint8Array(0);

/**
 * The vocabulary of a published model card, in xgrammar's terms, and the UTF-8 guard over the same
 * bytes (special tokens have none).
 */
export function xgrammarVocab(card: Pick<ModelCard, 'tokenizer' | 'vocabSize' | 'eosTokenIds'>): {
  vocab: XGrammarVocab;
  utf8: Utf8Guard;
} {
  const tok = Tokenizer.fromData(card.tokenizer);
  const bytesOf = (id: number) => (tok.isSpecial(id) ? NO_BYTES : tok.tokenBytes(id));
  const encodedVocab = new Array<string>(tok.vocabSize);
  for (let id = 0; id < tok.vocabSize; id++) {
    let s = '';
    for (const b of bytesOf(id)) s += BYTE_TO_UNICODE[b];
    encodedVocab[id] = s;
  }
  const vocabSize = Math.max(card.vocabSize, tok.vocabSize);
  return {
    vocab: { encodedVocab, vocabSize, stopTokenIds: [...card.eosTokenIds] },
    utf8: new Utf8Guard(tok.vocabSize, vocabSize, bytesOf),
  };
}
