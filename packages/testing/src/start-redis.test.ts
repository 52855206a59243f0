import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis } from './start-redis.js';

function client(url: string): Redis {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined); // connect() rejects with the error; no need for ioredis to print it too
  return r;
}

describe('startRedis', () => {
  it('starts a Redis that answers PING, and stop() takes it away', async () => {
    const redis = await startRedis();
    const r = client(redis.url);
    try {
      await r.connect();
      assert.equal(await r.ping(), 'PONG');
    } finally {
      r.disconnect();
    }
    await redis.stop();
    const after = client(redis.url);
    await assert.rejects(after.connect());
    after.disconnect();
  });

  it('keeps data across restart() when persistent', async () => {
    const redis = await startRedis({ persistent: true });
    try {
      const r = client(redis.url);
      await r.connect();
      await r.xadd('loom:test:stream', '*', 'tok', '42');
      r.disconnect();
      await redis.restart();
      const again = client(redis.url);
      await again.connect();
      const entries = await again.xrange('loom:test:stream', '-', '+');
      again.disconnect();
      assert.deepEqual(
        entries.map(([, fields]) => fields),
        [['tok', '42']],
      );
    } finally {
      await redis.stop();
    }
  });
});
