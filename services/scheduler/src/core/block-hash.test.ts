import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at } from '@loom/common';
import { extendBlockHashes, hashBlockTokens } from './block-hash.js';

const seq = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

test('equal prefixes hash equal; a different earlier block changes every later hash', () => {
  const a: string[] = [];
  const b: string[] = [];
  const c: string[] = [];
  extendBlockHashes(a, seq(48), 16, 10, null);
  extendBlockHashes(b, [...seq(48), 7, 7], 16, 10, null);
  extendBlockHashes(c, [99, ...seq(47, 1)], 16, 10, null);
  assert.equal(a.length, 3);
  assert.deepEqual(b, a, 'only full blocks are hashed');
  assert.equal(new Set([...a, ...c]).size, 6, 'block 0 differs, so blocks 1 and 2 differ too');
});

test('the cache salt enters the chain through the first block', () => {
  const plain: string[] = [];
  const salted: string[] = [];
  extendBlockHashes(plain, seq(32), 16, 2, null);
  extendBlockHashes(salted, seq(32), 16, 2, 'tenant-a');
  assert.notEqual(plain[0], salted[0]);
  assert.notEqual(plain[1], salted[1]);
  assert.notEqual(hashBlockTokens(null, seq(16), 0, 16, ''), hashBlockTokens(null, seq(16), 0, 16, null));
});

test('extends incrementally without rehashing, up to the asked number of blocks', () => {
  const tokens = seq(40);
  const hashes: string[] = [];
  extendBlockHashes(hashes, tokens, 16, 1, null);
  assert.equal(hashes.length, 1);
  const first = hashes[0];
  extendBlockHashes(hashes, tokens, 16, 5, null);
  assert.equal(hashes.length, 2);
  assert.equal(hashes[0], first);
  assert.equal(hashes[1], hashBlockTokens(first!, tokens, 16, 32, null));
  assert.equal(at(hashes, 1).length, 8, '128 bits as 8 UTF-16 units');
});

test('every token and its position count; extra keys go into the first block only', () => {
  const base = hashBlockTokens(null, seq(16), 0, 16, null);
  const seen = new Set([base]);
  for (let i = 0; i < 16; i++) {
    const changed = seq(16);
    changed[i] = 2 ** 31 + i; // also: ids are hashed as full 32-bit words
    seen.add(hashBlockTokens(null, changed, 0, 16, null));
  }
  seen.add(hashBlockTokens(null, [...seq(15), 0], 0, 16, null));
  assert.equal(seen.size, 18);
  assert.equal(hashBlockTokens(null, [7, ...seq(16)], 1, 17, null), base, 'only tokens[start, end) are read');
  assert.throws(() => hashBlockTokens(base, seq(16), 0, 16, 'salt'), /first block only/);
});
