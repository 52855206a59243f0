import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { at } from '@loom/common';
import { seededRandom } from '@loom/testing';
import { sipHash } from './siphash.js';

// The `siphash` package (jedisct1's reference JS, 64-bit outputs of SipHash-2-4 and -1-3) as an
// independent oracle; CommonJS, hence require.
interface SipLib {
  hash(key: number[], message: Uint8Array): { h: number; l: number };
}
const require = createRequire(import.meta.url);
const sip24 = require('siphash') as SipLib;
const sip13 = require('siphash/lib/siphash13.js') as SipLib;

const refKey = new Uint32Array(new Uint8Array(Array.from({ length: 16 }, (_, i) => i)).buffer);
const hex = (words: Uint32Array) => Buffer.from(words.buffer, words.byteOffset, words.byteLength).toString('hex');

test("the paper's reference vectors (key 00..0f, empty message) for both output sizes", () => {
  const out128 = new Uint32Array(4);
  sipHash(refKey, new Uint32Array(0), 0, out128, 2, 4, true);
  assert.equal(hex(out128), 'a3817f04ba25a8e66df67214c7550293');
  const out64 = new Uint32Array(2);
  sipHash(refKey, new Uint32Array(0), 0, out64, 2, 4, false);
  assert.equal(hex(out64), '310e0edd47db6f72');
});

test('equals the siphash package (2-4 and 1-3, 64-bit) for every length up to 40 words under random keys', () => {
  const rand = seededRandom(3);
  const word = () => Math.floor(rand() * 2 ** 32);
  for (const [c, d, lib] of [
    [2, 4, sip24],
    [1, 3, sip13],
  ] as const) {
    for (let n = 0; n <= 40; n++) {
      const key = Uint32Array.from({ length: 4 }, word);
      const words = Uint32Array.from({ length: n }, word);
      const out = new Uint32Array(2);
      sipHash(key, words, n, out, c, d, false);
      const ref = lib.hash([...key], new Uint8Array(words.buffer));
      assert.deepEqual([out[0], out[1]], [ref.l >>> 0, ref.h >>> 0], `SipHash-${c}-${d}, ${n} words`);
    }
  }
});

test('the 128-bit output depends on every word', () => {
  const words = Uint32Array.from({ length: 20 }, (_, i) => i * 7919);
  const base = new Uint32Array(4);
  sipHash(refKey, words, 20, base);
  const seen = new Set([hex(base)]);
  for (let i = 0; i < 20; i++) {
    const flipped = words.slice();
    flipped[i] = at(flipped, i) ^ (1 << (i % 32));
    const out = new Uint32Array(4);
    sipHash(refKey, flipped, 20, out);
    seen.add(hex(out));
  }
  assert.equal(seen.size, 21);
});
