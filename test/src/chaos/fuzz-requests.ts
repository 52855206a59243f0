import http from 'node:http';
import { at } from '@loom/common';
import fc from 'fast-check';
import { malformedRequests } from '@loom/gateway/testing';
import { Rng } from '@loom/bench';
import { startLocalCluster } from '../fixtures/local-cluster.js';
import { check, zero, type ScenarioResult } from './chaos-report.js';
import { alive } from '../fixtures/process-stats.js';

/** One raw HTTP request of the fuzz run. */
interface RawCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

const JSON_CT = { 'content-type': 'application/json' };
/** The gateway's default body limit (16 MiB). */
const BODY_LIMIT = 16 * 1024 * 1024;

/**
 * Requests malformed at the HTTP level rather than in one field: wrong methods and paths, content
 * types, bodies that are not JSON or nest deeply, oversized bodies, odd headers, the tokenizer
 * endpoints with bad input, and a few valid requests with unusual but legal options (which must be
 * served). Drawn with a seeded generator.
 */
function rawCase(rng: Rng, model: string, vocab: number): RawCase {
  const pick = <T>(xs: T[]) => at(xs, rng.int(0, xs.length - 1));
  const gen = pick(['/v1/completions', '/v1/chat/completions']);
  // Nested d deep as text (JSON.stringify itself would overflow the stack).
  const deep = (d: number) => '{"a":['.repeat(d) + '1' + ']}'.repeat(d);
  const kinds: (() => RawCase)[] = [
    () => ({ method: pick(['GET', 'PUT', 'DELETE', 'PATCH']), path: gen, headers: JSON_CT, body: '' }),
    () => ({
      method: 'POST',
      path: pick(['/v1/nope', '/v2/completions', '/v1/models/x/y', '/%ff', '/..%2f..%2fetc']),
      headers: JSON_CT,
      body: '{}',
    }),
    () => ({
      method: 'POST',
      path: gen,
      headers: {
        'content-type': pick([
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/xml',
        ]),
      },
      body: 'model=x&prompt=y',
    }),
    () => ({
      method: 'POST',
      path: gen,
      headers: JSON_CT,
      body: pick(['{', '{"model":', '[1,2', 'null', '"x"', '{"model":"x",}', '\u0000\u0001', '{"a":1}{"b":2}']),
    }),
    () => ({ method: 'POST', path: gen, headers: JSON_CT, body: deep(rng.int(50, 100_000)) }),
    () => ({
      method: 'POST',
      path: gen,
      headers: JSON_CT,
      body: JSON.stringify({ model, prompt: 'x '.repeat(rng.uniform() < 0.05 ? 9 << 20 : rng.int(1, 128) << 9) }),
    }),
    () => ({
      method: 'POST',
      path: gen,
      headers: { ...JSON_CT, 'content-encoding': pick(['gzip', 'br', 'deflate']) },
      body: '{"model":"x"}',
    }),
    () => ({
      method: 'POST',
      path: gen,
      headers: {
        ...JSON_CT,
        authorization: pick(['Bearer', 'Basic !!', 'Bearer ' + 'k'.repeat(4000)]),
        'x-request-id': 'r'.repeat(rng.int(1, 8000)),
      },
      body: JSON.stringify({ model, prompt: 'Hi', max_tokens: 1 }),
    }),
    () => ({
      method: 'POST',
      path: gen,
      headers: JSON_CT,
      body: JSON.stringify({
        model,
        prompt: Array.from({ length: rng.int(1, 40) }, () => rng.int(-5, vocab + 5)),
        messages: 'x',
        max_tokens: rng.int(-2, 3),
      }),
    }),
    () => ({
      method: 'POST',
      path: pick(['/tokenize', '/detokenize']),
      headers: JSON_CT,
      body: JSON.stringify(
        pick([
          { model },
          { model, prompt: 5 },
          { model, tokens: [-1] },
          { model, tokens: [vocab] },
          { model: 'nope', prompt: 'x' },
          { model, messages: [{ role: 'x' }] },
        ]),
      ),
    }),
    () => ({
      method: 'POST',
      path: gen,
      headers: JSON_CT,
      body: JSON.stringify({
        model,
        prompt: '\ud800\udfff\u0000' + String.fromCharCode(...Array.from({ length: 64 }, () => rng.int(0, 0xffff))),
        messages: [{ role: 'user', content: '\ud800' }],
        max_tokens: 2,
      }),
    }),
    // Valid, with unusual options: must be answered 200.
    () => ({
      method: 'POST',
      path: '/v1/completions',
      headers: JSON_CT,
      body: JSON.stringify({
        model,
        prompt: ['Once', [5, 6, 7]],
        max_tokens: rng.int(1, 3),
        n: rng.int(1, 3),
        logprobs: rng.int(0, 5),
        echo: rng.uniform() < 0.5,
        stop: ['.'],
        seed: rng.int(0, 9),
        stream: rng.uniform() < 0.5,
      }),
    }),
    () => ({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: JSON_CT,
      body: JSON.stringify({
        model,
        messages: [
          { role: 'system', content: 'x' },
          { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        ],
        max_completion_tokens: rng.int(1, 3),
        logprobs: true,
        top_logprobs: rng.int(0, 5),
        stream: rng.uniform() < 0.5,
        stream_options: { include_usage: true },
      }),
    }),
  ];
  return pick(kinds)();
}

/** Sends one raw request; its status (0: no response: a reset or refused connection). */
function send(url: URL, c: RawCase, agent: http.Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      url.origin + c.path,
      {
        method: c.method,
        agent,
        headers: { ...c.headers, 'content-length': Buffer.byteLength(c.body) },
        signal: AbortSignal.timeout(60_000),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(res.statusCode ?? 0));
      },
    );
    // A body over the gateway's limit is refused (413) without being read: the socket may close
    // under the client's write before it reads the answer. That is the refusal, not a reset.
    req.on('error', () => resolve(Buffer.byteLength(c.body) > BODY_LIMIT ? 413 : 0));
    req.end(c.body);
  });
}

