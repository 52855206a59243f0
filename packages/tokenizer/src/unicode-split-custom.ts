/**
 * llama.cpp's hand-written splitters (unicode.cpp unicode_regex_split_custom_*), which it uses instead
 * of std::regex for the regexes named in CUSTOM_SPLITS. Ported branch for branch, quirks included (they
 * are the reference, not the regex they stand for): each takes code points and the lengths of the
 * fragments found so far, and returns the lengths of the finer fragments (never 0, always covering).
 * Classes come from llama.cpp's tables (cptFlags); positions outside the fragment have flags 0.
 */
import { at } from '@loom/common';
import { CPT, cptFlags, cptToLower, inRanges } from './unicode-flags.js';

type Split = (cpts: readonly number[], offsets: readonly number[]) => number[];

const OUT = -1;
const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const QUOTE = 0x27;
const s = 0x73, t = 0x74, m = 0x6d, d = 0x64, r = 0x72, e = 0x65, v = 0x76, l = 0x6c; // prettier-ignore

interface Fragment {
  end: number;
  cpt(pos: number): number;
  flags(pos: number): number;
  /** Ends the current word at `end`; returns its length (0: nothing added). */
  add(end: number): number;
}

function eachFragment(cpts: readonly number[], offsets: readonly number[], body: (ini: number, f: Fragment) => void) {
  const out: number[] = [];
  let start = 0;
  for (const offset of offsets) {
    const ini = start;
    const end = start + offset;
    start = end;
    let prevEnd = ini;
    body(ini, {
      end,
      cpt: (p) => (p >= ini && p < end ? at(cpts, p) : OUT),
      flags: (p) => (p >= ini && p < end ? cptFlags(at(cpts, p)) : 0),
      add: (to) => {
        const len = to - prevEnd;
        if (len > 0) out.push(len);
        prevEnd = to;
        return len;
      },
    });
  }
  return out;
}

/** Length of the contraction ('s 't 'm 'd 're 've 'll) at pos, 0 if none; `lower` folds case (Llama-3 style). */
function contraction(f: Fragment, pos: number, lower: boolean): number {
  if (f.cpt(pos) !== QUOTE || pos + 1 >= f.end) return 0;
  const fold = (c: number) => (lower ? cptToLower(c) : c);
  const n = fold(f.cpt(pos + 1));
  if (n === s || n === t || n === m || n === d) return 2;
  if (pos + 2 >= f.end) return 0;
  const nn = fold(f.cpt(pos + 2));
  return (n === r && nn === e) || (n === v && nn === e) || (n === l && nn === l) ? 3 : 0;
}

/** Whitespace tail shared by every splitter: \s*[\r\n]+ (when `newlines`), \s+(?!\S), \s+, or one char. */
function whitespace(f: Fragment, pos: number, newlines: boolean): number {
  let n = 0;
  let lastRN = 0;
  while (f.flags(pos + n) & CPT.WHITESPACE) {
    const c = f.cpt(pos + n);
    if (c === CR || c === LF) lastRN = pos + n + 1;
    n++;
  }
  if (newlines && lastRN > 0) pos = lastRN;
  else if (n > 1 && f.cpt(pos + n) !== OUT) pos += n - 1;
  else if (n > 0) pos += n;
  else pos++;
  f.add(pos);
  return pos;
}

/** 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
const gpt2: Split = (cpts, offsets) =>
  eachFragment(cpts, offsets, (ini, f) => {
    for (let pos = ini; pos < f.end;) {
      const c = f.cpt(pos);
      const k = contraction(f, pos, false);
      if (k > 0) {
        pos += f.add(pos + k);
        continue;
      }
      let f2 = c === SPACE ? f.flags(pos + 1) : f.flags(pos);
      const run = (mask: number, not: boolean) => {
        pos += c === SPACE ? 1 : 0;
        while (not ? !(f2 & mask) && f2 : f2 & mask) f2 = f.flags(++pos);
        f.add(pos);
      };
      if (f2 & CPT.LETTER) run(CPT.LETTER, false);
      else if (f2 & CPT.NUMBER) run(CPT.NUMBER, false);
      else if (!(f2 & (CPT.WHITESPACE | CPT.LETTER | CPT.NUMBER)) && f2)
        run(CPT.WHITESPACE | CPT.LETTER | CPT.NUMBER, true);
      else pos = whitespace(f, pos, false);
    }
  });

/**
 * The tail of the Llama-3 family at `pos` (no contraction or letter run there): \p{N}{1,digits}, then
 * " ?[^\s\p{L}\p{N}]+[\r\n]*" (`notPunct`: the classes that end it), then whitespace. llama.cpp's
 * Llama-3 splitter tests the punctuation run's first char by the flags at `pos`, Kimi-K2's by those after
 * the optional space (`guardAfterSpace`). Returns the position after the word added.
 */
function numberPunctOrSpace(f: Fragment, pos: number, digits: number, notPunct: number, guardAfterSpace: boolean) {
  const c = f.cpt(pos);
  const flags = f.flags(pos);
  if (flags & CPT.NUMBER) {
    let at = pos;
    while (f.flags(pos) & CPT.NUMBER) {
      if (++pos - at >= digits) {
        f.add(pos);
        at = pos;
      }
    }
    f.add(pos);
    return pos;
  }
  let f2 = c === SPACE ? f.flags(pos + 1) : flags;
  if (!(f2 & notPunct) && (guardAfterSpace ? f2 : flags)) {
    pos += c === SPACE ? 1 : 0;
    while (!(f2 & notPunct) && f2) f2 = f.flags(++pos);
    for (let c2 = f.cpt(pos); c2 === CR || c2 === LF; c2 = f.cpt(++pos));
    f.add(pos);
    return pos;
  }
  return whitespace(f, pos, true);
}

