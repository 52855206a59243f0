import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PromptLogprobsCollector } from './prompt-logprobs-collector.js';

/** A scored prompt token as a worker reports it. */
const tok = (tokenId: number, logprob = -tokenId / 10) => ({ tokenId, logprob, top: [{ tokenId: 1, logprob: -0.1 }] });

test('chunked prefill: pieces fill positions 1..P-1; complete only then; taken once', () => {
  const c = new PromptLogprobsCollector(6);
  c.add({ startPosition: 1, tokens: [tok(11), tok(12), tok(13)] }); // chunk [0, 4) scores 1..3
  assert.equal(c.complete, false);
  assert.equal(c.take(), undefined);
  c.add({ startPosition: 4, tokens: [tok(14), tok(15)] });
  assert.equal(c.complete, true);
  const got = c.take()!;
  assert.deepEqual(
    got.map((e) => e?.tokenId ?? null),
    [null, 11, 12, 13, 14, 15],
  );
  assert.equal(got[3]?.logprob, -1.3);
  assert.equal(c.take(), undefined, 'written once per choice');
});

test('a prompt scored again (preemption, failover) keeps the first value per position', () => {
  const c = new PromptLogprobsCollector(4);
  c.add({ startPosition: 1, tokens: [tok(5, -1), tok(6, -2)] });
  c.add({ startPosition: 1, tokens: [tok(5, -9), tok(6, -9), tok(7, -3)] });
  assert.deepEqual(
    c.take()!.map((e) => e?.logprob ?? null),
    [null, -1, -2, -3],
  );
});

test('position 0 and positions past the prompt are ignored; a one-token prompt is complete at once', () => {
  const c = new PromptLogprobsCollector(2);
  c.add({ startPosition: 0, tokens: [tok(1), tok(2), tok(3)] });
  assert.deepEqual(
    c.take()!.map((e) => e?.tokenId ?? null),
    [null, 2],
  );
  assert.deepEqual(new PromptLogprobsCollector(1).take(), [null]);
});

test('forced take gives what is there (null where missing) so tokens never wait on positions that will not come', () => {
  const c = new PromptLogprobsCollector(3);
  c.add({ startPosition: 2, tokens: [tok(9)] });
  assert.equal(c.take(), undefined);
  assert.deepEqual(
    c.take(true)!.map((e) => e?.tokenId ?? null),
    [null, null, 9],
  );
});
