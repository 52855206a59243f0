/**
 * Pre-tokenizer of byte-level BPE models: the regex lists llama.cpp's llm_tokenizer_bpe uses per
 * `tokenizer.ggml.pre` name, applied the way unicode_regex_split applies them: each regex refines the
 * fragments the previous one produced, a match never crosses a fragment boundary, and text a regex
 * does not match stays as a fragment of its own (nothing is dropped, so the words concatenate back to
 * the input). Regexes are llama.cpp's literal strings; the Llama-3 / Qwen2 ones already spell the
 * case-insensitive contractions `(?i:'s|...)` as `'[sS]|...` because JS has no inline flags.
 */

const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const LLAMA3 =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2 =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const GROUPS: { names: string[]; regexes: string[] }[] = [
  { names: ['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'pixtral', 'dbrx', 'smaug-bpe'], regexes: [LLAMA3] },
  { names: ['qwen2', 'deepseek-r1-qwen'], regexes: [QWEN2] },
  { names: ['gpt-2', 'phi-2', 'mpt', 'olmo', 'jais', 'roberta-bpe'], regexes: [GPT2] },
  {
    names: ['deepseek-coder'],
    regexes: ['[\r\n]', '\\s?\\p{L}+', '\\s?\\p{P}+', '[一-龥ࠀ-一가-퟿]+', '\\p{N}'],
  },
  { names: ['starcoder', 'refact', 'command-r', 'smollm', 'codeshell', 'exaone'], regexes: ['\\p{N}', GPT2] },
  { names: ['default'], regexes: ['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2, '\\p{N}+', '[0-9][0-9][0-9]'] },
];

/** Pre-tokenizer names this package implements. */
export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = GROUPS.flatMap((g) => g.names);

/** The regexes (JS syntax, applied in order) of a pre-tokenizer name; undefined when unsupported. */
export function preTokenizerRegexes(name: string): readonly string[] | undefined {
  return GROUPS.find((g) => g.names.includes(name))?.regexes;
}

/** The first supported name whose regex list is exactly `regexes` (JS syntax), if any. */
export function preTokenizerByRegexes(regexes: readonly string[]): string | undefined {
  const key = JSON.stringify(regexes);
  return GROUPS.find((g) => JSON.stringify(g.regexes) === key)?.names[0];
}

/** Names whose llama.cpp vocab sets `ignore_merges`: a word that is a whole token is not merged. */
export const IGNORE_MERGES_PRE = new Set(GROUPS[0]!.names);

export class BpePreTokenizer {
  private readonly regexes: RegExp[];

  /** `pre` undefined means llama.cpp's 'default' (a GGUF converted without a pre-tokenizer name). */
  constructor(readonly pre: string | undefined) {
    const name = pre ?? 'default';
    const group = GROUPS.find((g) => g.names.includes(name));
    if (!group) {
      throw new Error(
        `unsupported BPE pre-tokenizer '${name}' (tokenizer.ggml.pre); supported: ${SUPPORTED_PRE_TOKENIZERS.join(', ')}`,
      );
    }
    this.regexes = group.regexes.map((r) => new RegExp(r, 'gu'));
  }

  /** Splits text into words; their concatenation is always `text`. */
  split(text: string): string[] {
    let frags = [text];
    for (const re of this.regexes) {
      const next: string[] = [];
      for (const frag of frags) splitOne(frag, re, next);
      frags = next;
    }
    return frags;
  }
}

function splitOne(frag: string, re: RegExp, out: string[]): void {
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(frag); m !== null; m = re.exec(frag)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    if (m.index > last) out.push(frag.slice(last, m.index));
    out.push(m[0]);
    last = m.index + m[0].length;
  }
  if (last < frag.length) out.push(frag.slice(last));
}
