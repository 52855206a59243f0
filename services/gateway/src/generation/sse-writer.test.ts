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

/** An SseWriter on a real response; `text()` is what the client has received so far, `writes` the socket writes. */
async function sseOnLoopback(keepAliveMs: number) {
  let sse!: SseWriter;
  let writes = 0;
  let ready!: () => void;
  const opened = new Promise<void>((r) => (ready = r));
  const server = http.createServer((_req, res) => {
    const write = res.write.bind(res) as (chunk: string) => boolean;
    res.write = ((chunk: string) => {
      writes++;
      return write(chunk);
    }) as typeof res.write;
    sse = new SseWriter(res, keepAliveMs);
    sse.open();
    ready();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  let received = '';
  const res = await new Promise<http.IncomingMessage>((r) => http.get({ host: '127.0.0.1', port, path: '/' }, r));
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => (received += chunk));
  await opened;
  return {
    sse,
    writes: () => writes,
    text: () => received,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

test('queued events go out in one write at flush(), in order', async () => {
  const t = await sseOnLoopback(60_000);
  try {
    const before = t.writes();
    t.sse.queue({ a: 1 });
    t.sse.queue({ a: 2 });
    t.sse.queue({ a: 3 });
    assert.equal(t.writes(), before, 'nothing written before flush()');
    t.sse.flush();
    assert.equal(t.writes(), before + 1);
    t.sse.done();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(t.text(), 'data: {"a":1}\n\ndata: {"a":2}\n\ndata: {"a":3}\n\ndata: [DONE]\n\n');
  } finally {
    await t.close();
  }
});

test('a keep-alive comment goes out only after keepAliveMs without a write', async () => {
  const t = await sseOnLoopback(1000);
  try {
    // Events every 20 ms for 1.5 s: the stream is never quiet for 1 s, so no comment.
    for (let i = 0; i < 75; i++) {
      t.sse.send({ i });
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(!t.text().includes(': keep-alive'), 'no comment while events flow');
    // Then quiet: a comment within about keepAliveMs (slack for a loaded machine).
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(t.text().includes(': keep-alive'), 'a comment once the stream was quiet');
  } finally {
    await t.close();
  }
});
