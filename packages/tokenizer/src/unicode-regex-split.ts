/**
 * Port of llama.cpp's unicode_regex_split: a list of regexes, each refining the fragments the previous
 * one produced (a match never crosses a fragment; unmatched text stays a fragment of its own, so the
 * words always concatenate back to the input). Per regex, as llama.cpp decides:
 *  - a hand-written splitter for the regexes in CUSTOM_SPLITS;
 *  - a regex using \p{N} \p{L} \p{P} \p{M} \p{S} (\p{Lu} .. \p{Lo} count as \p{L}) runs on the
 *    "collapsed" text: each non-ASCII code point replaced by one marker char of its llama.cpp class
 *    (whitespace → \v), each \p{X} by [marker + the ASCII members of X];
 *  - any other regex runs on the code points, non-ASCII whitespace replaced by \v, with \s meaning
 *    C's isspace ([\t-\r ]) as std::wregex has it (JS's \s also matches U+FEFF).
 * std::regex_iterator treats an empty match as a split point; so does this port (only the superbpe
 * regex matches empty), and then searches on from the next code point.
 * Offsets and lengths are in code points throughout.
 */
import { at } from '@loom/common';
import { CUSTOM_SPLITS } from './unicode-split-custom.js';
import { CPT, cptFlags } from './unicode-flags.js';

/** Class markers of the collapsed text and the ASCII members of each class (llama.cpp's k_ucat_*). */
type Category = 'N' | 'L' | 'P' | 'M' | 'S';
const CATEGORIES: Record<Category, { marker: string; ascii: string }> = {
  N: { marker: '\xd1', ascii: '0-9' },
  L: { marker: '\xd2', ascii: 'A-Za-z' },
  P: { marker: '\xd3', ascii: '!-#%-*,-/:-;?-@\\[-\\]_\\{\\}' },
  M: { marker: '\xd4', ascii: '' },
  S: { marker: '\xd5', ascii: '\\$\\+<->^`\\|\\~' },
};
const CATEGORY_NAMES: Record<string, Category> = { N: 'N', L: 'L', P: 'P', M: 'M', S: 'S', Lu: 'L', Ll: 'L', Lt: 'L', Lm: 'L', Lo: 'L' }; // prettier-ignore
const usesCategory = (re: string) => Object.keys(CATEGORY_NAMES).some((k) => re.includes(`\\p{${k}}`));

/** Marker of a non-ASCII code point in the collapsed text. */
function collapsedChar(cp: number): string {
  const f = cptFlags(cp);
  if (f & CPT.WHITESPACE) return '\x0b';
  if (f & CPT.NUMBER) return '\xd1';
  if (f & CPT.LETTER) return '\xd2';
  if (f & CPT.PUNCTUATION) return '\xd3';
  if (f & CPT.ACCENT_MARK) return '\xd4';
  if (f & CPT.SYMBOL) return '\xd5';
  return '\xd0';
}

