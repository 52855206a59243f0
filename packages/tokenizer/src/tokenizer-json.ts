/**
 * TokenizerData from a Hugging Face `tokenizer.json` (+ `tokenizer_config.json`), the same shape
 * tokenizerDataFromGguf produces, so one Tokenizer serves both. Two kinds are understood, as llama.cpp's
 * convert_hf_to_gguf.py maps them:
 *  - byte-level BPE (GPT-2, Llama-3, Qwen2, ...): model BPE + a ByteLevel pre-tokenizer. The pre-tokenizer
 *    is named (`pre`) by matching its Split regexes (plus GPT-2's when ByteLevel.use_regex) against the
 *    regex lists bpe-pre-tokenizer.ts implements; an unknown list is an error that shows the regexes.
 *  - SentencePiece-style (Llama-2, Mistral, TinyLlama): model BPE with byte_fallback and a '▁'
 *    normalizer (Prepend + Replace) or Metaspace pre-tokenizer. It maps to the SPM path: the SPM merge
 *    loop merges the pair whose result has the highest score, HF's BPE the pair of lowest merge rank, and
 *    transformers' converter lists merges by descending piece score, so score(piece) = -(rank of the first
 *    merge producing it) makes the two loops pick the same pairs. Multi-char pieces no merge produces
 *    score below every merge (-(merges + id)); single chars, bytes and specials score 0 (never merged).
 * Token types, as the converter assigns them: the unk token UNKNOWN, special added tokens CONTROL, other
 * added tokens USER_DEFINED, `<0xXX>` under byte_fallback BYTE, the rest NORMAL.
 * Special ids come from tokenizer_config.json (bos_token / eos_token / pad_token as strings or AddedToken
 * objects), else from the post-processor's template (its leading special token is BOS).
 */
import { at, type TokenizerData } from '@loom/common';
import { preTokenizerByRegexes, preTokenizerRegexes } from './bpe-pre-tokenizer.js';
import { resolveSpecialTokens, setSpecialTokenIds } from './special-tokens.js';
import { TokenType } from './token-type.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** HF (Rust regex) spelling of the case-insensitive contractions, and the JS one bpe-pre-tokenizer.ts uses. */
const HF_CONTRACTIONS = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
const JS_CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
/** What ByteLevel with use_regex applies: GPT-2's split. */
const BYTE_LEVEL_PRE = 'gpt-2';

export const hfRegexToJs = (r: string) => r.replaceAll(HF_CONTRACTIONS, JS_CONTRACTIONS);
export const jsRegexToHf = (r: string) => r.replaceAll(JS_CONTRACTIONS, HF_CONTRACTIONS);

/** Components of a possibly nested `Sequence` normalizer / pre-tokenizer / post-processor, flattened. */
function components(v: unknown): Obj[] {
  if (!isObj(v)) return [];
  const inner = v['normalizers'] ?? v['pretokenizers'] ?? v['processors'];
  if (v['type'] === 'Sequence' && Array.isArray(inner)) return inner.flatMap(components);
  return [v];
}

/** Text of a tokenizer_config special token: a string or an AddedToken object {content}. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v['content'] === 'string') return v['content'];
  return undefined;
}

function mergeString(m: unknown, source: string): string {
  if (typeof m === 'string') return m;
  if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string')
    return `${m[0]} ${m[1]}`;
  throw new Error(`${source}: model.merges holds ${JSON.stringify(m)}, expected "a b" or ["a", "b"]`);
}

/** The leading special token of the post-processor's single-sequence template (the BOS it adds), if any. */
function templateBos(postProcessor: unknown): string | undefined {
  for (const p of components(postProcessor)) {
    if (p['type'] !== 'TemplateProcessing' || !Array.isArray(p['single'])) continue;
    const first = p['single'][0];
    if (isObj(first) && isObj(first['SpecialToken'])) return String(first['SpecialToken']['id']);
    return undefined;
  }
  return undefined;
}

/** Name of the BPE pre-tokenizer a tokenizer.json describes; throws naming the regexes when unsupported. */
function preTokenizerName(preTokenizer: unknown, source: string): string {
  const regexes: string[] = [];
  for (const p of components(preTokenizer)) {
    if (p['type'] === 'Split') {
      const pattern = p['pattern'];
      const re = isObj(pattern) ? (pattern['Regex'] ?? pattern['String']) : undefined;
      if (typeof re !== 'string' || p['invert'] === true)
        throw new Error(`${source}: unsupported Split pre-tokenizer ${JSON.stringify(p)}`);
      regexes.push(hfRegexToJs(re));
    } else if (p['type'] === 'ByteLevel' && p['use_regex'] !== false) {
      regexes.push(...preTokenizerRegexes(BYTE_LEVEL_PRE)!);
    }
  }
  const name = preTokenizerByRegexes(regexes);
  if (!name)
    throw new Error(
      `${source}: unsupported BPE pre-tokenizer regexes ${JSON.stringify(regexes)}; supported are those of ` +
        `llama.cpp's named pre-tokenizers (llama-bpe, qwen2, gpt-2, deepseek-coder, ...)`,
    );
  return name;
}

/**
 * TokenizerData of a Hugging Face tokenizer.json (parsed) and its tokenizer_config.json (parsed, or {}).
 * `source` names the file in errors.
 */
