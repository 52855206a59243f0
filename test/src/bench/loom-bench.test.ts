import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, spawnProcess, startRedis, type ManagedProcess, type RedisHandle } from '@loom/testing';
import { cliMain, sharedDir } from '../harness/paths.js';

/** Runs the real `loom` CLI to completion; its stdout. */
async function loom(args: string[]): Promise<string> {
  const p = spawnProcess(process.execPath, [cliMain(), ...args], { name: `loom ${args[0]}` });
  const exit = await p.exited;
  assert.equal(exit.code, 0, `loom ${args.join(' ')} failed:\n${p.output()}`);
  return p.output();
}

/**
 * `loom bench` against a real `loom up` cluster (Redis, gateway, scheduler, worker, the engine on
 * stories260K): the result JSON carries vLLM's field names with sane values, the HTML report is one
 * self-contained page, and `loom bench compare` reads two results. Values are checked for sense
 * (counts, token totals, ordering of percentiles), never for speed.
 */
describe('loom bench against loom up', () => {
  let redis: RedisHandle;
  let up: ManagedProcess;
  let base = '';
  const dir = mkdtempSync(join(os.tmpdir(), 'loom-bench-'));

  before(async () => {
    redis = await startRedis();
    const port = await freePort();
    const model = join(sharedDir(), 'models', 'stories260K', 'stories260K-f32.gguf');
    up = spawnProcess(process.execPath, [cliMain(), 'up', '--port', String(port)], {
      name: 'loom up',
      env: { REDIS_URL: redis.url, LOOM_MODEL: model, LOOM_THREADS: '1' },
    });
    await up.waitForLog((r) => String(r.msg).startsWith('Loom is serving'), 60_000);
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await up?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('random dataset on completions: JSON with vLLM fields and an HTML report', async () => {
    const stdout = await loom([
      'bench',
      '--base-url',
      base,
      '--num-prompts',
      '12',
      '--random-input-len',
      '32',
      '--random-output-len',
      '16',
      '--max-concurrency',
      '4',
      '--num-warmups',
      '1',
      '--goodput',
      'ttft:60000',
      'tpot:60000',
      '--result-dir',
      join(dir, 'a'),
      '--result-filename',
      'a.json',
    ]);
    assert.match(stdout, /Serving Benchmark Result/);
    const r = JSON.parse(readFileSync(join(dir, 'a', 'a.json'), 'utf8')) as Record<string, number | string>;
    assert.equal(r.model_id, 'stories260K-f32');
    assert.equal(r.completed, 12);
    assert.equal(r.failed, 0);
    assert.equal(r.total_input_tokens, 12 * 32);
    assert.equal(r.total_output_tokens, 12 * 16, 'the random dataset ignores EOS: every request its length');
    assert.equal(r.max_concurrency, 4);
    assert.ok(Number(r.max_concurrent_requests) <= 4 && Number(r.max_concurrent_requests) >= 1);
    const d = Number(r.duration);
    assert.ok(d > 0);
    assert.ok(Math.abs(Number(r.output_throughput) - (12 * 16) / d) < 1e-6);
    assert.ok(Math.abs(Number(r.request_goodput) - 12 / d) < 1e-6, 'generous SLOs: every request is good');
    for (const m of ['ttft', 'tpot', 'itl', 'e2el']) {
      const med = Number(r[`median_${m}_ms`]);
      assert.ok(med > 0, `median_${m}_ms`);
      assert.ok(Number(r[`p90_${m}_ms`]) >= med && Number(r[`p99_${m}_ms`]) >= Number(r[`p90_${m}_ms`]), m);
      assert.ok(Number(r[`mean_${m}_ms`]) > 0);
    }
    assert.ok(Number(r.median_e2el_ms) >= Number(r.median_ttft_ms));
    const html = readFileSync(join(dir, 'a', 'a.html'), 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 6, 'four latency histograms, throughput and running requests');
    assert.doesNotMatch(html, /<script|<link|src=|@import/, 'self-contained: nothing loaded from elsewhere');
  });

  test('shared-prefix dataset on chat completions, then compare', async () => {
    await loom([
      'bench',
      '--base-url',
      `${base}/v1`,
      '--backend',
      'openai-chat',
      '--dataset-name',
      'shared-prefix',
      '--num-prompts',
      '8',
      '--shared-prefix-num-prefixes',
      '2',
      '--shared-prefix-len',
      '32',
      '--shared-prefix-question-len',
      '4',
      '--output-len',
      '8',
      '--ignore-eos',
      '--request-rate',
      '50',
      '--seed',
      '3',
      '--result-dir',
      join(dir, 'b'),
      '--disable-tqdm',
    ]);
    const [file] = readdirSync(join(dir, 'b')).filter((f) => f.endsWith('.json'));
    assert.match(file!, /^openai-chat-50qps-stories260K-f32-\d{8}-\d{6}\.json$/, 'vLLM-style file name');
    const r = JSON.parse(readFileSync(join(dir, 'b', file!), 'utf8')) as Record<string, number | string>;
    assert.equal(r.completed, 8);
    assert.equal(r.failed, 0);
    assert.equal(r.total_output_tokens, 64);
    assert.equal(r.request_rate, 50);
    assert.equal(r.endpoint, '/v1/chat/completions');
    const cmp = await loom(['bench', 'compare', join(dir, 'a', 'a.json'), join(dir, 'b', file!)]);
    assert.match(cmp, /^output_throughput\s+[\d.]+\s+[\d.]+\s+[\d.]+x/m);
    assert.match(cmp, /^median_ttft_ms\s/m);
  });
});
