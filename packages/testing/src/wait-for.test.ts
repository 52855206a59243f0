import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { freePort } from '@loom/common';
import { waitFor, waitForHttp } from './wait-for.js';

describe('waitFor', () => {
  it('returns the first truthy value and treats throws as not yet', async () => {
    let n = 0;
    const v = await waitFor(
      () => {
        n++;
        if (n < 3) throw new Error('not yet');
        return n;
      },
      { intervalMs: 1 },
    );
    assert.equal(v, 3);
  });

  it('times out naming what it waited for and the last error', async () => {
    await assert.rejects(
      waitFor(
        () => {
          throw new Error('still down');
        },
        { timeoutMs: 50, intervalMs: 5, what: 'the moon' },
      ),
      /waiting for the moon \(last error: still down\)/,
    );
  });

  it('waitForHttp waits until a server comes up', async () => {
    const port = await freePort();
    const srv = createServer((_req, res) => res.end('ok'));
    setTimeout(() => srv.listen(port, '127.0.0.1'), 200);
    try {
      const res = await waitForHttp(`http://127.0.0.1:${port}/`, { timeoutMs: 5_000 });
      assert.equal(await res.text(), 'ok');
    } finally {
      srv.close();
    }
  });
});
