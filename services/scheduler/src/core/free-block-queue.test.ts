import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at } from '@loom/common';
import { FreeBlockQueue } from './free-block-queue.js';
import { KVCacheBlock } from './kv-cache-block.js';

const blocks = (n: number) => Array.from({ length: n }, (_, i) => new KVCacheBlock(i));

test('starts with every block in id order and pops from the head', () => {
  const q = new FreeBlockQueue(blocks(4));
  assert.deepEqual(q.blockIds(), [0, 1, 2, 3]);
  assert.equal(q.popleft().blockId, 0);
  assert.equal(q.popleft().blockId, 1);
  assert.deepEqual(q.blockIds(), [2, 3]);
  assert.equal(q.length, 2);
});

test('removes from the middle and appends at the tail in O(1) links', () => {
  const bs = blocks(5);
  const q = new FreeBlockQueue(bs);
  q.remove(at(bs, 2));
  q.remove(at(bs, 0));
  assert.deepEqual(q.blockIds(), [1, 3, 4]);
  q.append(at(bs, 2));
  q.append(at(bs, 0));
  assert.deepEqual(q.blockIds(), [1, 3, 4, 2, 0]);
  assert.equal(q.length, 5);
});

test('refuses double append, removal of a block not in it, and popping when empty', () => {
  const bs = blocks(1);
  const q = new FreeBlockQueue(bs);
  assert.throws(() => q.append(at(bs, 0)), /already free/);
  q.popleft();
  assert.throws(() => q.remove(at(bs, 0)), /not free/);
  assert.throws(() => q.popleft(), /no free block/);
});
