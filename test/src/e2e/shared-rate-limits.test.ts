import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { API_KEYS_KEY, at } from '@loom/common';
import { keyDigestHex } from '@loom/gateway';
import { clearOfWindowEdge } from '@loom/gateway/testing';
import { freePort, spawnService, type ServiceProcess } from '../harness/index.js';
import { startLocalCluster, type LocalCluster } from '../fixtures/local-cluster.js';

/**
 * Two gateway PROCESSES on one Redis enforce one per-key limit: the count lives in Redis, not in
 * either process. Keys come from Redis too (stored by sha256), so both gateways know them.
 */
describe('rate limits shared by two gateway processes', () => {
  let cluster: LocalCluster;
  const keyed: ServiceProcess[] = [];
  let urls: string[];

  before(async () => {
    cluster = await startLocalCluster();
    // The cluster's own gateway stays open (the fixture waits on /v1/models); these two require keys.
    for (const name of ['gateway-a', 'gateway-b'])
      keyed.push(
        await spawnService(
          'gateway',
          { ...cluster.env, LOOM_API_KEYS_REDIS: 'true', PORT: String(await freePort()) },
          { name },
        ),
      );
    urls = keyed.map((g) => g.url!.replace(/\/$/, ''));
    const r = new Redis(cluster.redis.url);
    await r.hset(API_KEYS_KEY, keyDigestHex('sk-shared'), JSON.stringify({ tenant: 'shared', rpm: 4 }));
    r.disconnect();
  });
  after(async () => {
    await Promise.all(keyed.map((g) => g.stop()));
    await cluster?.stop();
  });

  const complete = (url: string, key: string) =>
    fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: cluster.model, prompt: 'Once', max_tokens: 2 }),
    });
  const rejections = async (url: string) =>
    Number(
      /loom_rate_limited_requests_total\{limit="rpm"\} (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ??
        0,
    );

  test('four requests per minute across both gateways, then 429 with Retry-After from either', async () => {
    await clearOfWindowEdge(cluster.redis.url);
    const statuses: number[] = [];
    const retryAfter: (string | null)[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await complete(at(urls, i % 2), 'sk-shared');
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter.push(res.headers.get('retry-after'));
        const body = (await res.json()) as { error: { type: string; code: string } };
        assert.equal(body.error.type, 'rate_limit_error');
      } else await res.text();
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429, 429, 429]);
    for (const r of retryAfter) assert.ok(Number(r) >= 1 && Number(r) <= 60, String(r));
    // Each process counted the rejections it answered: two each.
    assert.deepEqual(await Promise.all(urls.map(rejections)), [2, 2]);
    assert.equal((await complete(at(urls, 1), 'sk-unknown')).status, 401);
  });
});
