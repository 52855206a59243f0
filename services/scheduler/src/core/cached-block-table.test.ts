import assert from 'node:assert/strict';
import { test } from 'node:test';
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
    const block = blocks[Math.floor(rand() * blocks.length)]!;
    if (block.blockHash !== null) {
      assert.equal(table.delete(block), true);
      reference.delete(block.blockHash);
      block.blockHash = null;
    } else {
      const key = keys[Math.floor(rand() * keys.length)]!;
      if (reference.has(key)) {
        assert.notEqual(table.get(key), undefined);
        continue;
      }
      block.blockHash = key;
      table.add(block);
      reference.set(key, block);
    }
    assert.equal(table.size, reference.size);
    for (const key of keys) assert.equal(table.get(key), reference.get(key), `op ${op}, key ${key}`);
  }
});

test('delete of a block not indexed under its hash changes nothing; overfilling throws', () => {
  const table = new CachedBlockTable(2);
  const [a, b, c] = [0, 1, 2].map((i) => new KVCacheBlock(i));
  a!.blockHash = 'h';
  table.add(a!);
  b!.blockHash = 'h';
  assert.equal(table.delete(b!), false);
  assert.equal(table.get('h'), a);
  b!.blockHash = 'g';
  table.add(b!);
  c!.blockHash = 'f';
  assert.throws(() => table.add(c!), /more than 2 entries/);
  table.clear();
  assert.equal(table.size, 0);
  assert.equal(table.get('h'), undefined);
});
