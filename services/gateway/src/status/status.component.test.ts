import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  BULLMQ_PREFIX,
  DEFAULT_SAMPLING,
  MODELS_KEY,
  SCHEDULERS_KEY,
  SCHEDULER_FENCE_KEY,
  SCHEDULER_LEASE_KEY,
  WORKERS_KEY,
  configFromEnv,
  createRedis,
  freePort,
  modelCardKey,
  requestQueueName,
  schedulerStatusKey,
  workerHeartbeatKey,
  type ClusterStatus,
  type SchedulerStatus,
  type WorkerRegistration,
} from '@loom/common';
import { startRedis, type RedisHandle } from '@loom/testing';
import { startGateway, type RunningGateway } from '../gateway.js';
import { FakeBackend } from '../testing/fake-backend.js';
import { modelCardFromGguf } from '../testing/model-card.js';
import { STORIES_GGUF } from '../testing/spec-path.js';
import { RedisClusterState } from './redis-cluster-state.js';

const card = modelCardFromGguf(STORIES_GGUF, 'stories260K');
const KEY = 'sk-status';

/**
 * GET /status over a real Redis holding what a worker, a scheduler and the gateway write there (the
 * whole chain with real processes is test/src/e2e/web-ui.test.ts), and the web app's static files.
 */
describe('GET /status and the web app', () => {
  let local: RedisHandle;
  let redis: Redis;
  let gw: RunningGateway;
  const get = (path: string, key?: string, headers: Record<string, string> = {}) =>
    fetch(gw.url + path, { headers: { ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) } });

  before(async () => {
    local = await startRedis();
    redis = createRedis(local.url, 'test');
    gw = await startGateway(
      configFromEnv({}, { host: '127.0.0.1', port: 0, redisUrl: local.url, logLevel: 'silent', apiKeys: KEY }),
    );
  });
  after(async () => {
    await gw.close();
    redis.disconnect();
    await local.stop();
  });

  test('the cluster as Redis holds it: live workers with the leader figures, queues, scheduler terms', async () => {
    await redis.sadd(MODELS_KEY, card.modelId);
    await redis.set(modelCardKey(card.modelId), JSON.stringify(card));
    const reg = (workerId: string): WorkerRegistration => ({
      workerId,
      address: `127.0.0.1:${workerId === 'w-live' ? 1 : 2}`,
      model: card.modelId,
      pid: 42,
      startedAt: Date.now() - 60_000,
    });
    // One live worker, one whose heartbeat lapsed (killed without deregistering).
    await redis.hset(WORKERS_KEY, 'w-live', JSON.stringify(reg('w-live')), 'w-dead', JSON.stringify(reg('w-dead')));
    await redis.set(workerHeartbeatKey('w-live'), String(Date.now()), 'PX', 60_000);
    const leader: SchedulerStatus = {
      holderId: 'host:7:abc',
      leading: true,
      fencingToken: 3,
      startedAt: Date.now() - 30_000,
      termStartedAt: Date.now() - 20_000,
      updatedAt: Date.now(),
      acquisitions: 1,
      workers: [
        {
          workerId: 'w-live',
          address: '127.0.0.1:1',
          model: card.modelId,
          state: 'up',
          device: { kernels: 'avx2', threads: 4, weightType: 'f32' },
          running: 2,
          waiting: 0,
          kvUsage: 0.5,
          numBlocks: 128,
          blockSize: 16,
          prefixQueriedTokens: 40,
          prefixHitTokens: 10,
          preemptions: 0,
          steps: 12,
          joinedAt: Date.now() - 20_000,
        },
      ],
      parked: {},
    };
    await redis.sadd(SCHEDULERS_KEY, leader.holderId, 'host:9:gone');
    await redis.set(schedulerStatusKey(leader.holderId), JSON.stringify(leader), 'PX', 60_000);
    await redis.set(SCHEDULER_LEASE_KEY, leader.holderId);
    await redis.set(SCHEDULER_FENCE_KEY, '3');
    const conn = createRedis(local.url);
    const queue = new Queue(requestQueueName(card.modelId), { connection: conn, prefix: BULLMQ_PREFIX });
    try {
      await queue.add('generate', { requestId: 'r1', model: card.modelId, sampling: DEFAULT_SAMPLING });
      await queue.add('generate', { requestId: 'r2' }, { priority: 3 });

      const refused = await get('/status');
      assert.equal(refused.status, 401, 'behind the API key like the API');
      const res = await get('/status', KEY);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const s = (await res.json()) as ClusterStatus;
      assert.equal(s.object, 'cluster.status');
      assert.equal(s.gateway.api_keys, true);
      assert.deepEqual(
        s.workers.map((w) => [w.id, w.state, w.running, w.kv_usage, w.prefix_hit_rate, w.pid]),
        [['w-live', 'up', 2, 0.5, 0.25, 42]],
      );
      assert.deepEqual(s.models, [
        { id: card.modelId, max_model_len: card.contextLength, queue: { waiting: 2, active: 0, parked: 0 } },
      ]);
      assert.equal(s.scheduler.leader, leader.holderId);
      assert.equal(s.scheduler.terms, 3);
      assert.deepEqual(
        s.scheduler.instances.map((i) => i.id),
        [leader.holderId],
        'a listed scheduler without a live record is not shown',
      );
      assert.deepEqual(s.latency.time_to_first_token, { count: 0, p50: null, p90: null, p99: null });
    } finally {
      await queue.close();
      conn.disconnect();
    }
  });

  test('/ serves the page and /ui/* its files, public, with a strict CSP and revalidation', async () => {
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'; script-src 'self'/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/ui\/app.js"><\/script>/);
    assert.doesNotMatch(html, /https?:\/\//, 'nothing is loaded from elsewhere');

    const js = await get('/ui/app.js');
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const etag = js.headers.get('etag')!;
    assert.equal((await get('/ui/app.js', undefined, { 'if-none-match': etag })).status, 304);
    assert.equal((await get('/ui/style.css')).headers.get('content-type'), 'text/css; charset=utf-8');
    for (const path of ['/ui/nope.js', '/ui/cluster-view.d.ts', '/ui/%2e%2e/package.json'])
      assert.equal((await get(path)).status, 404, path);
  });
});

test('GET /status answers 503 in bounded time when Redis does not answer', async () => {
  const clusterState = new RedisClusterState(`redis://127.0.0.1:${await freePort()}`);
  const gw = await startGateway(configFromEnv({}, { host: '127.0.0.1', port: 0, logLevel: 'silent' }), {
    backend: new FakeBackend([card]),
    clusterState,
  });
  try {
    const t0 = Date.now();
    const res = await fetch(gw.url + '/status');
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'backend_unavailable');
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    await gw.close();
    await clusterState.close();
  }
});
