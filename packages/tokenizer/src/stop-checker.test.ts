import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { StopChecker } from './stop-checker.js';

/** Feeds text in chunks the way the scheduler does, sending only up to safeEnd each time. */
function run(stops: string[], chunks: string[]): { sent: string; stop?: string } {
  const checker = new StopChecker(stops);
  let text = '';
  let sent = '';
  for (const chunk of chunks) {
    text += chunk;
    const r = checker.check(text, sent.length);
    assert.ok(r.safeEnd >= sent.length, 'safeEnd never goes back');
    sent += text.slice(sent.length, r.safeEnd);
    if (r.stop !== undefined) return { sent, stop: r.stop };
  }
  return { sent };
}

test('a stop string split across chunks is never partly sent', () => {
  const r = run(['###'], ['Hello #', '#', '# world']);
  assert.deepEqual(r, { sent: 'Hello ', stop: '###' });
});

test('a held-back prefix is released when the text diverges', () => {
  const checker = new StopChecker(['</answer>']);
  assert.deepEqual(checker.check('x </ans', 0), { safeEnd: 2 });
  assert.deepEqual(checker.check('x </ans>', 2), { safeEnd: 8 });
});

test('the earliest occurrence wins; at equal positions the first listed', () => {
  const checker = new StopChecker(['world', 'lo w', 'lo']);
  assert.deepEqual(checker.check('hello world', 0), { stopIndex: 3, stop: 'lo w', safeEnd: 3 });
  const c2 = new StopChecker(['bc', 'b']);
  assert.deepEqual(c2.check('abcd', 0), { stopIndex: 1, stop: 'bc', safeEnd: 1 });
});

test('only unsent text is searched and the longest stop prefix is held', () => {
  const checker = new StopChecker(['abcab', 'zz']);
  assert.deepEqual(checker.check('xxabca', 0), { safeEnd: 2 });
  assert.deepEqual(checker.check('abcab then', 10), { safeEnd: 10 });
  assert.deepEqual(checker.check('..z', 0), { safeEnd: 2 });
});

test('no stops or only empty stops: everything is safe', () => {
  for (const c of [new StopChecker([]), new StopChecker([''])]) {
    assert.equal(c.active, false);
    assert.deepEqual(c.check('anything', 3), { safeEnd: 8 });
  }
});

test('multi-code-unit stop strings (emoji) are found and held whole', () => {
  const r = run(['🛑'], ['go ', '\uD83D', '\uDED1 rest']);
  assert.deepEqual(r, { sent: 'go ', stop: '🛑' });
});
