import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { OpenAIEndpoint } from './openai-endpoint.js';
import { SseParser } from './sse-parser.js';
import { at } from '@loom/common';

describe('SseParser', () => {
  test('splits events across arbitrary byte boundaries, LF or CRLF, skipping comments', () => {
    const p = new SseParser();
    const text = ': ping\n\ndata: {"a":1}\n\ndata: x\r\ndata: y\r\n\r\ndata: [DONE]\n\n';
    const bytes = new TextEncoder().encode(text);
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i += 3) out.push(...p.push(bytes.subarray(i, i + 3)));
    assert.deepEqual(out, ['{"a":1}', 'x\ny', '[DONE]']);
  });
});

/**
 * The client against a scripted SSE server on loopback (the client is the unit under test; the
 * real gateway is driven by test/src/bench/loom-bench.test.ts).
 */
describe('OpenAIEndpoint.send', () => {
  let server: http.Server;
  let base = '';
  const bodies: Record<string, unknown>[] = [];
  const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  before(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as Record<string, unknown>;
        bodies.push(body);
        const mode = String(body.model);
        if (mode === 'busy') {
          res.writeHead(429, { 'retry-after': '3', 'content-type': 'application/json' });
          res.end('{"error":{"message":"queue full"}}');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        void (async () => {
          const chat = req.url === '/v1/chat/completions';
          if (chat) res.write(chunk({ id: 'c1', choices: [{ delta: { role: 'assistant', content: '' } }] }));
          for (const [i, t] of ['Once', ' upon', ' a'].entries()) {
            await sleep(20);
            const choice = chat ? { delta: { content: t } } : { text: t };
            res.write(
              chunk({ id: 'c1', choices: [{ ...choice, finish_reason: i === 2 && mode !== 'cut' ? 'length' : null }] }),
            );
            if (mode === 'cut' && i === 1) {
              res.destroy();
              return;
            }
          }
          res.write(chunk({ id: 'c1', choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } }));
          res.end('data: [DONE]\n\n');
        })();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => server.close());

  test('completions: TTFT at the first text, one ITL per later chunk, usage tokens, text', async () => {
    const ep = new OpenAIEndpoint({ baseUrl: base });
    const out = await ep.send({ prompt: [5, 6, 7], promptLen: 3, outputLen: 3 }, { model: 'm', ignoreEos: true });
    ep.close();
    assert.equal(out.success, true, out.error);
    assert.equal(out.generatedText, 'Once upon a');
    assert.equal(out.itl.length, 2);
    assert.ok(out.ttft >= 0.015 && out.itl.every((g) => g >= 0.015));
    assert.ok(Math.abs(out.latency - (out.ttft + at(out.itl, 0) + at(out.itl, 1))) < 0.005);
    assert.equal(out.outputTokens, 3);
    assert.equal(out.promptLen, 5, 'usage.prompt_tokens replaces the dataset count');
    assert.equal(out.finishReason, 'length');
    const sent = bodies.at(-1)!;
    assert.deepEqual(sent.prompt, [5, 6, 7]);
    assert.equal(sent.max_tokens, 3);
    assert.equal(sent.ignore_eos, true);
    assert.deepEqual(sent.stream_options, { include_usage: true });
  });

  test('chat: the role-only first chunk is not the first token', async () => {
    const ep = new OpenAIEndpoint({ baseUrl: base, api: 'chat' });
    const out = await ep.send({ prompt: 'hi', promptLen: 1, outputLen: 3 }, { model: 'm' });
    ep.close();
    assert.equal(out.success, true, out.error);
    assert.ok(out.ttft >= 0.015, `ttft ${out.ttft}`);
    assert.equal(out.generatedText, 'Once upon a');
    assert.deepEqual(bodies.at(-1)!.messages, [{ role: 'user', content: 'hi' }]);
    assert.equal(bodies.at(-1)!.max_completion_tokens, 3);
  });

  test('a refusal records its status and Retry-After; a cut stream is a failure', async () => {
    const ep = new OpenAIEndpoint({ baseUrl: base });
    const busy = await ep.send({ prompt: 'x', promptLen: 1, outputLen: 3 }, { model: 'busy' });
    assert.equal(busy.success, false);
    assert.equal(busy.status, 429);
    assert.equal(busy.retryAfter, 3);
    assert.match(busy.error, /HTTP 429: .*queue full/);
    const cut = await ep.send({ prompt: 'x', promptLen: 1, outputLen: 3 }, { model: 'cut' });
    assert.equal(cut.success, false);
    assert.match(cut.error, /aborted|ended before its last chunk|socket hang up/);
    ep.close();
  });

  test('an aborted request fails with "aborted"; a refused connection with status 0', async () => {
    const ep = new OpenAIEndpoint({ baseUrl: base });
    const ac = new AbortController();
    const out = ep.send(
      { prompt: 'x', promptLen: 1, outputLen: 3 },
      { model: 'm', signal: ac.signal, onOutput: () => ac.abort() },
    );
    const r = await out;
    assert.equal(r.success, false);
    assert.match(r.error, /aborted/);
    assert.equal(r.generatedText, 'Once');
    ep.close();
    const dead = new OpenAIEndpoint({ baseUrl: 'http://127.0.0.1:1' });
    const refused = await dead.send({ prompt: 'x', promptLen: 1, outputLen: 1 }, { model: 'm' });
    assert.equal(refused.status, 0);
    assert.match(refused.error, /ECONNREFUSED/);
    dead.close();
  });
});
