import * as crypto from 'node:crypto';

/**
 * Identity of a full block's content in the prefix cache: 128 bits of
 * sha256(parent hash, extra keys, token ids), hex. Chaining through the parent makes the hash
 * identify the whole prefix up to and including this block, so equal hashes mean equal KV.
 */
export type BlockHash = string;

// One-shot crypto.hash (Node >= 20.12) is ~3x cheaper than a Hash object for 100-byte inputs.
const sha256Hex: (data: Buffer) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash(alg: string, data: Buffer, enc: 'hex'): string }).hash('sha256', data, 'hex')
    : (data) => crypto.createHash('sha256').update(data).digest('hex');

/**
 * Hash of one full block. `extraKeys` (the tenant's cache salt; later a LoRA id) only needs to go
 * into the first block of a sequence: every later hash chains through it.
 *
 * The encoding is unambiguous: the parent is 32 hex chars (or '-' for the first block), extra keys
 * are length-prefixed and tokens are fixed-width u32 over a fixed-length block.
 */
export function hashBlockTokens(
  parent: BlockHash | null,
  tokenIds: readonly number[],
  start: number,
  end: number,
  extraKeys: string | null,
): BlockHash {
  const head = `${parent ?? '-'}${extraKeys === null ? '|-|' : `|${extraKeys.length}:${extraKeys}|`}`;
  const headBytes = Buffer.byteLength(head);
  const buf = Buffer.allocUnsafe(headBytes + 4 * (end - start));
  buf.write(head, 0);
  for (let i = start, o = headBytes; i < end; i++, o += 4) buf.writeUInt32LE(tokenIds[i]!, o);
  return sha256Hex(buf).slice(0, 32);
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
