import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { useRedis } from './use-redis.js';

describe('useRedis', () => {
  const opened: { status: string }[] = [];
  const redis = useRedis();
  after(() => {
    // Registered after useRedis(): its hook has closed every connection by now.
    for (const c of opened) assert.equal(c.status, 'end');
  });

  test('serves the tests of its describe; connect() gives working connections', async () => {
    assert.match(redis.url, /^redis:\/\//);
    const a = redis.connect('use-redis-a');
    const b = redis.connect();
    opened.push(a, b);
    await a.set('k', 'v');
    assert.equal(await b.get('k'), 'v');
  });
});
