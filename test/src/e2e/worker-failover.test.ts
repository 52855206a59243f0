import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { spawnService, waitFor } from '../harness/index.js';
import { startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';
import { assertUnchanged, streamWhileDisturbed } from '../fixtures/stream-while-disturbed.js';

const PROMPTS = [
  'Once upon a time',
  'The cat sat',
  'Lily and Ben went',
  'One day a bird',
  'Tom had a red',
  'The sun was hot',
  'Mom and dad',
  'A little dog',
];
const MAX_TOKENS = 300;

/**
 * DESIGN.md's failure model: a worker killed mid-generation loses nothing. Its sequences are
 * recomputed on the surviving worker from prompt + tokens already streamed, and each client's
 * stream continues with no gap, duplicate or error: the text equals an undisturbed greedy run.
 */
describe('a worker dies mid-generation', () => {
  let cluster: LocalCluster;
  let client: OpenAI;

  before(async () => {
    cluster = await startLocalCluster({ workers: 2 });
    client = new OpenAI({ baseURL: cluster.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await cluster?.stop();
  });

  const bodies = () =>
    PROMPTS.map((prompt) => ({ model: cluster.model, prompt, max_tokens: MAX_TOKENS, temperature: 0 }));

  test('every stream completes with the undisturbed greedy text after SIGKILL of a worker', async () => {
    const victim = cluster.workers[0]!;
    const run = await streamWhileDisturbed(client, bodies(), () => victim.kill('SIGKILL'));
    const exit = await victim.exited;
    assert.equal(exit.signal, 'SIGKILL');
    assertUnchanged(run);
    const lost = cluster.scheduler.logs.find((r) => r.msg === 'worker lost');
    assert.ok(lost, 'the scheduler noticed the lost worker');
    assert.ok(Number(lost.requeued) > 0, 'some sequences were resumed elsewhere');
  });

  test('a worker stopped with SIGTERM drains: its requests finish elsewhere, unchanged, and it exits 0', async () => {
    const joined = () => cluster.scheduler.logs.filter((r) => r.msg === 'worker joined').length;
    const before = joined();
    const fresh = await spawnService('worker', { ...cluster.env, LOOM_WORKER_ID: 'w-fresh' }, { name: 'worker-fresh' });
    cluster.workers.push(fresh);
    await waitFor(() => joined() > before, { timeoutMs: 20_000 });
    const victim = cluster.workers[1]!;
    const run = await streamWhileDisturbed(client, bodies(), () => victim.kill('SIGTERM'));
    const exit = await victim.exited;
    assert.equal(exit.code, 0, 'the drained worker exits cleanly');
    assertUnchanged(run);
  });
});
