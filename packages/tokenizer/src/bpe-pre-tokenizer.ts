/**
 * Pre-tokenizers of byte-level BPE vocabularies: every `tokenizer.ggml.pre` name llama.cpp's
 * llama_vocab::load knows, with the regex list its llm_tokenizer_bpe applies for that name (strings
 * verbatim from llama-vocab.cpp, in llama.cpp's adapted form: (?i:...) spelled out, applied by
 * unicode-regex-split.ts as unicode_regex_split does) and the per-name settings load() makes:
 *  - ignoreMerges: a word that is itself a token is not merged (Llama-3 style);
 *  - addBos: add_bos defaults to true (the file's add_bos_token still wins);
 *  - noBos: the vocabulary has no BOS token (GLM-4);
 *  - escapeWhitespace: spaces become U+2581 before splitting (Gemma-4, an SPM-style BPE);
 *  - byteEncode false: words stay raw UTF-8 (no GPT-2 byte alphabet) and unknown bytes map to <0xXX>;
 *  - newlineWords: a word of only newlines that is a token stays whole (Gemma-4).
 * A vocabulary without a pre name gets 'default', as in llama.cpp (which warns that quality degrades).
 */
import {
  AFMOE_DIGITS_REGEX,
  GPT2_REGEX,
  KIMI_K2_REGEX,
  LLAMA3_REGEX,
  NEWLINES_REGEX,
  QWEN2_REGEX,
  QWEN35_REGEX,
  TINY_AYA_DIGITS_REGEX,
} from './unicode-split-custom.js';

export interface BpePreTokenizerSpec {
  names: string[];
  regexes: string[];
  ignoreMerges?: boolean;
  addBos?: boolean;
  noBos?: boolean;
  escapeWhitespace?: boolean;
  byteEncode?: boolean;
  /** A word of only newlines that is a token is not merged (llama.cpp's Gemma-4 fix). */
  newlineWords?: boolean;
}

