/**
 * llama.cpp's special-token heuristics (llama_vocab::load), shared by the GGUF and tokenizer.json paths:
 *  - end-of-turn, end-of-message and fill-in-the-middle tokens the file does not name are found by text
 *    (<|eot_id|>, <|im_end|>, <end_of_turn>, <|fim_prefix|>, ...) and become control tokens;
 *  - the end-of-generation set: FIM pad/repo/file-sep, every token whose text is a known end marker
 *    (becoming a control token), then EOS, EOT and EOM;
 *  - gpt-oss / solar-open: with <|return|> and <|call|> (or <|calls|> and <|flush|>) present, <|end|> ends
 *    a message, not generation (it leaves the set and becomes user-defined); Gemma-4: with
 *    <|tool_response> present, </s> is ordinary text; gpt-oss's <|channel|>, <|message|>, <|start|>,
 *    <|constrain|> are user-defined (always rendered).
 * Where llama.cpp's pick depends on hash-map order (two candidate texts in one vocabulary), the earlier
 * text in its list wins here (<|eot_id|> before <|end_of_text|>).
 */
import type { TokenizerData } from '@loom/common';
import { TokenType } from './token-type.js';

export interface SpecialIds {
  bos?: number;
  eos?: number;
  eot?: number;
  eom?: number;
  unk?: number;
  sep?: number;
  pad?: number;
  fimPre?: number;
  fimSuf?: number;
  fimMid?: number;
  fimPad?: number;
  fimRep?: number;
  fimSep?: number;
}

const BY_TEXT: Partial<Record<keyof SpecialIds, string[]>> = {
  eot: [
    '<|eot_id|>',
    '<|im_end|>',
    '<|end|>',
    '<end_of_turn>',
    '<|endoftext|>',
    '<|end_of_text|>',
    '<EOT>',
    '_<EOT>',
    '[EOT]',
    '<｜end▁of▁sentence｜>',
    '<end_of_utterance>',
  ],
  eom: ['<|eom_id|>'],
  fimPre: ['<|fim_prefix|>', '<fim-prefix>', '<fim_prefix>', '<｜fim▁begin｜>', '<PRE>', '▁<PRE>', '<|code_prefix|>', '<|prefix|>'], // prettier-ignore
  fimSuf: ['<|fim_suffix|>', '<fim-suffix>', '<fim_suffix>', '<｜fim▁hole｜>', '<SUF>', '▁<SUF>', '<|code_suffix|>', '<|suffix|>'], // prettier-ignore
  fimMid: ['<|fim_middle|>', '<fim-middle>', '<fim_middle>', '<｜fim▁end｜>', '<MID>', '▁<MID>', '<|code_middle|>', '<|middle|>'], // prettier-ignore
  fimPad: ['<|fim_pad|>', '<fim-pad>', '<fim_pad>', '<PAD>', '[PAD]'],
  fimRep: ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>', '<reponame>'],
  fimSep: ['<|file_sep|>'],
};

/** Texts of tokens that end generation (llama.cpp's special_eog_ids list). */
export const EOG_TEXTS = [
  '<|eot_id|>', '<|im_end|>', '<|end|>', '<|return|>', '<|call|>', '<|flush|>', '<|calls|>', '<end_of_turn>',
  '<|endoftext|>', '</s>', '<|eom_id|>', '<EOT>', '_<EOT>', '[EOT]', '[EOS]', '<|end_of_text|>', '<end_of_utterance>',
  '<eos>', '<turn|>', '<|tool_response>', '<｜end▁of▁sentence｜>', '[e~[',
]; // prettier-ignore

const ALWAYS_RENDERED = ['<|channel|>', '<|message|>', '<|start|>', '<|constrain|>'];

export interface ResolvedSpecials {
  ids: SpecialIds;
  /** End-of-generation ids, ascending. */
  eog: number[];
}

/**
 * Completes `ids` (ids the file names; out-of-vocabulary ones must already be dropped) and computes the
 * end-of-generation set. `types` (llama.cpp token types, one per token) is updated in place.
 */
export function resolveSpecialTokens(tokens: readonly string[], types: number[], given: SpecialIds): ResolvedSpecials {
  const byText = new Map(tokens.map((t, i) => [t, i]));
  const ids: SpecialIds = { ...given };
  const control = (id: number) => {
    if (types[id] !== TokenType.CONTROL) types[id] = TokenType.CONTROL;
  };
  for (const [key, texts] of Object.entries(BY_TEXT) as [keyof SpecialIds, string[]][]) {
    if (ids[key] !== undefined) continue;
    const id = texts.map((t) => byText.get(t)).find((x) => x !== undefined);
    if (id !== undefined) {
      ids[key] = id;
      control(id);
    }
  }

  const eog = new Set<number>();
  for (const id of [ids.fimPad, ids.fimRep, ids.fimSep]) if (id !== undefined) eog.add(id);
  for (const text of EOG_TEXTS) {
    const id = byText.get(text);
    if (id === undefined) continue;
    eog.add(id);
    control(id);
  }
  for (const id of ALWAYS_RENDERED.map((t) => byText.get(t))) if (id !== undefined) types[id] = TokenType.USER_DEFINED;
  for (const id of [ids.eos, ids.eot, ids.eom]) if (id !== undefined) eog.add(id);

  const inEog = (text: string) => {
    const id = byText.get(text);
    return id !== undefined && eog.has(id) ? id : undefined;
  };
  const end = inEog('<|end|>');
  const call = inEog('<|call|>') ?? inEog('<|calls|>');
  if (
    end !== undefined &&
    call !== undefined &&
    (inEog('<|return|>') !== undefined || inEog('<|flush|>') !== undefined)
  ) {
    eog.delete(end);
    types[end] = TokenType.USER_DEFINED;
  }
  const s = inEog('</s>');
  if (s !== undefined && inEog('<|tool_response>') !== undefined) {
    eog.delete(s);
    types[s] = TokenType.NORMAL;
  }
  return { ids, eog: [...eog].sort((a, b) => a - b) };
}

/** The TokenizerData field each published special id goes to; the other SpecialIds (FIM) stay internal. */
const DATA_FIELDS = {
  bos: 'bosTokenId',
  eos: 'eosTokenId',
  eot: 'eotTokenId',
  eom: 'eomTokenId',
  unk: 'unknownTokenId',
  pad: 'paddingTokenId',
  sep: 'sepTokenId',
} as const;

/** Sets data's bos/eos/eot/eom/unk/pad/sep token ids from `ids`, leaving each one `ids` lacks as it was. */
export function setSpecialTokenIds(data: TokenizerData, ids: SpecialIds): void {
  for (const [k, field] of Object.entries(DATA_FIELDS) as [
    keyof typeof DATA_FIELDS,
    (typeof DATA_FIELDS)[keyof typeof DATA_FIELDS],
  ][]) {
    const id = ids[k];
    if (id !== undefined) data[field] = id;
  }
}

/**
 * The ids that end generation for published tokenizer data: its eogTokenIds (data published before
 * they existed: EOS and EOT), plus `extra` (e.g. generation_config.json's eos_token_id list); only ids
 * inside the vocabulary, ascending, once each.
 */
export function endOfGenerationIds(data: TokenizerData, extra: readonly number[] = []): number[] {
  const ids = [...(data.eogTokenIds ?? [data.eosTokenId, data.eotTokenId]), ...extra];
  const inVocab = ids.filter((x): x is number => Number.isInteger(x) && x! >= 0 && x! < data.tokens.length);
  return [...new Set(inVocab)].sort((a, b) => a - b);
}
