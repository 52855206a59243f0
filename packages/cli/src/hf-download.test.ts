import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { FakeHub } from './testing/fake-hub.js';
import { hfDownload, type DownloadEvent, type HfDownloadOptions } from './hf-download.js';
import { freePort } from '@loom/common';
import { REPO_ROOT } from './repo-paths.js';

const MODELS = join(REPO_ROOT, '..', 'shared', 'models', 'stories260K');
const F16 = readFileSync(join(MODELS, 'stories260K-f16.gguf'));
const F32 = readFileSync(join(MODELS, 'stories260K-f32.gguf'));
const CONFIG = Buffer.from(JSON.stringify({ model_type: 'llama' }));
const REPO = 'loom-test/stories260K';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('hfDownload against a local fake Hub', () => {
  let hub: FakeHub;
  let cache: string;
  let commit: string;
  const repoDir = () => join(cache, `models--loom-test--stories260K`);
  const get = (o: Partial<HfDownloadOptions> = {}) =>
    hfDownload({ repo: REPO, endpoint: hub.endpoint, hubCache: cache, retries: 0, ...o });

  before(async () => (hub = await new FakeHub().start()));
  after(async () => hub.close());
  beforeEach(() => {
    cache = mkdtempSync(join(tmpdir(), 'loom-hf-'));
    commit = hub.commit(REPO, {
      'stories260K-f16.gguf': F16,
      'config.json': CONFIG,
      'README.md': Buffer.from('# tiny\n'),
    });
    hub.requests.length = 0;
    hub.cuts = 0;
    hub.ignoreRange = false;
    hub.afterHead = undefined;
  });
  afterEach(() => rmSync(cache, { recursive: true, force: true }));

  it('downloads the single GGUF into the cache layout: blob by sha256, snapshot symlink, refs/main', async () => {
    const events: DownloadEvent[] = [];
    const r = await get({ onEvent: (e) => events.push(e) });
    assert.equal(r.commit, commit);
    assert.deepEqual(r.files, ['stories260K-f16.gguf']);
    assert.equal(r.root, join(repoDir(), 'snapshots', commit));
    const link = join(r.root, 'stories260K-f16.gguf');
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), join('..', '..', 'blobs', sha256(F16)));
    assert.ok(readFileSync(link).equals(F16));
    assert.equal(readFileSync(join(repoDir(), 'refs', 'main'), 'utf8'), commit);
    assert.deepEqual(readdirSync(join(repoDir(), 'blobs')), [sha256(F16)]);
    assert.equal(r.receivedBytes, F16.length);
    // Files are fetched at the commit, through the CDN redirect.
    assert.equal(hub.count('hub', `/resolve/${commit}/stories260K-f16.gguf`), 2); // HEAD + GET
    assert.equal(hub.count('cdn', `/blobs/${sha256(F16)}`), 1);
    const types = events.map((e) => e.type);
    assert.deepEqual([types[0], types[1], types.at(-2), types.at(-1)], ['plan', 'start', 'done', 'finish']);
  });

  it('--include picks files by glob; git (non-LFS) files come straight from the Hub; a rerun fetches nothing', async () => {
    const r = await get({ include: ['*.json', '*.gguf'] });
    assert.deepEqual(r.files.sort(), ['config.json', 'stories260K-f16.gguf']);
    assert.ok(readFileSync(join(r.root, 'config.json')).equals(CONFIG));
    hub.requests.length = 0;
    const again = await get({ include: ['*.json', '*.gguf'] });
    assert.equal(again.receivedBytes, 0);
    assert.deepEqual(
      hub.requests.map((q) => q.path),
      [`/api/models/${REPO}/revision/main`],
    );
  });

  it('resumes with a Range request after the server cuts the connection mid-file; the result is byte-identical', async () => {
    hub.cuts = 1;
    hub.cutAfter = 200_000;
    await assert.rejects(get(), /broke off.*rerun resumes/);
    const partial = join(repoDir(), 'blobs', `${sha256(F16)}.incomplete`);
    const have = statSync(partial).size;
    assert.ok(have > 0 && have < F16.length, `partial holds ${have} bytes`);
    assert.ok(readFileSync(partial).equals(F16.subarray(0, have)));

    const events: DownloadEvent[] = [];
    const r = await get({ onEvent: (e) => events.push(e) });
    const cdnGets = hub.requests.filter((q) => q.server === 'cdn');
    assert.equal(cdnGets.at(-1)!.range, `bytes=${have}-`);
    assert.deepEqual(
      events.find((e) => e.type === 'start'),
      { type: 'start', file: 'stories260K-f16.gguf', size: F16.length, resumeFrom: have },
    );
    assert.equal(r.receivedBytes, F16.length - have);
    assert.ok(readFileSync(join(r.root, 'stories260K-f16.gguf')).equals(F16));
    assert.ok(!existsSync(partial));
  });

  it('retries within one run, resuming where the cut left off', async () => {
    hub.cuts = 2;
    const r = await get({ retries: 3 });
    const ranges = hub.requests.filter((q) => q.server === 'cdn').map((q) => q.range);
    assert.deepEqual(ranges, [undefined, `bytes=${hub.cutAfter}-`, `bytes=${2 * hub.cutAfter}-`]);
    assert.ok(readFileSync(join(r.root, 'stories260K-f16.gguf')).equals(F16));
  });

  it('starts over cleanly when the server answers a Range request with 200', async () => {
    hub.cuts = 1;
    await assert.rejects(get());
    hub.ignoreRange = true;
    const r = await get();
    assert.ok(hub.requests.filter((q) => q.server === 'cdn').at(-1)!.range);
    assert.equal(r.receivedBytes, F16.length);
    assert.ok(readFileSync(join(r.root, 'stories260K-f16.gguf')).equals(F16));
  });

  it('starts over when the file changed (new ETag) since the partial download', async () => {
    hub.cuts = 1;
    await assert.rejects(get());
    const newCommit = hub.commit(REPO, { 'stories260K-f16.gguf': F32 });
    const r = await get();
    assert.equal(r.commit, newCommit);
    assert.equal(hub.requests.filter((q) => q.server === 'cdn').at(-1)!.range, undefined);
    assert.ok(readFileSync(join(r.root, 'stories260K-f16.gguf')).equals(F32));
    assert.ok(existsSync(join(repoDir(), 'blobs', sha256(F32))));
  });

  it('starts over when the ETag changes between the HEAD and the GET', async () => {
    hub.afterHead = (repo, file) => {
      hub.afterHead = undefined;
      hub.rewrite(repo, file, F32);
    };
    const r = await get({ retries: 1 });
    assert.ok(readFileSync(join(r.root, 'stories260K-f16.gguf')).equals(F32));
  });

  it('401 for a private repo without a token says to set HF_TOKEN; with it, the token never reaches the CDN', async () => {
    hub.commit('loom-test/private', { 'm.gguf': F16 }, 'hf_secret');
    await assert.rejects(get({ repo: 'loom-test/private' }), /401.*set HF_TOKEN/);
    const r = await get({ repo: 'loom-test/private', token: 'hf_secret' });
    assert.ok(readFileSync(join(r.root, 'm.gguf')).equals(F16));
    assert.ok(
      hub.requests
        .filter((q) => q.server === 'hub' && q.path.includes('private'))
        .every((q) => q.authorization === 'Bearer hf_secret' || !q.path.includes('resolve')),
    );
    assert.ok(hub.requests.filter((q) => q.server === 'cdn').every((q) => q.authorization === undefined));
  });

  it('404 says to check the repo id and revision; an unreachable Hub says how to use a local file', async () => {
    await assert.rejects(get({ repo: 'loom-test/nope' }), /404.*check the repo id \(org\/name\) and the revision/);
    await assert.rejects(get({ revision: 'v9' }), /404.*check the repo id/);
    const closed = `http://127.0.0.1:${await freePort()}`;
    await assert.rejects(get({ endpoint: closed }), (err: Error) => {
      assert.ok(err.message.startsWith(`cannot reach the Hugging Face Hub at ${closed} (ECONNREFUSED)`), err.message);
      assert.match(err.message, /point --model \/ LOOM_MODEL at the local GGUF file/);
      return true;
    });
  });

  it('--dir writes plain files and skips them on a rerun', async () => {
    const dir = join(cache, 'plain');
    const r = await get({ dir, include: ['*.gguf', 'README.md'] });
    assert.equal(r.root, dir);
    assert.ok(lstatSync(join(dir, 'stories260K-f16.gguf')).isFile());
    assert.ok(readFileSync(join(dir, 'stories260K-f16.gguf')).equals(F16));
    hub.requests.length = 0;
    await get({ dir, include: ['*.gguf', 'README.md'] });
    assert.equal(hub.count('hub', '/resolve/'), 0);
  });
});