// Generated from llama-vocab.cpp (names per pre-tokenizer type, then that type's regex_exprs); the
// comment above each entry is llama.cpp's LLAMA_VOCAB_PRE_TYPE_*.
const SPECS: BpePreTokenizerSpec[] = [
  // DEFAULT
  { names: ['default'], regexes: ['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2_REGEX, '\\p{N}+', '[0-9][0-9][0-9]'] },
  // MINICPM5
  {
    names: ['minicpm5'],
    regexes: [
      '\\p{N}{1,3}',
      "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    ],
    ignoreMerges: true,
  },
  // LLAMA3
  {
    names: ['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'falcon-h1', 'pixtral', 'midm-2.0', 'lfm2', 'jina-v5-nano'],
    regexes: [LLAMA3_REGEX],
    ignoreMerges: true,
    addBos: true,
  },
  // DEEPSEEK_LLM
  {
    names: ['deepseek-llm'],
    regexes: [
      '[\r\n]',
      '\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+',
      '\\s?[!-/:-~！-／：-～‘-‟　-。]+',
      '\\s+$',
      '[一-龥ࠀ-一가-퟿]+',
      '\\p{N}+',
    ],
  },
  // DEEPSEEK_CODER
  { names: ['deepseek-coder'], regexes: ['[\r\n]', '\\s?\\p{L}+', '\\s?\\p{P}+', '[一-龥ࠀ-一가-퟿]+', '\\p{N}'] },
  // DEEPSEEK3_LLM
  {
    names: ['deepseek-v3'],
    regexes: [
      '\\p{N}{1,3}',
      '[一-龥぀-ゟ゠-ヿ]+',
      '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+',
    ],
  },
  // SPARK2_5
  {
    names: ['spark2_5'],
    regexes: [
      '\\p{N}{1,3}',
      '[一-龥぀-ゟ゠-ヿ]+',
      '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+',
      '\\p{N}',
    ],
  },
  // YOUTU
  {
    names: ['youtu'],
    regexes: [
      '[가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥぀-ゟ゠-ヿ]+',
      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    ],
    ignoreMerges: true,
  },
  // FALCON
  { names: ['falcon'], regexes: ['[\\p{P}\\$\\+<=>\\^~\\|`]+', GPT2_REGEX, '[0-9][0-9][0-9]'] },
  // MPT
  { names: ['mpt'], regexes: [GPT2_REGEX] },
  // STARCODER
  { names: ['starcoder'], regexes: ['\\p{N}', GPT2_REGEX] },
  // GPT2
  {
    names: [
      'gpt-2',
      'phi-2',
      'jina-es',
      'jina-de',
      'gigachat',
      'jina-v2-es',
      'jina-v2-de',
      'a.x-4.0',
      'mellum',
      'modern-bert',
      'jina-v1-en',
      'jina-v2-code',
      'roberta-bpe',
      'exaone4',
    ],
    regexes: [GPT2_REGEX],
  },
  // JAIS2
  {
    names: ['jais-2'],
    regexes: [
      "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}",
    ],
  },
  // GEMMA4
  {
    names: ['gemma4', 'granite-embed-multi-311m'],
    regexes: [NEWLINES_REGEX],
    escapeWhitespace: true,
    byteEncode: false,
    newlineWords: true,
  },
  // SARVAM_MOE
  { names: ['sarvam-moe'], regexes: [NEWLINES_REGEX], escapeWhitespace: true, byteEncode: false },
  // WHITESPACE
  { names: ['whitespace'], regexes: ['\\S+'], byteEncode: false },
  // REFACT
  { names: ['refact'], regexes: ['\\p{N}', GPT2_REGEX] },
  // COMMAND_R
  { names: ['command-r'], regexes: ['\\p{N}', GPT2_REGEX] },
  // QWEN2
  { names: ['qwen2', 'deepseek-r1-qwen', 'kormo', 'f2llmv2', 'megrez'], regexes: [QWEN2_REGEX] },
  // QWEN35
  { names: ['qwen35'], regexes: [QWEN35_REGEX] },
  // STABLELM2
  { names: ['stablelm2'], regexes: [QWEN2_REGEX] },
  // OLMO
  { names: ['olmo'], regexes: [GPT2_REGEX] },
  // DBRX
  { names: ['dbrx'], regexes: [LLAMA3_REGEX] },
  // SMAUG
  { names: ['smaug-bpe'], regexes: [LLAMA3_REGEX] },
  // PORO
  { names: ['poro-chat'], regexes: [' ?[^(\\s|.,!?…。，、।۔،)]+'] },
  // CHATGLM4
  { names: ['glm4', 'chatglm-bpe'], regexes: [LLAMA3_REGEX], noBos: true },
  // VIKING
  { names: ['viking'], regexes: [' ?[^(\\s|.,!?…。，、।۔،)]+', '\\p{N}'] },
  // JAIS
  { names: ['jais'], regexes: [GPT2_REGEX] },
  // TEKKEN
  {
    names: ['tekken'],
    regexes: [
      '[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+',
    ],
    ignoreMerges: true,
    addBos: true,
  },
  // SMOLLM
  { names: ['smollm'], regexes: ['\\p{N}', GPT2_REGEX] },
  // CODESHELL
  { names: ['codeshell'], regexes: ['\\p{N}', GPT2_REGEX] },
  // BLOOM
  { names: ['bloom'], regexes: [' ?[^(\\s|.,!?…。，、।۔،)]+'] },
  // GPT3_FINNISH
  { names: ['gpt3-finnish'], regexes: [' ?[^(\\s|.,!?…。，、।۔،)]+'] },
  // EXAONE
  { names: ['exaone'], regexes: ['\\p{N}', GPT2_REGEX] },
  // EXAONE_MOE
  {
    names: ['exaone-moe'],
    regexes: [
      "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
    ],
  },
  // CHAMELEON
  {
    names: ['chameleon'],
    regexes: [
      '<sentinel:[0-9]+>',
      '(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z',
      '([\\t\\n]|    |  )',
      '\\p{N}',
      '[\\p{P}!-/:-@\\[-`{-~]',
      GPT2_REGEX,
    ],
    addBos: true,
  },
  // MINERVA
  { names: ['minerva-7b'], regexes: ['\\p{N}', GPT2_REGEX] },
  // GPT4O
  {
    names: ['gpt-4o', 'llama4', 'kanana2', 'talkie'],
    regexes: [
      "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    ],
  },
  // GRANITE_EMB_MULTI
  {
    names: ['granite-embed-multi-97m'],
    regexes: [
      "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    ],
    ignoreMerges: true,
  },
  // TINY_AYA
  {
    names: ['tiny_aya', 'cohere2moe'],
    regexes: [
      TINY_AYA_DIGITS_REGEX,
      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    ],
  },
  // SUPERBPE
  { names: ['superbpe'], regexes: ['\\p{N}+', '(?=(\\d{3})+(?!\\d))'] },
  // TRILLION
  { names: ['trillion'], regexes: [GPT2_REGEX] },
  // GRANITE_DOCLING
  { names: ['granite-docling'], regexes: [GPT2_REGEX] },
  // BAILINGMOE
  {
    names: ['bailingmoe', 'bailingmoe2', 'llada-moe'],
    regexes: [
      "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
    ],
  },
  // SEED_CODER
  {
    names: ['seed-coder'],
    regexes: [
      "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    ],
  },
  // HUNYUAN
  { names: ['hunyuan'], regexes: [QWEN2_REGEX] },
  // HUNYUAN_DENSE
  {
    names: ['hunyuan-dense'],
    regexes: [
      '\\p{N}{1,3}',
      '[一-龥぀-ゟ゠-ヿ]+',
      '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+',
    ],
  },
  // HY_V4
  {
    names: ['hy_v4'],
    regexes: [
      '\\p{N}{1,3}',
      '[一-龥぀-ゟ゠-ヿ]+',
      '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+',
    ],
  },
  // JOYAI_LLM
  {
    names: ['joyai-llm'],
    regexes: [
      '\\p{N}{1,3}',
      '[一-龥぀-ゟ゠-ヿ]+',
      '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+',
    ],
  },
  // KIMI_K2
  { names: ['kimi-k2'], regexes: [KIMI_K2_REGEX] },
  // UFAKZEKA
  {
    names: ['ufakzeka'],
    regexes: ['[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+'],
  },
  // GROK_2
  { names: ['grok-2'], regexes: [QWEN2_REGEX] },
  // AFMOE
  {
    names: ['afmoe'],
    regexes: [
      AFMOE_DIGITS_REGEX,
      '[一-鿿㐀-䶿豈-﫿぀-ゟ゠-ヿ･-ﾟ⼀-⿟เ-๿຀-໿ក-៿က-႟ꩠ-ꩿꧠ-꧿가-힯ᄀ-ᇿ]+',
      '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+',
    ],
  },
  // LAGUNA
  { names: ['laguna'], regexes: [NEWLINES_REGEX, QWEN2_REGEX] },
  // MINIMAX_M2
  {
    names: ['minimax-m2'],
    regexes: [
      "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    ],
  },
  // SOLAR_OPEN
  { names: ['solar-open'], regexes: [QWEN2_REGEX] },
  // MELLUM2
  { names: ['mellum2'], regexes: ['\\p{N}', GPT2_REGEX] },
];

/** Pre-tokenizer names this package implements (all of llama.cpp's). */
export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = SPECS.flatMap((g) => g.names);

const byName = new Map(SPECS.flatMap((s) => s.names.map((n) => [n, s] as const)));

/** The spec of a pre-tokenizer name (undefined: 'default'); throws naming the supported ones when unknown. */
export function bpePreTokenizer(pre: string | undefined): BpePreTokenizerSpec {
  const spec = byName.get(pre ?? 'default');
  if (!spec)
    throw new Error(
      `unsupported BPE pre-tokenizer '${pre}' (tokenizer.ggml.pre); supported: ${SUPPORTED_PRE_TOKENIZERS.join(', ')}`,
    );
  return spec;
}

/** The regexes (llama.cpp form, applied in order) of a pre-tokenizer name; undefined when unknown. */
export function preTokenizerRegexes(name: string): readonly string[] | undefined {
  return byName.get(name)?.regexes;
}

/** The first name whose regex list is exactly `regexes` (llama.cpp form), if any. */
export function preTokenizerByRegexes(regexes: readonly string[]): string | undefined {
  const key = JSON.stringify(regexes);
  return SPECS.find((g) => JSON.stringify(g.regexes) === key)?.names[0];
}
