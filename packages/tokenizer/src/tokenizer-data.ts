/**
 * Extracts the vocabulary and tokenizer settings (TokenizerData, the JSON shape workers publish in
 * Redis) and the chat template from GGUF metadata (`tokenizer.ggml.*`, `tokenizer.chat_template`).
 * Defaults follow llama.cpp's llama_vocab::load where the file is silent:
 *  - `llama` (SentencePiece): bos 1, eos 2, unk 0, add_bos true, add_eos false, add_space_prefix true.
 *  - `gpt2` (byte-level BPE): add_bos true only for Llama-3-style pre-tokenizers (llama.cpp sets it for
 *    them), else false; add_space_prefix false. llama.cpp's placeholder bos/eos 11 for BPE is NOT copied:
 *    it would make a real token (a comma in GPT-2) an end-of-sequence token.
 *  - EOT: `tokenizer.ggml.eot_token_id`, else the token whose text comes first in llama.cpp's list of
 *    end-of-turn markers ( <|eot_id|>, <|im_end|>, <|end|>, <end_of_turn>, ...), as llama.cpp auto-detects it.
 */
import type { TokenizerData } from '@loom/common';
import type { GgufMetadata } from './gguf-metadata.js';

export const LLAMA3_STYLE_PRE = ['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'pixtral'];

/** Texts llama.cpp recognises as end-of-turn tokens when the file names no eot_token_id. */
export const EOT_TOKEN_TEXTS = [
  '<|eot_id|>',
  '<|im_end|>',
  '<|end|>',
  '<end_of_turn>',
  '<|endoftext|>',
  '<|end_of_text|>',
  '<EOT>',
  '_<EOT>',
  '<｜end▁of▁sentence｜>',
  '<end_of_utterance>',
];

/** The end-of-turn token llama.cpp auto-detects by text when a vocabulary names none. */
export function eotTokenByText(tokens: readonly string[]): number | undefined {
  // Earlier texts in the list win (llama.cpp's pick depends on hash-map order; <|eot_id|> must beat <|end_of_text|>).
  const byText = new Map(tokens.map((t, i) => [t, i]));
  return EOT_TOKEN_TEXTS.map((t) => byText.get(t)).find((i) => i !== undefined);
}

function strings(meta: GgufMetadata, key: string): string[] | undefined {
  const a = meta.getArray(key);
  if (a && a.some((x) => typeof x !== 'string')) throw new Error(`${meta.path}: ${key} must be an array of strings`);
  return a as string[] | undefined;
}

function numbers(meta: GgufMetadata, key: string): number[] | undefined {
  const a = meta.getArray(key);
  if (!a) return undefined;
  return a.map((x) => {
    if (typeof x !== 'number' && typeof x !== 'bigint')
      throw new Error(`${meta.path}: ${key} must be an array of numbers`);
    return Number(x);
  });
}

/** Reads TokenizerData from GGUF metadata; throws (naming the file) when the file has no vocabulary. */
export function tokenizerDataFromGguf(meta: GgufMetadata): TokenizerData {
  const model = meta.getString('tokenizer.ggml.model');
  if (!model)
    throw new Error(
      `${meta.path}: no tokenizer.ggml.model: the GGUF has no tokenizer; re-convert it with llama.cpp's convert_hf_to_gguf.py`,
    );
  const tokens = strings(meta, 'tokenizer.ggml.tokens');
  if (!tokens || tokens.length === 0)
    throw new Error(`${meta.path}: no tokenizer.ggml.tokens: the GGUF has no vocabulary`);
  const pre = meta.getString('tokenizer.ggml.pre');
  const isSpm = model === 'llama';
  const inVocab = (id: number | undefined) => (id !== undefined && id >= 0 && id < tokens.length ? id : undefined);
  const id = (key: string, fallback?: number) => inVocab(meta.getNumber(`tokenizer.ggml.${key}`) ?? fallback);

  const eot = id('eot_token_id') ?? eotTokenByText(tokens);
  const data: TokenizerData = {
    model,
    tokens,
    addBosToken:
      meta.getBool('tokenizer.ggml.add_bos_token') ?? (isSpm || (pre !== undefined && LLAMA3_STYLE_PRE.includes(pre))),
    addEosToken: meta.getBool('tokenizer.ggml.add_eos_token') ?? false,
    addSpacePrefix: meta.getBool('tokenizer.ggml.add_space_prefix') ?? isSpm,
  };
  if (pre !== undefined) data.pre = pre;
  const scores = numbers(meta, 'tokenizer.ggml.scores');
  if (scores) data.scores = scores;
  const types = numbers(meta, 'tokenizer.ggml.token_type');
  if (types) data.tokenTypes = types;
  const merges = strings(meta, 'tokenizer.ggml.merges');
  if (merges) data.merges = merges;
  const set = (
    field: 'bosTokenId' | 'eosTokenId' | 'unknownTokenId' | 'paddingTokenId' | 'eotTokenId',
    v: number | undefined,
  ) => {
    if (v !== undefined) data[field] = v;
  };
  set('bosTokenId', id('bos_token_id', isSpm ? 1 : undefined));
  set('eosTokenId', id('eos_token_id', isSpm ? 2 : undefined));
  set('unknownTokenId', id('unknown_token_id', isSpm ? 0 : undefined));
  set('paddingTokenId', id('padding_token_id'));
  set('eotTokenId', eot);
  return data;
}

/** The model's own Jinja chat template (`tokenizer.chat_template`), if the file has one. */
export function chatTemplateFromGguf(meta: GgufMetadata): string | undefined {
  return meta.getString('tokenizer.chat_template');
}

/**
 * The template for conversations with tools (`tokenizer.chat_template.tool_use`), for models that ship
 * one beside the default (Hermes 2 Pro / 3, Command R+), as llama.cpp reads it.
 */
export function toolUseChatTemplateFromGguf(meta: GgufMetadata): string | undefined {
  return meta.getString('tokenizer.chat_template.tool_use');
}