/**
 * Llama-3 (\p{N}{1,3}), Qwen2 (\p{N}) and Qwen3.5 (marks join letters):
 * (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,digits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 */
function llama3Like(digits: number, marks: boolean): Split {
  const word = marks ? CPT.LETTER | CPT.ACCENT_MARK : CPT.LETTER;
  const notPunct = CPT.WHITESPACE | CPT.LETTER | CPT.NUMBER | (marks ? CPT.ACCENT_MARK : 0);
  return (cpts, offsets) =>
    eachFragment(cpts, offsets, (ini, f) => {
      for (let pos = ini; pos < f.end;) {
        const c = f.cpt(pos);
        const flags = f.flags(pos);
        const k = contraction(f, pos, true);
        if (k > 0) {
          pos += f.add(pos + k);
          continue;
        }
        if (!(c === CR || c === LF || flags & CPT.NUMBER) && (flags & word || f.flags(pos + 1) & word)) {
          pos++;
          while (f.flags(pos) & word) pos++;
          f.add(pos);
          continue;
        }
        pos = numberPunctOrSpace(f, pos, digits, notPunct, false);
      }
    });
}

/** Han code points (unicode_cpt_is_han). */
const HAN: readonly (readonly [number, number])[] = [
  [0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f], [0x2b740, 0x2b81f], [0x2b820, 0x2ceaf],
  [0x2ceb0, 0x2ebef], [0xf900, 0xfaff], [0x2f800, 0x2fa1f],
]; // prettier-ignore
const isHan = (c: number) => inRanges(c, HAN);

/** Kimi-K2: Han runs first, then Llama-3's split with letters excluding Han and contractions glued on. */
const kimiK2: Split = (cpts, offsets) =>
  eachFragment(cpts, offsets, (ini, f) => {
    const letter = (p: number) => (f.flags(p) & CPT.LETTER) !== 0 && !isHan(f.cpt(p));
    for (let pos = ini; pos < f.end;) {
      const c = f.cpt(pos);
      const flags = f.flags(pos);
      if (isHan(c)) {
        while (isHan(f.cpt(pos))) pos++;
        f.add(pos);
        continue;
      }
      const lead = !(c === CR || c === LF || flags & (CPT.LETTER | CPT.NUMBER));
      if (letter(pos) || (lead && letter(pos + 1))) {
        if (lead) pos++;
        let hasLetters = false;
        while (letter(pos)) {
          hasLetters = true;
          pos++;
        }
        if (hasLetters || (!lead && letter(pos))) {
          if (!hasLetters) pos++;
          while (letter(pos)) pos++;
          pos += contraction(f, pos, true);
          f.add(pos);
          continue;
        } else if (lead) pos--;
      }
      pos = numberPunctOrSpace(f, pos, 3, CPT.WHITESPACE | CPT.LETTER | CPT.NUMBER, true);
    }
  });

/**
 * AFMoE / tiny_aya digit groups: a run of digits splits into groups of three from the right. As in
 * llama.cpp, the text before a run is not a word of its own: it joins the run's first group.
 */
const digitGroups: Split = (cpts, offsets) =>
  eachFragment(cpts, offsets, (ini, f) => {
    for (let pos = ini; pos < f.end;) {
      if (!(f.flags(pos) & CPT.NUMBER)) {
        pos++;
        continue;
      }
      const first = pos;
      while (f.flags(pos) & CPT.NUMBER && pos < f.end) pos++;
      let at = first + ((pos - first) % 3);
      if (at > first) f.add(at);
      for (; at < pos; at += 3) f.add(at + 3);
    }
    f.add(f.end);
  });

/** [^\n]+|[\n]+ : runs of non-newlines and runs of newlines. */
const newlineRuns: Split = (cpts, offsets) =>
  eachFragment(cpts, offsets, (ini, f) => {
    for (let pos = ini; pos < f.end;) {
      const nl = f.cpt(pos) === LF;
      while (pos < f.end && (f.cpt(pos) === LF) === nl) pos++;
      f.add(pos);
    }
  });

export const GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
export const LLAMA3_REGEX = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
export const QWEN2_REGEX = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
export const QWEN35_REGEX = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
export const NEWLINES_REGEX = '[^\\n]+|[\\n]+';
export const KIMI_K2_REGEX = '\\p{Han}+';
export const AFMOE_DIGITS_REGEX = '\\p{AFMoE_digits}';
export const TINY_AYA_DIGITS_REGEX = '\\d{1,3}(?=(?:\\d{3})*\\b)';

/** Regex strings llama.cpp replaces by a hand-written splitter (unicode_regex_split_custom). */
export const CUSTOM_SPLITS: ReadonlyMap<string, Split> = new Map([
  [GPT2_REGEX, gpt2],
  [LLAMA3_REGEX, llama3Like(3, false)],
  [LLAMA3_REGEX.replace(CONTRACTIONS, "(?i:'s|'t|'re|'ve|'m|'ll|'d)"), llama3Like(3, false)],
  [QWEN2_REGEX, llama3Like(1, false)],
  [QWEN35_REGEX, llama3Like(1, true)],
  [KIMI_K2_REGEX, kimiK2],
  [AFMOE_DIGITS_REGEX, digitGroups],
  [NEWLINES_REGEX, newlineRuns],
  [TINY_AYA_DIGITS_REGEX, digitGroups],
]);
