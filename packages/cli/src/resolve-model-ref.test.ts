import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { at, configFromEnv, modelIdOf } from '@loom/common';
import { FakeHub } from './testing/fake-hub.js';
import { freePort } from '@loom/common';
import { parseHfRef } from './hf-ref.js';
import { withModel } from './preflight.js';
import { REPO_ROOT } from './repo-paths.js';
import { resolveModelRef } from './resolve-model-ref.js';
import { selectFiles } from './select-files.js';

const F16 = readFileSync(join(REPO_ROOT, '..', 'shared', 'models', 'stories260K', 'stories260K-f16.gguf'));
const MAIN = join(fileURLToPath(new URL('.', import.meta.url)), 'main.js');

describe('parseHfRef / selectFiles', () => {
  it('parses hf://org/name[@revision][/file] and leaves local paths alone', () => {
    assert.equal(parseHfRef('/models/x.gguf'), undefined);
    assert.deepEqual(parseHfRef('hf://org/name'), { repo: 'org/name', revision: 'main', file: undefined });
    assert.deepEqual(parseHfRef('hf://org/name@v1.0/sub/m.Q4_K.gguf'), {
      repo: 'org/name',
      revision: 'v1.0',
      file: 'sub/m.Q4_K.gguf',
    });
    assert.throws(() => parseHfRef('hf://justname'), /expected hf:\/\/<org>\/<name>/);
    assert.throws(() => parseHfRef('hf://org/name/../etc/passwd'), /bad model reference/);
  });

  it('picks the one GGUF, asks for --include among several, takes safetensors + json + tokenizer.model', () => {
    assert.deepEqual(selectFiles(['README.md', 'm.gguf']), ['m.gguf']);
    assert.throws(
      () => selectFiles(['a.Q4_0.gguf', 'a.Q8_0.gguf']),
      /2 GGUF files; pick one with --include.*a\.Q4_0\.gguf, a\.Q8_0\.gguf/,
    );
    assert.deepEqual(selectFiles(['a.Q4_0.gguf', 'a.Q8_0.gguf'], ['*Q8_0*']), ['a.Q8_0.gguf']);
    const st = [
      'config.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
      'tokenizer.json',
      'tokenizer.model',
      'README.md',
      'onnx/model.onnx',
      'original/params.json',
    ];
    assert.deepEqual(selectFiles(st), [
      'config.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
      'tokenizer.json',
      'tokenizer.model',
    ]);
    assert.throws(() => selectFiles(['README.md']), /no GGUF or safetensors/);
  });
});

describe('hf:// models against a local fake Hub', () => {
  let hub: FakeHub;
  let home: string;
  const env = () => ({ HF_HOME: home, HF_ENDPOINT: hub.endpoint });
  const config = (model: string) => ({ ...configFromEnv({}), model });

  before(async () => {
    hub = await new FakeHub().start();
    home = mkdtempSync(join(tmpdir(), 'loom-hfhome-'));
    hub.commit('loom-test/tiny', { 'stories260K-f16.gguf': F16, 'README.md': Buffer.from('hi') });
  });
  after(async () => {
    await hub.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('downloads into $HF_HOME/hub once, then serves the cached path without fetching a file again', async () => {
    const first = await resolveModelRef(config('hf://loom-test/tiny'), { env: env(), onEvent: () => undefined });
    assert.match(
      first.model,
      new RegExp(`^${home}/hub/models--loom-test--tiny/snapshots/[0-9a-f]{40}/stories260K-f16\\.gguf$`),
    );
    assert.ok(readFileSync(first.model).equals(F16));
    assert.equal(modelIdOf(first), 'loom-test/tiny');

    hub.requests.length = 0;
    const again = await resolveModelRef(config('hf://loom-test/tiny'), { env: env(), onEvent: () => undefined });
    assert.equal(again.model, first.model);
    // One listing to learn where main points; no HEAD, no GET of the file.
    assert.deepEqual(
      hub.requests.map((q) => `${q.server} ${q.method} ${q.path}`),
      ['hub GET /api/models/loom-test/tiny/revision/main'],
    );

    hub.requests.length = 0;
    const offline = await resolveModelRef(config('hf://loom-test/tiny/stories260K-f16.gguf'), {
      env: { ...env(), HF_HUB_OFFLINE: '1' },
    });
    assert.equal(offline.model, first.model);
    assert.equal(modelIdOf(offline), 'stories260K-f16');
    assert.equal(hub.requests.length, 0);

    const closed = `http://127.0.0.1:${await freePort()}`;
    const notes: string[] = [];
    const unreachable = await resolveModelRef(config('hf://loom-test/tiny'), {
      env: { ...env(), HF_ENDPOINT: closed },
      say: (m) => notes.push(m),
    });
    assert.equal(unreachable.model, first.model);
    assert.match(notes.join(), /unreachable; serving the cached copy/);
    await assert.rejects(
      resolveModelRef(config('hf://loom-test/other'), { env: { ...env(), HF_ENDPOINT: closed } }),
      /cannot reach the Hugging Face Hub.*and hf:\/\/loom-test\/other@main is not in the Hugging Face cache .*; fetch it into this cache where the Hub answers \(`loom model download loom-test\/other`, or any run without HF_HUB_OFFLINE\)$/,
    );
    assert.equal((await resolveModelRef(config('/some/local.gguf'))).model, '/some/local.gguf');
  });

  it('a safetensors repo resolves to its snapshot folder, named by the repo id', async () => {
    const files = {
      'config.json': Buffer.from('{}'),
      'model.safetensors': F16,
      'tokenizer.json': Buffer.from('{}'),
      'README.md': Buffer.from(''),
    };
    hub.commit('loom-test/st', files);
    const c = await resolveModelRef(config('hf://loom-test/st@main'), { env: env(), onEvent: () => undefined });
    assert.match(c.model, /\/models--loom-test--st\/snapshots\/[0-9a-f]{40}$/);
    assert.deepEqual(readdirSync(c.model).sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
    assert.equal(modelIdOf(c), 'loom-test/st');
    assert.equal(withModel(c, () => undefined).model, c.model);
  });

  it('loom model download prints the local path on stdout and JSON progress lines on stderr when not a TTY', async () => {
    const dir = join(home, 'plain');
    const child = spawn(process.execPath, [MAIN, 'model', 'download', 'loom-test/tiny', '--dir', dir], {
      env: { ...process.env, HF_HOME: home, HF_ENDPOINT: hub.endpoint, HF_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((ok) => child.on('exit', ok));
    assert.equal(code, 0, err);
    assert.equal(out.trim(), join(dir, 'stories260K-f16.gguf'));
    assert.equal(statSync(out.trim()).size, F16.length);
    const phases = err
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; phase: string });
    assert.ok(phases.every((p) => p.event === 'download'));
    assert.deepEqual([at(phases, 0).phase, phases.at(-1)!.phase], ['plan', 'finish']);
    assert.ok(phases.some((p) => p.phase === 'done'));

    const denied = spawn(process.execPath, [MAIN, 'model', 'download', 'loom-test/nope'], {
      env: { ...process.env, HF_HOME: home, HF_ENDPOINT: hub.endpoint },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let derr = '';
    denied.stderr.on('data', (d) => (derr += d));
    assert.equal(await new Promise((ok) => denied.on('exit', ok)), 1);
    assert.match(derr, /^loom model download: 404 .*check the repo id/m);
  });
});
