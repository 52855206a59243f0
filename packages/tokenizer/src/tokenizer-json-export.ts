/**
 * The inverse of tokenizerDataFromHf: a Hugging Face tokenizer.json + tokenizer_config.json for a
 * TokenizerData (e.g. one read from a GGUF), laid out as transformers' converters write them:
 *  - SPM (`llama`): every piece in model.vocab, merges generated like transformers'
 *    SentencePieceExtractor (each NORMAL piece's splits into two vocabulary pieces, ordered by the pieces'
 *    ids, all sorted stably by descending piece score), byte_fallback, Prepend('▁') + Replace(' ', '▁').
 *  - byte-level BPE (`gpt2`): added tokens outside model.vocab, the pre-tokenizer's regexes as Split
 *    steps before a ByteLevel(use_regex=false) (GPT-2's own regex as ByteLevel(use_regex=true)).
 * Used to test the tokenizer.json path against the GGUF vectors and to write Hugging Face model
 * directories from GGUF files.
 */
import type { TokenizerData } from '@loom/common';
import { bpePreTokenizer, preTokenizerRegexes } from './bpe-pre-tokenizer.js';
import { jsRegexToHf } from './tokenizer-json.js';
import { TokenType } from './token-type.js';

export interface HfTokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

function spmMerges(data: TokenizerData): string[] {
  const ids = new Map(data.tokens.map((t, i) => [t, i]));
  const scores = data.scores ?? [];
  const merges: { text: string; score: number }[] = [];
  data.tokens.forEach((piece, id) => {
    if ((data.tokenTypes?.[id] ?? TokenType.NORMAL) !== TokenType.NORMAL) return;
    const chars = [...piece];
    const local: { l: number; r: number; text: string }[] = [];
    for (let k = 1; k < chars.length; k++) {
      const a = chars.slice(0, k).join('');
      const b = chars.slice(k).join('');
      const l = ids.get(a);
      const r = ids.get(b);
      if (l !== undefined && r !== undefined) local.push({ l, r, text: `${a} ${b}` });
    }
    local.sort((x, y) => x.l - y.l || x.r - y.r);
    for (const m of local) merges.push({ text: m.text, score: scores[id] ?? 0 });
  });
  // Array.prototype.sort is stable, as Python's sorted().
  return merges.sort((x, y) => y.score - x.score).map((m) => m.text);
}

export function hfTokenizerFromData(data: TokenizerData, chatTemplate?: string): HfTokenizerFiles {
  const isSpm = data.model === 'llama';
  const spec = isSpm ? undefined : bpePreTokenizer(data.pre);
  if (!isSpm && (data.model !== 'gpt2' || spec?.byteEncode === false))
    throw new Error(`cannot export tokenizer model '${data.model}' (supported: llama, gpt2 byte-level)`);
  const type = (id: number) => data.tokenTypes?.[id] ?? TokenType.NORMAL;
  const isAdded = (id: number) =>
    type(id) === TokenType.CONTROL || type(id) === TokenType.USER_DEFINED || type(id) === TokenType.UNKNOWN;
  const vocab: Record<string, number> = {};
  const added: Record<string, unknown>[] = [];
  data.tokens.forEach((t, id) => {
    if (isAdded(id)) {
      const special = type(id) !== TokenType.USER_DEFINED;
      added.push({ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: !special, special });
      if (!isSpm) return;
    }
    vocab[t] = id;
  });
  const text = (id: number | undefined) => (id === undefined ? null : data.tokens[id]);
  const bos = text(data.bosTokenId);
  const model: Record<string, unknown> = {
    type: 'BPE',
    dropout: null,
    unk_token: text(data.unknownTokenId),
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: isSpm,
    byte_fallback: isSpm,
    ignore_merges: spec?.ignoreMerges === true,
    vocab,
    merges: isSpm ? spmMerges(data) : (data.merges ?? []),
  };
  let normalizer: unknown = null;
  let preTokenizer: unknown;
  if (isSpm) {
    const steps: unknown[] = [{ type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }];
    if (data.addSpacePrefix) steps.unshift({ type: 'Prepend', prepend: '\u2581' });
    normalizer = { type: 'Sequence', normalizers: steps };
    preTokenizer = null;
  } else if (data.pre === 'gpt-2') {
    preTokenizer = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  } else {
    const regexes = preTokenizerRegexes(data.pre ?? 'default');
    if (!regexes) throw new Error(`cannot export BPE pre-tokenizer '${String(data.pre)}'`);
    preTokenizer = {
      type: 'Sequence',
      pretokenizers: [
        ...regexes.map((r) => ({
          type: 'Split',
          pattern: { Regex: jsRegexToHf(r) },
          behavior: 'Isolated',
          invert: false,
        })),
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    };
  }
  const single: unknown[] = [{ Sequence: { id: 'A', type_id: 0 } }];
  if (data.addBosToken && bos !== null) single.unshift({ SpecialToken: { id: bos, type_id: 0 } });
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer,
    pre_tokenizer: preTokenizer,
    post_processor: { type: 'TemplateProcessing', single, pair: single, special_tokens: {} },
    decoder: isSpm
      ? {
          type: 'Sequence',
          decoders: [
            { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
            { type: 'ByteFallback' },
            { type: 'Fuse' },
          ],
        }
      : { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model,
  };
  const tokenizerConfig: Record<string, unknown> = {
    add_bos_token: data.addBosToken,
    add_eos_token: data.addEosToken,
    bos_token: bos,
    eos_token: text(data.eosTokenId),
    unk_token: text(data.unknownTokenId),
    tokenizer_class: isSpm ? 'LlamaTokenizer' : 'PreTrainedTokenizerFast',
  };
  if (data.paddingTokenId !== undefined) tokenizerConfig['pad_token'] = text(data.paddingTokenId);
  if (chatTemplate !== undefined) tokenizerConfig['chat_template'] = chatTemplate;
  return { tokenizerJson, tokenizerConfig };
}
