import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at } from '@loom/common';
import { createRequestQueue } from './request-queue.js';
import { makeRequest } from '../testing/make-request.js';

const order = (q: Iterable<{ requestId: string }>) => [...q].map((r) => r.requestId);

test('fcfs: arrival order, prepend goes to the very front, remove from the middle', () => {
  const q = createRequestQueue('fcfs');
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => makeRequest(id, [1]));
  q.add(a!);
  q.add(b!);
  q.add(c!);
  assert.equal(q.pop(), a);
  q.prepend(d!);
  q.prepend(a!);
  assert.deepEqual(order(q), ['a', 'd', 'b', 'c']);
  assert.ok(q.remove(b!));
  assert.ok(!q.remove(b!));
  assert.deepEqual(
    [q.pop(), q.pop(), q.pop(), q.pop()].map((r) => r?.requestId),
    ['a', 'd', 'c', undefined],
  );
  assert.equal(q.length, 0);
});

test('priority: lower value first, then earlier arrival; a re-added request keeps its place', () => {
  const q = createRequestQueue('priority');
  const reqs = [
    makeRequest('p5-first', [1], { priority: 5 }),
    makeRequest('p1', [1], { priority: 1 }),
    makeRequest('p5-second', [1], { priority: 5 }),
    makeRequest('p-3', [1], { priority: -3 }),
    makeRequest('p1-later', [1], { priority: 1 }),
  ];
  for (const r of reqs) q.add(r);
  assert.equal(q.peek()?.requestId, 'p-3');
  const first = q.pop()!;
  const second = q.pop()!;
  assert.deepEqual([first.requestId, second.requestId], ['p-3', 'p1']);
  q.prepend(second);
  assert.ok(q.remove(at(reqs, 2)));
  const popped: string[] = [];
  while (q.length > 0) popped.push(q.pop()!.requestId);
  assert.deepEqual(popped, ['p1', 'p1-later', 'p5-first']);
});
