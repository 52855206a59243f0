// Bad models and bad step input give clear errors; the process and the engine survive them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { at } from '@loom/common';
import { GREEDY, ONCE_UPON_A_TIME, seq, storiesPath } from '../testing/engine-test-kit.js';
import { loadEngine, type LoadedEngine } from './native-engine.js';

describe('bad model files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-engine-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a truncated GGUF names the file and says it is truncated', () => {
    const bytes = readFileSync(storiesPath('f32'));
    for (const keep of [bytes.length - 1000, Math.floor(bytes.length / 2), 5000, 100]) {
      const file = path.join(dir, `truncated-${keep}.gguf`);
      writeFileSync(file, bytes.subarray(0, keep));
      assert.throws(
        () => loadEngine(file, { threads: 1 }),
        (e: Error) => e.message.includes(file) && /truncated/.test(e.message),
        `cut at ${keep}`,
      );
    }
  });

  it('garbage and a missing path name the file', () => {
    const garbage = path.join(dir, 'garbage.gguf');
    writeFileSync(garbage, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) & 255)));
    assert.throws(
      () => loadEngine(garbage, { threads: 1 }),
      (e: Error) => e.message.includes(garbage) && /not a GGUF/.test(e.message),
    );
    const missing = path.join(dir, 'nope.gguf');
    assert.throws(
      () => loadEngine(missing, { threads: 1 }),
      (e: Error) => e.message.includes(missing) && /cannot open/.test(e.message),
    );
    const vocabOnly = path.resolve(
      path.dirname(storiesPath('f32')),
      '..',
      'tokenizer-vectors',
      'ggml-vocab-llama-spm.gguf',
    );
    assert.throws(
      () => loadEngine(vocabOnly, { threads: 1 }),
      (e: Error) => e.message.includes(vocabOnly),
    );
  });
});

describe('bad step input', () => {
  let engine: LoadedEngine;
  before(() => {
    engine = loadEngine(storiesPath('f32'), { threads: 1 });
  });
  after(() => engine.close());

  it('rejects steps before initKv, then bad ids, tables and sizes, and still works afterwards', async () => {
    await assert.rejects(engine.step([seq(ONCE_UPON_A_TIME, 0, [0], true, GREEDY, 0)]), /initKv\(\) must be called/);
    engine.initKv(8, 4, 16, 2);
    const ok = (): ReturnType<typeof seq> => seq(ONCE_UPON_A_TIME, 0, [0, 1], true, GREEDY, 0);
    await assert.rejects(
      engine.step([seq([1, 512], 0, [0], true, GREEDY, 0)]),
      (e: Error) => e instanceof RangeError && /tokens\[1\] = 512/.test(e.message),
    );
    await assert.rejects(engine.step([seq([1, -3], 0, [0], true, GREEDY, 0)]), RangeError);
    await assert.rejects(
      engine.step([seq(ONCE_UPON_A_TIME, 0, [0, 8], true, GREEDY, 0)]),
      (e: Error) => e instanceof RangeError && /blockTable\[1\] = 8/.test(e.message),
    );
    await assert.rejects(
      engine.step([seq(ONCE_UPON_A_TIME, 0, [0], true, GREEDY, 0)]),
      (e: Error) => e instanceof RangeError && /need 2/.test(e.message),
    );
    await assert.rejects(engine.step([seq(Array(17).fill(1), 0, [0, 1, 2, 3, 4], true, GREEDY, 0)]), /maxBatchTokens/);
    await assert.rejects(engine.step([ok(), ok(), ok()]), /maxSeqs/);
    await assert.rejects(engine.step([{ ...ok(), tokens: [1, 2] as unknown as Int32Array }]), TypeError);
    await assert.rejects(engine.step([{ ...ok(), topP: 0 }]), RangeError);
    await assert.rejects(engine.step([{ ...ok(), temperature: Number.NaN }]), TypeError);
    await assert.rejects(engine.step([]), RangeError);
    await assert.rejects(
      engine.step([seq([1], 512, [0], true, GREEDY, 0)]),
      (e: Error) => e instanceof RangeError && /context length is 512/.test(e.message),
    );
    const res = await engine.step([ok()]);
    assert.ok(at(res.tokens, 0) >= 0);
  });

  it('refuses a second step while one runs, and use after close', async () => {
    // More than 16 tokens: a step that runs on a libuv thread (a small one after a quick one is settled in step()).
    engine.initKv(16, 4, 32, 2);
    const first = engine.step([
      seq(
        Array.from({ length: 24 }, (_, i) => at(ONCE_UPON_A_TIME, i % ONCE_UPON_A_TIME.length)),
        0,
        [0, 1, 2, 3, 4, 5],
        true,
        GREEDY,
        0,
      ),
    ]);
    await assert.rejects(engine.step([seq(ONCE_UPON_A_TIME, 0, [6, 7], true, GREEDY, 0)]), /a step is running/);
    assert.throws(() => engine.close(), /while a step is running/);
    await first;
    const other = loadEngine(storiesPath('f16'), { threads: 1 });
    other.close();
    assert.throws(() => other.info(), /engine is closed/);
    await assert.rejects(other.step([]), /engine is closed/);
  });
});
