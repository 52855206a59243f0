import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashFullBlocks } from './block-hash.js';
import { makeScheduler } from '../testing/make-scheduler.js';
import { sampling, seq } from '../testing/make-request.js';

test("routablePrefixTokens counts a queued request's prefix before it is cached, and forgets it once finished", () => {
  const { scheduler, step } = makeScheduler({ numBlocks: 32 });
  const system = seq(48, 500);
  const a = [...system, ...seq(8, 900)];
  const b = [...system, ...seq(8, 950)];
  const probe = (tokens: number[]) =>
    scheduler.routablePrefixTokens(
      hashFullBlocks(tokens, 16, null).hashes.slice(0, Math.floor((tokens.length - 1) / 16)),
    );
  assert.equal(probe(b), 0);
  scheduler.addRequest({
    requestId: 'a',
    promptTokenIds: a,
    sampling: sampling({ maxTokens: 2 }),
    blockHashes: hashFullBlocks(a, 16, null),
  });
  // Nothing computed yet: the pool has no hit, but a's three system-prompt blocks are coming.
  assert.equal(scheduler.kvCache.cachedPrefixTokens(hashFullBlocks(b, 16, null).hashes.slice(0, 3)), 0);
  assert.equal(probe(b), 48);
  assert.equal(probe(seq(56, 7)), 0, 'another prefix root');
  step();
  step();
  assert.equal(scheduler.hasWork(), false);
  // a finished: its blocks are cached (free, reusable), and that is what the probe sees now.
  assert.equal(probe(b), 48);
  scheduler.addRequest({
    requestId: 'c',
    promptTokenIds: a,
    sampling: sampling({ maxTokens: 2 }),
    blockHashes: hashFullBlocks(a, 16, null),
  });
  scheduler.abort('c');
  scheduler.drain();
  assert.equal(probe(b), 0, 'drain forgets the pool and the queued prefixes');
});