export function tokenizerDataFromHf(
  tokenizerJson: unknown,
  tokenizerConfig: unknown = {},
  source = 'tokenizer.json',
): TokenizerData {
  if (!isObj(tokenizerJson) || !isObj(tokenizerJson['model']))
    throw new Error(`${source}: not a tokenizer.json (no "model" object)`);
  const cfg: Obj = isObj(tokenizerConfig) ? tokenizerConfig : {};
  const model = tokenizerJson['model'];
  if (model['type'] !== 'BPE') {
    throw new Error(
      `${source}: tokenizer model type '${String(model['type'])}' is not supported (supported: BPE, byte-level or SentencePiece-style with byte_fallback)`,
    );
  }
  const vocab = model['vocab'];
  if (!isObj(vocab)) throw new Error(`${source}: model.vocab must be an object of token -> id`);
  const added = Array.isArray(tokenizerJson['added_tokens']) ? tokenizerJson['added_tokens'].filter(isObj) : [];

  const tokens: string[] = [];
  const put = (text: string, id: unknown) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 10_000_000)
      throw new Error(`${source}: token ${JSON.stringify(text)} has an invalid id ${String(id)}`);
    tokens[id] = text;
  };
  for (const [text, id] of Object.entries(vocab)) put(text, id);
  for (const t of added) put(String(t['content']), t['id']);
  for (let i = 0; i < tokens.length; i++) if (tokens[i] === undefined) tokens[i] = ''; // holes: unused ids, rendered as nothing
  const ids = new Map(tokens.map((t, i) => [t, i]));
  const idOf = (text: string | undefined) => (text === undefined ? undefined : ids.get(text));

  const normalizers = components(tokenizerJson['normalizer']);
  const pres = components(tokenizerJson['pre_tokenizer']);
  const metaspace = pres.find((p) => p['type'] === 'Metaspace');
  const prepends = normalizers.some((n) => n['type'] === 'Prepend' && n['prepend'] === '\u2581');
  const isSpm = model['byte_fallback'] === true || prepends || metaspace !== undefined;
  const isByteLevel = pres.some((p) => p['type'] === 'ByteLevel');
  if (!isSpm && !isByteLevel)
    throw new Error(
      `${source}: a BPE tokenizer without a ByteLevel pre-tokenizer or SentencePiece-style byte_fallback / '▁' handling is not supported`,
    );

  const merges = (Array.isArray(model['merges']) ? model['merges'] : []).map((m) => mergeString(m, source));
  const unk = idOf(typeof model['unk_token'] === 'string' ? model['unk_token'] : undefined);
  const types = tokens.map(() => TokenType.NORMAL as number);
  if (isSpm)
    tokens.forEach((t, i) => {
      if (/^<0x[0-9A-Fa-f]{2}>$/.test(t)) types[i] = TokenType.BYTE;
    });
  tokens.forEach((t, i) => {
    if (t === '' && !(t in vocab)) types[i] = TokenType.UNUSED;
  });
  for (const t of added) types[t['id'] as number] = t['special'] === false ? TokenType.USER_DEFINED : TokenType.CONTROL;
  if (unk !== undefined) types[unk] = TokenType.UNKNOWN;

  const addBos =
    typeof cfg['add_bos_token'] === 'boolean'
      ? cfg['add_bos_token']
      : templateBos(tokenizerJson['post_processor']) !== undefined;
  const data: TokenizerData = {
    model: isSpm ? 'llama' : 'gpt2',
    tokens,
    tokenTypes: types,
    addBosToken: addBos,
    addEosToken: cfg['add_eos_token'] === true,
  };
  if (isSpm) {
    data.addSpacePrefix =
      prepends ||
      (metaspace !== undefined && metaspace['prepend_scheme'] !== 'never' && metaspace['add_prefix_space'] !== false);
    const scores = tokens.map((t, i) =>
      types[i] === TokenType.NORMAL && [...t].length > 1 ? -(merges.length + i) : 0,
    );
    merges.forEach((m, rank) => {
      const id = ids.get(m.replace(' ', ''));
      if (id !== undefined && types[id] === TokenType.NORMAL && at(scores, id) < -rank) scores[id] = -rank;
    });
    data.scores = scores;
  } else {
    data.merges = merges;
    data.pre = preTokenizerName(tokenizerJson['pre_tokenizer'], source);
  }
  const { ids: special, eog } = resolveSpecialTokens(tokens, types, {
    bos: idOf(tokenText(cfg['bos_token']) ?? templateBos(tokenizerJson['post_processor'])),
    eos: idOf(tokenText(cfg['eos_token'])),
    unk,
    pad: idOf(tokenText(cfg['pad_token'])),
  });
  setSpecialTokenIds(data, special);
  data.eogTokenIds = eog;
  return data;
}

/**
 * The chat template of a tokenizer_config.json: a string, or the "default" of a list of {name,
 * template}; with `name` ('tool_use'), only that named one.
 */
export function chatTemplateFromHf(tokenizerConfig: unknown, name?: string): string | undefined {
  if (!isObj(tokenizerConfig)) return undefined;
  const t = tokenizerConfig['chat_template'];
  if (typeof t === 'string') return name === undefined ? t : undefined;
  if (Array.isArray(t)) {
    const named = t.filter(isObj);
    const pick =
      name === undefined
        ? (named.find((x) => x['name'] === 'default') ?? named[0])
        : named.find((x) => x['name'] === name);
    return typeof pick?.['template'] === 'string' ? pick['template'] : undefined;
  }
  return undefined;
}
