/**
 * SipHash-1-3 with its 128-bit output (Aumasson & Bernstein; 1-3 is the round count Rust's HashMap
 * and Python's str hash use), over a message of little-endian 32-bit words. The prefix cache's
 * block hash: a keyed PRF, so with a secret key nobody can craft two token blocks that collide
 * (the prefix-cache poisoning of vLLM's CVE-2025-25183), and 128 bits, so chance collisions do not
 * happen. Written here rather than taken from crypto.hash('sha256'): a decode step can fill 256
 * blocks at once, and the native call, its Buffer and its hex string cost ~1.2 us per block where
 * this costs ~0.4 us (2-4 rounds: ~0.7 us).
 *
 * 64-bit lanes are (hi, lo) pairs of int32 locals: one function and no state in memory, so V8
 * keeps every lane in a register as a 32-bit integer (a Uint32Array state made it 2x slower).
 */

import { InvariantError } from '@loom/common';

/**
 * SipHash-c-d of the message words[0..n) (4n bytes, word k = bytes 4k..4k+3 little-endian) under
 * `key` (16 bytes as 4 LE words). Writes the output bytes as LE words into `out`: 4 words for the
 * 128-bit output (`wide`), else 2. Other round counts than 1-3 exist for the reference vectors.
 */
export function sipHash(
  key: Uint32Array,
  words: Uint32Array,
  n: number,
  out: Uint32Array,
  c = 1,
  d = 3,
  wide = true,
): void {
  // Checked once here, so the reads below are in range; their `?? 0` is never taken (it only keeps
  // the loads plain typed-array reads rather than a helper call per word).
  if (key.length < 4 || words.length < n || out.length < (wide ? 4 : 2))
    throw new InvariantError(`sipHash: key ${key.length}, words ${words.length} < ${n} or out ${out.length} too short`);
  const k0l = (key[0] ?? 0) | 0,
    k0h = (key[1] ?? 0) | 0,
    k1l = (key[2] ?? 0) | 0,
    k1h = (key[3] ?? 0) | 0;
  let v0h = k0h ^ 0x736f6d65,
    v0l = k0l ^ 0x70736575;
  let v1h = k1h ^ 0x646f7261,
    v1l = k1l ^ 0x6e646f6d ^ (wide ? 0xee : 0);
  let v2h = k0h ^ 0x6c796765,
    v2l = k0l ^ 0x6e657261;
  let v3h = k1h ^ 0x74656462,
    v3l = k1l ^ 0x79746573;
  // 64-bit message blocks: the word pairs, then one holding the odd word (if any) and, in its top
  // byte, the length in bytes mod 256. c rounds per block, then d finalisation rounds per output
  // half; one loop over all rounds keeps the round's code in one place.
  const blocks = (n >> 1) + 1;
  const compression = c * blocks;
  const total = compression + (wide ? 2 : 1) * d;
  let mh = 0,
    ml = 0,
    hi = 0,
    lo = 0,
    t = 0;
  for (let r = 0; r < total; r++) {
    if (r < compression) {
      if (r % c === 0) {
        const b = (r / c) | 0;
        if (b < blocks - 1) {
          ml = (words[2 * b] ?? 0) | 0;
          mh = (words[2 * b + 1] ?? 0) | 0;
        } else {
          ml = n & 1 ? (words[n - 1] ?? 0) | 0 : 0;
          mh = ((4 * n) & 0xff) << 24;
        }
        v3h ^= mh;
        v3l ^= ml;
      }
    } else if (r === compression) {
      v2l ^= wide ? 0xee : 0xff;
    } else if (r === compression + d) {
      out[0] = v0l ^ v1l ^ v2l ^ v3l;
      out[1] = v0h ^ v1h ^ v2h ^ v3h;
      v1l ^= 0xdd;
    }
    // SipRound. v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
    lo = (v0l + v1l) | 0;
    v0h = (v0h + v1h + (lo >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
    v0l = lo;
    hi = (v1h << 13) | (v1l >>> 19);
    lo = (v1l << 13) | (v1h >>> 19);
    v1h = hi ^ v0h;
    v1l = lo ^ v0l;
    t = v0h;
    v0h = v0l;
    v0l = t;
    // v2 += v3; v3 = rotl(v3, 16) ^ v2
    lo = (v2l + v3l) | 0;
    v2h = (v2h + v3h + (lo >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
    v2l = lo;
    hi = (v3h << 16) | (v3l >>> 16);
    lo = (v3l << 16) | (v3h >>> 16);
    v3h = hi ^ v2h;
    v3l = lo ^ v2l;
    // v0 += v3; v3 = rotl(v3, 21) ^ v0
    lo = (v0l + v3l) | 0;
    v0h = (v0h + v3h + (lo >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
    v0l = lo;
    hi = (v3h << 21) | (v3l >>> 11);
    lo = (v3l << 21) | (v3h >>> 11);
    v3h = hi ^ v0h;
    v3l = lo ^ v0l;
    // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
    lo = (v2l + v1l) | 0;
    v2h = (v2h + v1h + (lo >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
    v2l = lo;
    hi = (v1h << 17) | (v1l >>> 15);
    lo = (v1l << 17) | (v1h >>> 15);
    v1h = hi ^ v2h;
    v1l = lo ^ v2l;
    t = v2h;
    v2h = v2l;
    v2l = t;
    if (r < compression && r % c === c - 1) {
      v0h ^= mh;
      v0l ^= ml;
    }
  }
  const i = wide ? 2 : 0;
  out[i] = v0l ^ v1l ^ v2l ^ v3l;
  out[i + 1] = v0h ^ v1h ^ v2h ^ v3h;
}
