import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at } from '@loom/common';
import { seededRandom } from '@loom/testing';
import { CachedBlockTable } from './cached-block-table.js';
import { KVCacheBlock } from './kv-cache-block.js';

test('agrees with a Map under random churn at full load, across wrap-around and long probe runs', () => {
  const rand = seededRandom(7);
  const maxEntries = 24;
  const table = new CachedBlockTable(maxEntries);
  const reference = new Map<string, KVCacheBlock>();
  const blocks = Array.from({ length: maxEntries }, (_, i) => new KVCacheBlock(i));
  // Few distinct keys, many of them short: plenty of shared home slots.
  const keys = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? `k${i}` : `${i.toString(16).padStart(32, '0')}`));
  for (let op = 0; op < 20_000; op++) {
    const block = at(blocks, Math.floor(rand() * blocks.length));
    if (block.blockHash !== null) {
      assert.equal(table.delete(block), true);
      reference.delete(block.blockHash);
      block.blockHash = null;
    } else {
      const key = at(keys, Math.floor(rand() * keys.length));
      const present = table.addIfAbsent(block, key);
      assert.equal(present, reference.get(key));
      if (present !== undefined) {
        assert.equal(block.blockHash, null, 'unchanged when the hash is taken');
        continue;
      }
      assert.equal(block.blockHash, key);
      reference.set(key, block);
    }
    assert.equal(table.size, reference.size);
    for (const key of keys) assert.equal(table.get(key), reference.get(key), `op ${op}, key ${key}`);
  }
});

test('delete of a block not indexed under its hash changes nothing; overfilling throws, re-adding does not', () => {
  const table = new CachedBlockTable(2);
  const [a, b, c] = [0, 1, 2].map((i) => new KVCacheBlock(i));
  table.addIfAbsent(a!, 'h');
  b!.blockHash = 'h';
  assert.equal(table.delete(b!), false);
  assert.equal(table.get('h'), a);
  b!.blockHash = null;
  table.addIfAbsent(b!, 'g');
  assert.throws(() => table.addIfAbsent(c!, 'f'), /more than 2 entries/);
  assert.equal(table.addIfAbsent(c!, 'g'), b, 'a present hash is no new entry, even when full');
});
