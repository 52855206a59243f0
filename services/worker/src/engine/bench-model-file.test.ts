// bench:engine --model-dir: a GGUF already in the directory is reused when its fingerprint (synth arguments, dtype,
// synth code) matches, and a changed argument or dtype synthesises a new file under a new name. Real `loom model
// synth` runs (the built CLI) on a 32-wide one-layer shape with stories260K's 512-token vocabulary.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { storiesPath } from '../testing/engine-test-kit.js';
import { benchModelFile } from './bench-model-file.js';
import type { BenchModel } from './engine-bench-models.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

const tiny = (seed: string): BenchModel => ({
  name: 'tiny',
  synth: [
    '--shape',
    'dim=32,hidden=64,layers=1,heads=2,kv_heads=1,vocab=512',
    '--vocab-from',
    storiesPath('f32'),
    '--seed',
    seed,
  ],
  dtypes: ['f32'],
});

describe('benchModelFile (bench:engine --model-dir)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-bench-model-'));
  const other = mkdtempSync(path.join(os.tmpdir(), 'loom-bench-model-fresh-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  });
  const logs: string[] = [];
  const get = (model: BenchModel, dtype: string, into = dir): string =>
    benchModelFile(repoRoot, into, model, dtype, (s) => logs.push(s));

  it('synthesises once, then reuses the same file untouched', () => {
    const first = get(tiny('0'), 'f32');
    assert.equal(path.dirname(first), dir);
    assert.match(path.basename(first), /^tiny-f32-[0-9a-f]{12}\.gguf$/);
    assert.deepEqual(logs, ['synth tiny f32']);
    assert.deepEqual(readdirSync(dir), [path.basename(first)], 'no .partial left behind');
    const before = statSync(first);

    const again = get(tiny('0'), 'f32');
    assert.equal(again, first);
    assert.deepEqual(logs, ['synth tiny f32', `reuse ${path.basename(first)}`]);
    const now = statSync(first);
    assert.equal(now.mtimeMs, before.mtimeMs, 'the reused file was not written again');
    assert.equal(now.ino, before.ino);

    // The invariant reuse rests on: synthesising now writes the very bytes that are there.
    const fresh = get(tiny('0'), 'f32', other);
    assert.equal(path.basename(fresh), path.basename(first), 'the name depends on the inputs only, not the dir');
    assert.deepEqual(readFileSync(fresh), readFileSync(first));
  });

  it('a changed dtype or synth argument names and writes a new file', () => {
    const f32 = get(tiny('0'), 'f32');
    logs.length = 0;
    const q8 = get(tiny('0'), 'q8_0');
    const seeded = get(tiny('1'), 'f32');
    assert.deepEqual(logs, ['synth tiny q8_0', 'synth tiny f32']);
    assert.match(path.basename(q8), /^tiny-q8_0-[0-9a-f]{12}\.gguf$/);
    assert.notEqual(seeded, f32, 'another seed is another fingerprint');
    for (const f of [f32, q8, seeded]) assert.ok(existsSync(f), f);
    assert.ok(statSync(q8).size < statSync(f32).size, 'q8_0 weights were written as q8_0');
    assert.equal(statSync(seeded).size, statSync(f32).size);
    assert.notDeepEqual(readFileSync(seeded), readFileSync(f32), 'seed 1 weights were synthesised, not copied');
    assert.equal(readdirSync(dir).length, 3);
  });
});
