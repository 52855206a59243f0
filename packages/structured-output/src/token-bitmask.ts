import { at } from '@loom/common';
/**
 * Allowed-token bitmasks as xgrammar fills them and the engine reads them: ceil(vocabSize / 32) 32-bit
 * words per sequence; bit j of word i allows token 32 * i + j. Bits past the vocabulary are ignored.
 */
export function bitmaskWords(vocabSize: number): number {
  return Math.ceil(vocabSize / 32);
}

export function isAllowed(mask: Int32Array, tokenId: number): boolean {
  return ((at(mask, tokenId >>> 5) >>> (tokenId & 31)) & 1) === 1;
}

/** Token ids a mask allows, ascending (tests, debugging). */
export function allowedTokens(mask: Int32Array, vocabSize: number): number[] {
  const out: number[] = [];
  for (let id = 0; id < vocabSize; id++) if (isAllowed(mask, id)) out.push(id);
  return out;
}
