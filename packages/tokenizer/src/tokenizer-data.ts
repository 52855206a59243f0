/**
 * Extracts the vocabulary and tokenizer settings (TokenizerData, the JSON shape workers publish in
 * Redis) and the chat template from GGUF metadata (`tokenizer.ggml.*`, `tokenizer.chat_template`).
 * Defaults follow llama.cpp's llama_vocab::load where the file is silent:
 *  - `llama` (SentencePiece): bos 1, eos 2, unk 0, add_bos true, add_eos false, add_space_prefix true.
 *  - `gpt2` / `gemma4` (BPE): add_bos per the pre-tokenizer (true for Llama-3 style ones, always for
 *    Gemma-4), else false. llama.cpp's placeholder bos/eos 11 for gpt2 is NOT copied: it would make a
 *    real token (a comma in GPT-2) an end-of-generation token.
 *  - `bert` (WordPiece): bos ([CLS]) 101, unk 100, sep 102, lowercase and strip accents.
 *  - `t5` (Unigram): eos 1, unk 2, add_bos false, add_eos true.
 * Special tokens the file does not name, the end-of-generation set and token-type fixes come from
 * llama.cpp's heuristics (special-tokens.ts); lstrip/rstrip from its per-model attributes.
 */
import type { TokenizerData } from '@loom/common';
import type { GgufMetadata } from '@loom/gguf';
import { bpePreTokenizer } from './bpe-pre-tokenizer.js';
import { resolveSpecialTokens, setSpecialTokenIds, type SpecialIds } from './special-tokens.js';
import { TokenType } from './token-type.js';

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

/** Per-model defaults of llama_vocab::load: special ids, add_bos, add_eos, add_space_prefix. */
function modelDefaults(meta: GgufMetadata, model: string, pre: string | undefined) {
  switch (model) {
    case 'llama':
      return { ids: { bos: 1, eos: 2, unk: 0 }, addBos: true, addEos: false, spacePrefix: true };
    case 'bert':
      return { ids: { bos: 101, unk: 100, sep: 102, pad: 0 }, addBos: true, addEos: false, spacePrefix: false };
    case 't5':
      return { ids: { eos: 1, unk: 2, pad: 0 }, addBos: false, addEos: true, spacePrefix: false };
    case 'gpt2':
    case 'gemma4': {
      const spec = bpePreTokenizer(model === 'gemma4' ? 'gemma4' : pre);
      return { ids: {}, addBos: spec.addBos === true, addEos: false, spacePrefix: false, spec };
    }
    default:
      throw new Error(
        `${meta.path}: tokenizer.ggml.model '${model}' is not supported (supported: llama = SentencePiece, ` +
          `gpt2 / gemma4 = BPE, bert = WordPiece, t5 = Unigram)`,
      );
  }
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
  const defaults = modelDefaults(meta, model, pre);
  const inVocab = (id: number | undefined) => (id !== undefined && id >= 0 && id < tokens.length ? id : undefined);
  const given: SpecialIds = {};
  const keys: [keyof SpecialIds, string[]][] = [
    ['bos', ['bos_token_id']],
    ['eos', ['eos_token_id']],
    ['eot', ['eot_token_id']],
    ['eom', ['eom_token_id']],
    ['unk', ['unknown_token_id']],
    ['sep', ['seperator_token_id']],
    ['pad', ['padding_token_id']],
    ['fimPre', ['fim_pre_token_id', 'prefix_token_id']],
    ['fimSuf', ['fim_suf_token_id', 'suffix_token_id']],
    ['fimMid', ['fim_mid_token_id', 'middle_token_id']],
    ['fimPad', ['fim_pad_token_id']],
    ['fimRep', ['fim_rep_token_id']],
    ['fimSep', ['fim_sep_token_id']],
  ];
  for (const [field, names] of keys) {
    // The file's id when in range (later keys, the deprecated ones, win as in llama.cpp), else the default.
    let id = inVocab((defaults.ids as SpecialIds)[field]);
    for (const k of names) id = inVocab(meta.getNumber(`tokenizer.ggml.${k}`)) ?? id;
    if (id !== undefined) given[field] = id;
  }
  if (defaults.spec?.noBos) delete given.bos;

  const types = numbers(meta, 'tokenizer.ggml.token_type') ?? tokens.map(() => TokenType.NORMAL as number);
  const { ids, eog } = resolveSpecialTokens(tokens, types, given);
  let addBos = meta.getBool('tokenizer.ggml.add_bos_token') ?? defaults.addBos;
  if (defaults.spec?.names.includes('gemma4')) addBos = true; // llama.cpp overrides it for Gemma-4
  const data: TokenizerData = {
    model,
    tokens,
    tokenTypes: types,
    addBosToken: addBos,
    addEosToken: meta.getBool('tokenizer.ggml.add_eos_token') ?? defaults.addEos,
    addSpacePrefix: meta.getBool('tokenizer.ggml.add_space_prefix') ?? defaults.spacePrefix,
    eogTokenIds: eog,
  };
  if (pre !== undefined) data.pre = pre;
  const scores = numbers(meta, 'tokenizer.ggml.scores');
  if (scores) data.scores = scores;
  const merges = strings(meta, 'tokenizer.ggml.merges');
  if (merges) data.merges = merges;
  setSpecialTokenIds(data, ids);
  if (model === 't5') {
    const charsmap = numbers(meta, 'tokenizer.ggml.precompiled_charsmap');
    if (charsmap) data.precompiledCharsmap = Buffer.from(Uint8Array.from(charsmap, (b) => b & 0xff)).toString('base64');
    data.removeExtraWhitespaces = meta.getBool('tokenizer.ggml.remove_extra_whitespaces') ?? false;
  }
  if (model === 'bert') {
    data.lowercase = meta.getBool('tokenizer.ggml.normalizer.lowercase') ?? true;
    data.stripAccents = meta.getBool('tokenizer.ggml.normalizer.strip_accents') ?? data.lowercase;
  }
  Object.assign(data, stripAttributes(meta, tokens, types, pre));
  return data;
}

/** llama.cpp's per-model LSTRIP / RSTRIP token attributes (by pre-tokenizer, architecture or model name). */
function stripAttributes(meta: GgufMetadata, tokens: string[], types: number[], pre: string | undefined) {
  const any = (s: string | undefined, subs: string[]) => s !== undefined && subs.some((x) => s.includes(x));
  const id = (text: string) => {
    const i = tokens.lastIndexOf(text);
    return i === -1 ? [] : [i];
  };
  const name = meta.getString('general.name')?.toLowerCase();
  if (any(pre, ['jina-v2-de', 'jina-v2-es', 'jina-v2-code']) || any(meta.getString('general.architecture'), ['nomic-bert-moe', 'jina-bert-v3']))
    return { lstripTokenIds: id('<mask>') }; // prettier-ignore
  if (any(name, ['phi-3', 'phi3'])) {
    const special = (t: number) => t === TokenType.CONTROL || t === TokenType.USER_DEFINED || t === TokenType.UNKNOWN;
    const rstrip = new Set(types.flatMap((t, i) => (special(t) ? [i] : [])));
    for (const i of id('</s>')) rstrip.add(i);
    for (const i of ['<unk>', '<s>', '<|endoftext|>'].flatMap(id)) rstrip.delete(i);
    return { rstripTokenIds: [...rstrip].sort((a, b) => a - b) };
  }
  if (any(name, ['modern-bert'])) return { lstripTokenIds: id('[MASK]') };
  return {};
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
