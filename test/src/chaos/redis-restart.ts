import { OpenAIEndpoint, type RequestOutput } from '@loom/bench';
import { disturbedLoad } from '../fixtures/disturbed-load.js';
import { startLocalCluster } from '../fixtures/local-cluster.js';
import { check, zero, type ScenarioResult } from './chaos-report.js';
import { greedyPrompts } from '../fixtures/greedy-prompts.js';

/**
 * Redis (AOF on, appendfsync always) is killed (SIGKILL, no final save) mid-generation and started
 * again on the same port and data, while `arrivals` more requests are sent during the outage. Every
 * accepted request must finish, the streaming ones with the undisturbed greedy text (no token lost
 * or repeated); a request arriving while Redis is down may be refused, never accepted and dropped.
 * The cluster must serve a new request afterwards.
 */
export async function redisRestartScenario(o: {
  streams: number;
  maxTokens: number;
  workers: number;
  arrivals: number;
}): Promise<ScenarioResult> {
  const t0 = performance.now();
  const cluster = await startLocalCluster({ workers: o.workers, persistentRedis: true });
  const endpoint = new OpenAIEndpoint({ baseUrl: cluster.baseURL });
  try {
    let restarted: Promise<void> | undefined;
    let downMs = 0;
    let arrivals: Promise<RequestOutput[]> = Promise.resolve([]);
    const run = await disturbedLoad({
      cluster,
      streams: o.streams,
      maxTokens: o.maxTokens,
      disturb: () => {
        const at = performance.now();
        restarted = cluster.redis.restart().then(() => void (downMs = performance.now() - at));
        arrivals = Promise.all(
          greedyPrompts(o.arrivals, 2).map((prompt) =>
            endpoint.send(
              { prompt, promptLen: 0, outputLen: 16 },
              { model: cluster.model, extraBody: { temperature: 0 }, signal: AbortSignal.timeout(120_000) },
            ),
          ),
        );
      },
    });
    await restarted;
    const late = await arrivals;
    const lateAccepted = late.filter((r) => r.status === 200);
    const lateLost = lateAccepted.filter((r) => !r.success).length;
    const refused = late.filter((r) => r.status !== 200);
    const after = await fetch(`${cluster.baseURL}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: cluster.model, prompt: 'Once upon a time', max_tokens: 8, temperature: 0 }),
    });
    return {
      scenario: 'Redis restarted (kill -9, AOF)',
      setup:
        `${o.workers} worker(s), ${o.streams} concurrent greedy streams of ${o.maxTokens} tokens, SIGKILL ` +
        `Redis once 25% of the tokens streamed, restart it on the same data`,
      figures: [
        ['streams running at the kill', o.streams, ''],
        ['requests sent during the outage: accepted', lateAccepted.length, ''],
        ['requests sent during the outage: refused', refused.length, ''],
        ['Redis down (kill to accepting again)', downMs, 'ms'],
        ['longest stall a client saw', run.maxGapMs, 'ms'],
        ['accepted requests lost', run.lost + lateLost, ''],
        ['client errors', run.clientErrors, ''],
        ['outputs differing from undisturbed', run.differing, ''],
      ],
      checks: [
        zero('accepted requests lost', run.lost + lateLost),
        check(
          'a request refused during the outage says so (HTTP 503 or 429), not 500',
          refused.every((r) => r.status === 503 || r.status === 429),
          refused.length ? [...new Set(refused.map((r) => r.status || r.error))].join(', ') : 'none refused',
        ),
        zero('client errors', run.clientErrors),
        zero('outputs differing from the undisturbed greedy run', run.differing),
        check('a request after the restart is served', after.status === 200, `HTTP ${after.status}`),
      ],
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    endpoint.close();
    await cluster.stop();
  }
}
