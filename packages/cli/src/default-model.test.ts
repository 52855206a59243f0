import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_MODEL, resolveModel } from './default-model.js';

describe('resolveModel', () => {
  it(
    'falls back to the bundled demo model when none is given',
    { skip: !existsSync(DEFAULT_MODEL) && 'no ../shared/models' },
    () => {
      assert.deepEqual(resolveModel(''), { path: DEFAULT_MODEL, isDefault: true, problem: '' });
    },
  );

  it('resolves a given path against the current directory', () => {
    assert.equal(resolveModel('package.json').path, resolve('package.json'));
  });

  it('says what to set when the given file is missing', () => {
    const m = resolveModel('/no/such/model.gguf');
    assert.equal(m.path, '');
    assert.match(m.problem, /model file not found: \/no\/such\/model\.gguf .*LOOM_MODEL/);
  });

  it('takes a folder with config.json (a Hugging Face safetensors model), refuses one without', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loom-st-'));
    try {
      assert.match(resolveModel(dir).problem, /neither a file nor a folder with config\.json/);
      writeFileSync(join(dir, 'config.json'), '{}');
      assert.equal(resolveModel(dir).path, dir);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
