import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedTokens } from './token-bitmask.js';
import { Utf8Guard } from './utf8-guard.js';
import { at } from '@loom/common';

// A toy vocabulary: ASCII, lone lead and continuation bytes, a whole character, and EOS (no bytes).
const tokens = [[0x61], [0xc3], [0xa9], [0xe0], [0x80], [0xa0], [0xc0], [0xed], [0xf4], [0x90], [0xc3, 0xa9], []];
const A = 0,
  C3 = 1,
  A9 = 2,
  E0 = 3,
  X80 = 4,
  A0 = 5,
  C0 = 6,
  ED = 7,
  F4 = 8,
  X90 = 9,
  E_ACUTE = 10,
  EOS = 11;
const guard = new Utf8Guard(tokens.length, 40, (id) => Uint8Array.from(at(tokens, id)));
const allowed = (s: number) => allowedTokens(guard.mask(s), 40);
const after = (...ids: number[]) => ids.reduce((s, id) => guard.advance(s, id), Utf8Guard.START);

test('between characters: ASCII, lead bytes, whole characters and EOS; never continuations, C0/C1, padding', () => {
  assert.deepEqual(allowed(Utf8Guard.START), [A, C3, E0, ED, F4, E_ACUTE, EOS]);
});

test('after a lead byte only its valid continuations; overlong, surrogate and past-U+10FFFF forms are out', () => {
  assert.deepEqual(allowed(after(C3)), [A9, X80, A0, X90]);
  assert.deepEqual(allowed(after(E0)), [A9, A0], 'E0 needs A0..BF (no overlong)');
  assert.deepEqual(allowed(after(ED)), [X80, X90], 'ED needs 80..9F (no surrogates)');
  assert.deepEqual(allowed(after(F4)), [X80], 'F4 needs 80..8F (<= U+10FFFF)');
  assert.deepEqual(allowed(after(E0, A0)), [A9, X80, A0, X90], 'then any continuation');
  assert.equal(after(C3, A9), Utf8Guard.START);
  assert.ok(!allowed(after(C3)).includes(EOS), 'no end in the middle of a character');
  assert.ok(!allowed(Utf8Guard.START).includes(C0));
});

test('apply narrows a grammar mask, unless nothing would be left', () => {
  const m = new Int32Array(guard.words);
  m[0] = (1 << A) | (1 << X80);
  guard.apply(Utf8Guard.START, m);
  assert.deepEqual(allowedTokens(m, 40), [A]);
  const only = new Int32Array(guard.words);
  only[0] = 1 << X80;
  guard.apply(Utf8Guard.START, only);
  assert.deepEqual(allowedTokens(only, 40), [X80], 'the grammar mask stands alone rather than allow nothing');
});
