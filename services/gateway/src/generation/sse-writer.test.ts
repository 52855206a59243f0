import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SseWriter } from './sse-writer.js';

test('drained() holds a producer to the pace of a client that stops reading, and lets it finish when it reads again', async () => {
  // ~96 MB in all: half of it is beyond what loopback socket buffers can hold (Linux autotunes them
  // up to the tcp_rmem + tcp_wmem maxima: 6 + 4 MB by default, 36 MB on some hosts).
  const EVENTS = 24_000;
  const payload = { text: 'x'.repeat(4000) };
  let sent = 0;
  let producerDone!: () => void;
  const produced = new Promise<void>((r) => (producerDone = r));
  const server = http.createServer(async (_req, res) => {
    const sse = new SseWriter(res, 60_000);
    sse.open();
    for (; sent < EVENTS; sent++) {
      sse.send(payload);
      await sse.drained();
    }
    sse.done();
    producerDone();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await new Promise<http.IncomingMessage>((r) => http.get({ host: '127.0.0.1', port, path: '/' }, r));
    res.pause();
    await new Promise((r) => setTimeout(r, 300));
    const whilePaused = sent;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sent, whilePaused, 'the producer waits while the client does not read');
    assert.ok(whilePaused < EVENTS / 2, `only what the socket buffers hold was sent: ${whilePaused}`);
    let events = 0;
    let tail = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const text = tail + chunk;
      const parts = text.split('\n\n');
      tail = parts.pop()!;
      events += parts.length;
    });
    res.resume();
    await produced;
    await new Promise((r) => res.on('end', r));
    assert.equal(events, EVENTS + 1, 'every event, then [DONE]');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