/**
 * `count` fuzzed and malformed requests against a real cluster, `concurrency` at a time: the
 * gateway's field-level malformed bodies (fast-check) and HTTP-level garbage. No answer may be a 5xx
 * (every bad input is a 4xx), no process may die, and the cluster must serve a valid request after.
 */
export async function fuzzScenario(o: { count: number; concurrency: number; seed: number }): Promise<ScenarioResult> {
  const t0 = performance.now();
  const cluster = await startLocalCluster({ workers: 1 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  try {
    const url = new URL(cluster.baseURL);
    const vocab = 512;
    const fieldCases = fc.sample(malformedRequests(cluster.model, vocab), {
      numRuns: Math.ceil(o.count * 0.6),
      seed: o.seed,
    });
    const rng = new Rng(o.seed);
    const cases: RawCase[] = [
      ...fieldCases.map((c) => ({ method: 'POST', path: c.route, headers: JSON_CT, body: c.body })),
      ...Array.from({ length: o.count - fieldCases.length }, () => rawCase(rng, cluster.model, vocab)),
    ];
    rng.shuffle(cases);
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        for (let i = next++; i < cases.length; i = next++) {
          const s = await send(url, at(cases, i), agent);
          statuses.set(s, (statuses.get(s) ?? 0) + 1);
        }
      }),
    );
    const count = (pred: (s: number) => boolean) =>
      [...statuses].filter(([s]) => pred(s)).reduce((n, [, k]) => n + k, 0);
    const fivexx = count((s) => s >= 500);
    const resets = count((s) => s === 0);
    const dead = [cluster.gateway, cluster.scheduler, ...cluster.workers]
      .filter((p) => !alive(p.pid))
      .map((p) => p.name);
    const health = await fetch(`${url.origin}/health`).then(
      (r) => r.status,
      () => 0,
    );
    const valid = await fetch(`${cluster.baseURL}/completions`, {
      method: 'POST',
      headers: JSON_CT,
      body: JSON.stringify({ model: cluster.model, prompt: 'Once upon a time', max_tokens: 4 }),
    }).then(
      (r) => r.status,
      () => 0,
    );
    const histogram = [...statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, k]) => `${s || 'reset'}: ${k}`)
      .join(', ');
    return {
      scenario: 'fuzzed and malformed requests',
      setup:
        `1 worker, ${o.count} requests (${fieldCases.length} with one refused field, fast-check; the rest ` +
        `HTTP-level garbage and unusual valid ones), ${o.concurrency} at a time, seed ${o.seed}`,
      figures: [
        ['requests', cases.length, ''],
        ['answers by status', histogram, ''],
        ['5xx', fivexx, ''],
        ['connections reset', resets, ''],
        ['processes that died', dead.length, ''],
      ],
      checks: [
        zero('5xx answers', fivexx),
        zero('connections reset', resets),
        zero('crashes', dead.length),
        check(
          'healthy and serving afterwards',
          health === 200 && valid === 200,
          `/health ${health}, completion ${valid}`,
        ),
      ],
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    agent.destroy();
    await cluster.stop();
  }
}
