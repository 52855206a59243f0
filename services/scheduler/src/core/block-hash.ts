import * as crypto from 'node:crypto';

/**
 * Identity of a full block's content in the prefix cache: 128 bits of
 * sha256(parent hash, extra keys, token ids), hex. Chaining through the parent makes the hash
 * identify the whole prefix up to and including this block, so equal hashes mean equal KV.
 */
export type BlockHash = string;

// One-shot crypto.hash (Node >= 20.12) is ~3x cheaper than a Hash object for 100-byte inputs.
const sha256: (data: Buffer) => Buffer =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash(alg: string, data: Buffer, enc: 'buffer'): Buffer }).hash('sha256', data, 'buffer')
    : (data) => crypto.createHash('sha256').update(data).digest();

/** hashBlockTokens' input, reused: each hash is taken before the next call writes it. */
let scratch = Buffer.allocUnsafe(256);

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
  // Every block but a sequence's first is parent (32 ASCII hex chars) + '|-|': written directly,
  // sparing the head string and its UTF-8 sizing (a decode step can fill 256 blocks at once).
  const head = parent !== null && extraKeys === null ? null : `${parent ?? '-'}${extraKeys === null ? '|-|' : `|${extraKeys.length}:${extraKeys}|`}`;
  const headBytes = head === null ? parent!.length + 3 : Buffer.byteLength(head);
  const size = headBytes + 4 * (end - start);
  // No allocation per block: the input is built in `scratch`.
  if (scratch.length < size) scratch = Buffer.allocUnsafe(2 * size);
  if (head === null) {
    scratch.write(parent!, 0, 'latin1');
    scratch.write('|-|', headBytes - 3, 'latin1');
  } else {
    scratch.write(head, 0);
  }
  for (let i = start, o = headBytes; i < end; i++, o += 4) scratch.writeUInt32LE(tokenIds[i]!, o);
  // Hex of the first 16 bytes made directly, not sliced from the full hex: a flat string, which
  // compares and hashes (Map keys of the prefix cache) markedly faster than a slice of a larger one.
  return sha256(scratch.subarray(0, size)).toString('hex', 0, 16);
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
export function hashFullBlocks(tokenIds: readonly number[], blockSize: number, cacheSalt: string | null): BlockHashes {
  const hashes: BlockHash[] = [];
  extendBlockHashes(hashes, tokenIds, blockSize, Math.floor(tokenIds.length / blockSize), cacheSalt);
  return { blockSize, cacheSalt, hashes };
}
