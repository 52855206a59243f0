import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at, entry, InvariantError } from './at.js';

test('at and entry return what is there and throw InvariantError for what is not', () => {
  assert.equal(at([1, 2, 3], 2), 3);
  assert.equal(at(Float32Array.of(0.5), 0), 0.5);
  assert.throws(
    () => at([1], 1),
    (e) => e instanceof InvariantError && /index 1 is outside \[0, 1\)/.test(e.message),
  );
  assert.throws(() => at([], -1), InvariantError);
  assert.equal(entry({ a: 1 }, 'a'), 1);
  assert.throws(() => entry({ a: 1 }, 'b'), /no entry 'b'/);
});
