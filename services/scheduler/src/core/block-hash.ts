import { randomFillSync } from 'node:crypto';
import { at, InvariantError } from '@loom/common';
import { sipHash } from './siphash.js';

/**
 * Identity of a full block's content in the prefix cache: the 128-bit SipHash-1-3 of (parent hash,
 * token ids) as a string of 8 UTF-16 code units (Map and Set keys, compared with ===; not text, so
 * never printed). Chaining through the parent makes it identify the whole prefix up to and
 * including this block, so equal hashes mean equal KV. A sequence's first block chains from a root
 * made of its extra keys (the tenant's cache salt; later a LoRA id).
 */
export type BlockHash = string;

/**
 * The PRF key, secret to this process: a client who cannot compute hashes cannot craft a block
 * that collides with another's. Hashes are only ever compared within one scheduler process (the
 * router hashes for the core next to it; a new leader starts with empty pools), so no key is shared.
 */
const KEY = randomFillSync(new Uint32Array(4));

/** The message of one hash, reused: [parent or root: 4 words, then the block's token ids]. */
let message = new Uint32Array(4 + 16);
const digest = new Uint32Array(4);

/** Roots by extra keys (tenants' salts repeat): at most MAX_ROOTS, dropped together when full. */
const roots = new Map<string | null, Uint32Array>();
const MAX_ROOTS = 4096;

function toHash(words: Uint32Array): BlockHash {
  const [a, b, c, d] = words as unknown as [number, number, number, number];
  return String.fromCharCode(a & 0xffff, a >>> 16, b & 0xffff, b >>> 16, c & 0xffff, c >>> 16, d & 0xffff, d >>> 16);
}

function writeHash(hash: BlockHash, into: Uint32Array): void {
  for (let k = 0; k < 4; k++) into[k] = hash.charCodeAt(2 * k) | (hash.charCodeAt(2 * k + 1) << 16);
}

/**
 * The 4 words a first block chains from: the hash of [tag 1, extra keys' length, their UTF-16
 * units two per word], or of [tag 0] without extra keys; so no salt and the empty salt differ.
 */
function rootOf(extraKeys: string | null): Uint32Array {
  let root = roots.get(extraKeys);
  if (root !== undefined) return root;
  const n = extraKeys === null ? 1 : 2 + Math.ceil(extraKeys.length / 2);
  const words = new Uint32Array(n);
  if (extraKeys !== null) {
    words[0] = 1;
    words[1] = extraKeys.length;
    for (let i = 0; i < extraKeys.length; i++)
      words[2 + (i >> 1)] = at(words, 2 + (i >> 1)) | (extraKeys.charCodeAt(i) << (16 * (i & 1)));
  }
  root = new Uint32Array(4);
  sipHash(KEY, words, n, root);
  if (roots.size >= MAX_ROOTS) roots.clear();
  roots.set(extraKeys, root);
  return root;
}

/**
 * Hash of the block of tokenIds[start..end). It chains from `parent`, or for a sequence's first
 * block (parent null) from the root of `extraKeys`, which only the first block takes: every later
 * hash chains through it.
 */
export function hashBlockTokens(
  parent: BlockHash | null,
  tokenIds: ArrayLike<number>,
  start: number,
  end: number,
  extraKeys: string | null,
): BlockHash {
  if (parent !== null && extraKeys !== null)
    throw new Error('hashBlockTokens: extra keys go into the first block only');
  const n = 4 + (end - start);
  if (message.length < n) message = new Uint32Array(n);
  if (parent === null) message.set(rootOf(extraKeys));
  else writeHash(parent, message);
  if (start < 0 || end > tokenIds.length)
    throw new InvariantError(`block [${start}, ${end}) of ${tokenIds.length} tokens`);
  for (let i = start, o = 4; i < end; i++, o++) message[o] = tokenIds[i] ?? 0; // in range: checked above
  sipHash(KEY, message, n, digest);
  return toHash(digest);
}

/**
 * Extends `hashes` (a sequence's hashes so far, block i at index i) to cover its first `numBlocks`
 * full blocks, hashing only the blocks not hashed yet. Blocks beyond the known tokens are never hashed.
 */
export function extendBlockHashes(
  hashes: BlockHash[],
  tokenIds: ArrayLike<number>,
  blockSize: number,
  numBlocks: number,
  cacheSalt: string | null,
): void {
  const target = Math.min(numBlocks, Math.floor(tokenIds.length / blockSize));
  let parent = hashes[hashes.length - 1] ?? null;
  for (let i = hashes.length; i < target; i++) {
    parent = hashBlockTokens(parent, tokenIds, i * blockSize, (i + 1) * blockSize, i === 0 ? cacheSalt : null);
    hashes.push(parent);
  }
}

/**
 * The full-block hashes of one token sequence, computed once where the sequence enters the
 * scheduler (the router needs them to probe every worker's cache) and handed on to the core, so
 * admission never re-hashes a long shared prefix inside schedule(). Valid only for the same block
 * size, cache salt and leading tokens; the core checks the first two and trusts the caller for the third.
 */
export interface BlockHashes {
  readonly blockSize: number;
  readonly cacheSalt: string | null;
  /** Block i at index i, covering every full block of the sequence. */
  readonly hashes: readonly BlockHash[];
}

/** Hashes every full block of `tokenIds`. */
export function hashFullBlocks(tokenIds: ArrayLike<number>, blockSize: number, cacheSalt: string | null): BlockHashes {
  const hashes: BlockHash[] = [];
  extendBlockHashes(hashes, tokenIds, blockSize, Math.floor(tokenIds.length / blockSize), cacheSalt);
  return { blockSize, cacheSalt, hashes };
}
