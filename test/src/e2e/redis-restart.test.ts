import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';
import { assertUnchanged, streamWhileDisturbed } from '../fixtures/stream-while-disturbed.js';

const PROMPTS = [
  'Once upon a time',
  'The cat sat',
  'Lily and Ben went',
  'One day a bird',
  'Tom had a red',
  'The sun was hot',
];
const MAX_TOKENS = 300;

/**
 * DESIGN.md's failure model: Redis restarts with AOF on, queues and streams survive, every process
 * reconnects and in-flight work resumes. Redis is SIGKILLed (no final save) mid-generation and
 * started again on the same port and data: each client's stream continues with no gap, duplicate
 * or error, and a request sent after the restart is served as usual.
 */
describe('Redis restarts mid-generation', () => {
  let cluster: LocalCluster;
  let client: OpenAI;

  before(async () => {
    cluster = await startLocalCluster({ workers: 1, persistentRedis: true });
    client = new OpenAI({ baseURL: cluster.baseURL, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('every stream completes with the undisturbed greedy text, and the cluster serves on', async () => {
    const bodies = PROMPTS.map((prompt) => ({ model: cluster.model, prompt, max_tokens: MAX_TOKENS, temperature: 0 }));
    let restarted: Promise<void> | undefined;
    const run = await streamWhileDisturbed(client, bodies, () => (restarted = cluster.redis.restart()));
    await restarted;
    assertUnchanged(run);
    const after = await client.completions.create({
      model: cluster.model,
      prompt: 'Once upon a time',
      max_tokens: 20,
      temperature: 0,
    });
    assert.equal(after.choices[0]!.text, run.undisturbed[0]!.slice(0, after.choices[0]!.text.length));
  });
});
