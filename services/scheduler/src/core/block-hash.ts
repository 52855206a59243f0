import { createHash } from 'node:crypto';

/**
 * Identity of a full block's content in the prefix cache: 128 bits of
 * sha256(parent hash, extra keys, token ids), hex. Chaining through the parent makes the hash
 * identify the whole prefix up to and including this block, so equal hashes mean equal KV.
 */
export type BlockHash = string;

/**
 * Hash of one full block. `extraKeys` (the tenant's cache salt; later a LoRA id) only needs to go
 * into the first block of a sequence: every later hash chains through it.
 *
 * The encoding is unambiguous: the parent is fixed-length (or empty for the first block), extra keys
 * are length-prefixed and tokens are fixed-width u32 over a fixed-length block.
 */
export function hashBlockTokens(
  parent: BlockHash | null,
  tokenIds: readonly number[],
  start: number,
  end: number,
  extraKeys: string | null,
): BlockHash {
  const h = createHash('sha256');
  h.update(parent ?? '-');
  h.update(extraKeys === null ? '|-|' : `|${extraKeys.length}:${extraKeys}|`);
  const tokens = new Uint32Array(end - start);
  for (let i = start; i < end; i++) tokens[i - start] = tokenIds[i]!;
  h.update(tokens);
  return h.digest().toString('hex', 0, 16);
}

/**
 * Extends `hashes` (a sequence's hashes so far, block i at index i) to cover its first `numBlocks`
 * full blocks, hashing only the blocks not hashed yet. Blocks beyond the known tokens are never hashed.
 */
export function extendBlockHashes(
  hashes: BlockHash[],
  tokenIds: readonly number[],
  blockSize: number,
  numBlocks: number,
  cacheSalt: string | null,
): void {
  const target = Math.min(numBlocks, Math.floor(tokenIds.length / blockSize));
  for (let i = hashes.length; i < target; i++) {
    const parent = i === 0 ? null : hashes[i - 1]!;
    hashes.push(hashBlockTokens(parent, tokenIds, i * blockSize, (i + 1) * blockSize, i === 0 ? cacheSalt : null));
  }
}
