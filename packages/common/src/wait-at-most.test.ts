import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitAtMost } from './wait-at-most.js';

test('waitAtMost: resolves when p settles first, after ms when p never does, rejects with p', async () => {
  let t = performance.now();
  await waitAtMost(new Promise((r) => setTimeout(r, 10)), 5000);
  assert.ok(performance.now() - t < 2000, 'did not wait for the bound once p resolved');
  t = performance.now();
  await waitAtMost(new Promise(() => undefined), 50);
  assert.ok(performance.now() - t >= 45, 'waited the bound for a promise that never settles');
  await assert.rejects(waitAtMost(Promise.reject(new Error('no')), 1000), /no/);
});
