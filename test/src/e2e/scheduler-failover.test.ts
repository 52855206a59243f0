import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { spawnService, type ServiceProcess } from '../harness/index.js';
import { startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';
import { assertUnchanged, streamWhileDisturbed } from '../fixtures/stream-while-disturbed.js';

const PROMPTS = ['Once upon a time', 'The cat sat', 'Lily and Ben went', 'One day a bird'];
const MAX_TOKENS = 400;

/**
 * DESIGN.md's failure model: the scheduler dies. A standby takes the lease (with a larger fencing
 * token) within 5 s, resets the workers and resumes every in-flight request from Redis; clients'
 * streams just continue, with the undisturbed greedy text.
 */
describe('the active scheduler dies', () => {
  let cluster: LocalCluster;
  let standby: ServiceProcess;
  let client: OpenAI;

  before(async () => {
    cluster = await startLocalCluster({ workers: 1 });
    await cluster.scheduler.waitForLog((r) => r.msg === 'elected scheduler leader', 10_000);
    standby = await spawnService('scheduler', cluster.env, { name: 'standby-scheduler' });
    client = new OpenAI({ baseURL: cluster.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await standby?.stop();
    await cluster?.stop();
  });

  test('a standby takes over within 5 s and every stream completes unchanged', async () => {
    assert.ok(
      !standby.logs.some((r) => r.msg === 'elected scheduler leader'),
      'the second scheduler waits as a standby',
    );
    const bodies = PROMPTS.map((prompt) => ({ model: cluster.model, prompt, max_tokens: MAX_TOKENS, temperature: 0 }));
    let killedAt = 0;
    const run = await streamWhileDisturbed(client, bodies, () => {
      killedAt = Date.now();
      cluster.scheduler.kill('SIGKILL');
    });
    const elected = await standby.waitForLog((r) => r.msg === 'elected scheduler leader', 10_000);
    const takeoverMs = Date.parse(String(elected.time)) - killedAt;
    assert.ok(takeoverMs < 5000, `standby took over in ${takeoverMs} ms`);
    const firstToken = Number(cluster.scheduler.logs.find((r) => r.msg === 'elected scheduler leader')!.fencingToken);
    assert.ok(Number(elected.fencingToken) > firstToken, 'the new leader holds a larger fencing token');
    assert.ok(
      standby.logs.some((r) => r.msg === 'request resumed from its output stream'),
      'the new leader resumed requests mid-generation',
    );
    assertUnchanged(run);
  });
});