/** The collapsed form of a regex, character for character as llama.cpp builds it. */
function collapseRegex(re: string): string {
  let out = '';
  let inside = false;
  for (let i = 0; i < re.length; i++) {
    const ch = re.charAt(i);
    if (ch.charCodeAt(0) >= 128) throw new Error(`regex ${re}: unicode categories and non-ASCII characters together`);
    if (ch === '[' && (i === 0 || re[i - 1] !== '\\')) {
      out += '[';
      inside = true;
      continue;
    }
    if (inside && ch === ']' && re[i - 1] !== '\\') {
      out += ']';
      inside = false;
      continue;
    }
    if (ch === '\\' && i + 3 < re.length && re[i + 1] === 'p' && re[i + 2] === '{') {
      const close = re.indexOf('}', i + 3);
      const name = close !== -1 && close <= i + 10 ? CATEGORY_NAMES[re.slice(i + 3, close)] : undefined;
      if (name) {
        const { marker, ascii } = CATEGORIES[name];
        out += inside ? marker + ascii : `[${marker}${ascii}]`;
        i = close;
        continue;
      }
    }
    out += ch;
  }
  if (/\\p\{/.test(out)) throw new Error(`regex ${re}: unsupported unicode category`);
  return out;
}

/** \s and \S as C's isspace (what std::wregex matches in the C locale), for a JS regex source. */
function cWhitespace(re: string): string {
  let out = '';
  let inside = false;
  for (let i = 0; i < re.length; i++) {
    const ch = re.charAt(i);
    if (ch === '\\' && i + 1 < re.length) {
      const next = re.charAt(i + 1);
      if (next === 's') out += inside ? '\\t-\\r ' : '[\\t-\\r ]';
      else if (next === 'S' && !inside) out += '[^\\t-\\r ]';
      else if (next === 'S') throw new Error(`regex ${re}: \\S inside a character class is not supported`);
      else out += ch + next;
      i++;
      continue;
    }
    if (ch === '[') inside = true;
    else if (ch === ']') inside = false;
    out += ch;
  }
  return out;
}

type Step =
  | { kind: 'custom'; split: (cpts: readonly number[], offsets: readonly number[]) => number[] }
  | { kind: 'regex'; collapsed: boolean; re: RegExp };

/** A compiled regex list (one per tokenizer); split() is reentrant. */
export class RegexSplitter {
  private readonly steps: Step[];

  constructor(readonly regexes: readonly string[]) {
    this.steps = regexes.map((src): Step => {
      const custom = CUSTOM_SPLITS.get(src);
      if (custom) return { kind: 'custom', split: custom };
      try {
        return usesCategory(src)
          ? { kind: 'regex', collapsed: true, re: new RegExp(collapseRegex(src), 'g') }
          : { kind: 'regex', collapsed: false, re: new RegExp(cWhitespace(src), 'gu') };
      } catch (e) {
        throw new Error(`pre-tokenizer regex ${JSON.stringify(src)} does not compile: ${(e as Error).message}`);
      }
    });
  }

  /** Lengths (code points, all > 0) of the words of `cpts`, in order. */
  split(cpts: readonly number[]): number[] {
    if (cpts.length === 0) return [];
    let offsets = [cpts.length];
    let collapsed: string | undefined;
    let wide: string[] | undefined;
    for (const step of this.steps) {
      if (step.kind === 'custom') {
        offsets = step.split(cpts, offsets);
        continue;
      }
      if (step.collapsed) {
        collapsed ??= collapse(cpts);
        offsets = regexOffsets(offsets, step.re, (a, b) => collapsed!.slice(a, b), false);
      } else {
        wide ??= cpts.map((c) => (c > 0x7f && cptFlags(c) & CPT.WHITESPACE ? '\x0b' : String.fromCodePoint(c)));
        offsets = regexOffsets(offsets, step.re, (a, b) => wide!.slice(a, b).join(''), true);
      }
    }
    return offsets;
  }
}

function collapse(cpts: readonly number[]): string {
  let s = '';
  for (const c of cpts) s += c < 128 ? String.fromCharCode(c) : collapsedChar(c);
  return s;
}

/** unicode_regex_split_stl over each fragment; `text(a, b)` is the fragment [a, b) as the regex sees it. */
function regexOffsets(offsets: number[], re: RegExp, text: (a: number, b: number) => string, astral: boolean) {
  const out: number[] = [];
  let start = 0;
  for (const len of offsets) {
    const frag = text(start, start + len);
    // UTF-16 index → code point index; identity unless the fragment has astral characters.
    const toCp = astral && frag.length !== len ? utf16ToCp(frag) : undefined;
    const cp = (i: number) => (toCp ? at(toCp, i) : i);
    let last = 0;
    re.lastIndex = 0;
    for (let m = re.exec(frag); m !== null; m = re.exec(frag)) {
      const at = cp(m.index);
      const end = cp(m.index + m[0].length);
      if (at > last) out.push(at - last);
      if (end > at) out.push(end - at);
      last = end;
      if (m[0].length === 0) re.lastIndex += astral && frag.codePointAt(m.index)! > 0xffff ? 2 : 1;
    }
    if (last < len) out.push(len - last);
    start += len;
  }
  return out;
}

function utf16ToCp(s: string): Uint32Array {
  const map = new Uint32Array(s.length + 1);
  let cp = 0;
  for (let i = 0; i < s.length; i++) {
    map[i] = cp;
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) map[++i] = cp;
    cp++;
  }
  map[s.length] = cp;
  return map;
}
