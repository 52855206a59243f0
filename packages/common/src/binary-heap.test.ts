import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BinaryHeap } from './binary-heap.js';
import { seededRandom } from './seeded-random.js';

test('pops in `before` order with ties broken by the comparator, across pushes, pops and removes', () => {
  const rand = seededRandom(7);
  type Item = { key: number; seq: number };
  const before = (a: Item, b: Item) => (a.key !== b.key ? a.key < b.key : a.seq < b.seq);
  const heap = new BinaryHeap<Item>(before);
  const model: Item[] = [];
  for (let seq = 0; seq < 2000; seq++) {
    const op = rand();
    if (op < 0.55) {
      const item = { key: Math.floor(rand() * 20), seq };
      heap.push(item);
      model.push(item);
    } else if (op < 0.85) {
      model.sort((a, b) => (before(a, b) ? -1 : 1));
      assert.equal(heap.peek(), model[0]);
      assert.equal(heap.pop(), model.shift());
    } else if (model.length > 0) {
      const victim = model.splice(Math.floor(rand() * model.length), 1)[0];
      assert.ok(victim && heap.remove(victim));
      assert.equal(heap.remove(victim), false);
    }
    assert.equal(heap.size, model.length);
  }
  model.sort((a, b) => (before(a, b) ? -1 : 1));
  assert.deepEqual(
    [...heap].sort((a, b) => (before(a, b) ? -1 : 1)),
    model,
  );
  for (const item of model) assert.equal(heap.pop(), item);
  assert.equal(heap.pop(), undefined);
  assert.equal(heap.peek(), undefined);
});
