/**
 * Code point classes as llama.cpp's unicode.cpp has them (its tables, decoded from unicode-data.ts),
 * not as Node's ICU has them: llama.cpp's tables are an older Unicode version, and a pre-tokenizer must
 * call a character a letter exactly when llama.cpp does. Also its one-code-point lowercase and NFD maps
 * (used by WordPiece), and UTF-16 → code point conversion with llama.cpp's view of bad input.
 */
import { at } from '@loom/common';
import { FLAG_RANGES, LOWERCASE, NFD, WHITESPACE } from './unicode-data.js';

/** Bits of llama.cpp's unicode_cpt_flags. Every code point in range has exactly one category bit. */
export const CPT = {
  UNDEFINED: 0x1,
  NUMBER: 0x2,
  LETTER: 0x4,
  SEPARATOR: 0x8,
  ACCENT_MARK: 0x10,
  PUNCTUATION: 0x20,
  SYMBOL: 0x40,
  CONTROL: 0x80,
  WHITESPACE: 0x100,
} as const;

const MAX_CODEPOINTS = 0x110000;
const REPLACEMENT = 0xfffd;

function decode(table: string): number[][] {
  return table.split(',').map((e) => e.split(':').map((x) => parseInt(x, 36)));
}

// Flags of the BMP in a flat table (128 KiB); above it a binary search over the ranges.
const ranges = decode(FLAG_RANGES);
const starts = new Uint32Array(ranges.length);
const rangeFlags = new Uint16Array(ranges.length);
const bmp = new Uint16Array(0x10000);
{
  let start = 0;
  ranges.forEach(([delta, flags], i) => {
    start += delta!;
    starts[i] = start;
    rangeFlags[i] = flags!;
  });
  for (let i = 0; i + 1 < ranges.length && at(starts, i) < 0x10000; i++)
    bmp.fill(at(rangeFlags, i), at(starts, i), Math.min(at(starts, i + 1), 0x10000));
  for (const cp of WHITESPACE) bmp[cp] = at(bmp, cp) | CPT.WHITESPACE; // all of llama.cpp's whitespace is in the BMP
}

/** llama.cpp's flags of a code point (0 never: an unassigned code point is UNDEFINED). */
export function cptFlags(cp: number): number {
  if (cp < 0x10000) return bmp[cp] ?? CPT.UNDEFINED; // misses only for a negative cp
  if (cp >= MAX_CODEPOINTS) return CPT.UNDEFINED;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (at(starts, mid) <= cp) lo = mid;
    else hi = mid - 1;
  }
  return at(rangeFlags, lo);
}

const lower = new Map<number, number>();
{
  let from = 0;
  for (const [delta, diff] of decode(LOWERCASE)) {
    from += delta!;
    lower.set(from, from + diff!);
  }
}

/** unicode_tolower: the one-code-point lowercase mapping, or the code point itself. */
export function cptToLower(cp: number): number {
  return lower.get(cp) ?? cp;
}

const nfd = decode(NFD);
const nfdStart = new Uint32Array(nfd.length);
const nfdLast = new Uint32Array(nfd.length);
const nfdBase = new Uint32Array(nfd.length);
{
  let start = 0;
  nfd.forEach(([delta, span, base], i) => {
    start += delta!;
    nfdStart[i] = start;
    nfdLast[i] = start + span!;
    nfdBase[i] = base!;
  });
}

/** unicode_cpts_normalize_nfd for one code point: a decomposable one becomes its first code point (é → e). */
export function cptNfd(cp: number): number {
  let lo = 0;
  let hi = nfdStart.length - 1;
  if (cp < at(nfdStart, 0)) return cp;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (at(nfdStart, mid) <= cp) lo = mid;
    else hi = mid - 1;
  }
  return cp <= at(nfdLast, lo) ? at(nfdBase, lo) : cp;
}

/** Code points of a string; a lone surrogate becomes U+FFFD, as its UTF-8 encoding would. */
export function codepoints(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        out.push(0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00));
        i++;
        continue;
      }
    }
    out.push(c >= 0xd800 && c < 0xe000 ? REPLACEMENT : c);
  }
  return out;
}

/** Whether `cp` lies in one of the inclusive [first, last] ranges. */
export function inRanges(cp: number, ranges: readonly (readonly [number, number])[]): boolean {
  return ranges.some(([first, last]) => cp >= first && cp <= last);
}
