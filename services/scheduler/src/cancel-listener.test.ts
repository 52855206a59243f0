import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { CANCEL_STREAM_KEY, OUTPUT_STREAM_FIELD, createLogger, type CancelEvent } from '@loom/common';
import { waitFor, useRedis } from '@loom/testing';
import { CancelListener } from './cancel-listener.js';

describe('CancelListener against a real redis-server', () => {
  const local = useRedis();
  let redis: Redis;
  before(() => {
    redis = local.connect('cancel-listener-test');
  });

  const send = (requestId: string) =>
    redis.xadd(CANCEL_STREAM_KEY, '*', OUTPUT_STREAM_FIELD, JSON.stringify({ requestId, reason: 'test' }));

  test('reports cancels sent after it started, including one sent between a timed-out read and the next', async () => {
    await send('before-start');
    const conn = redis.duplicate();
    // The listener's own connection, its XREAD watched: when a read times out (1 s with nothing new),
    // a cancel is added before the reply reaches the listener, so before its next XREAD is sent.
    const xread = conn.xread.bind(conn) as (...args: unknown[]) => Promise<unknown>;
    let injected = false;
    (conn as unknown as { xread: (...args: unknown[]) => Promise<unknown> }).xread = async (...args) => {
      const res = await xread(...args);
      if (res === null && !injected) {
        injected = true;
        await send('between-reads');
      }
      return res;
    };
    const got: string[] = [];
    const listener = new CancelListener(
      conn,
      (e: CancelEvent) => got.push(e.requestId),
      createLogger('test', 'silent'),
    );
    listener.start();
    try {
      await waitFor(() => injected, { timeoutMs: 5000 });
      await waitFor(() => got.length > 0, { timeoutMs: 3000 });
      await send('later');
      await waitFor(() => got.length > 1, { timeoutMs: 3000 });
      assert.deepEqual(got, ['between-reads', 'later'], 'every cancel after the start, none from before it');
    } finally {
      listener.stop();
    }
  });
});
