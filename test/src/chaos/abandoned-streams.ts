import { METRIC } from '@loom/common';
import { OpenAIEndpoint, Rng } from '@loom/bench';
import { Redis } from 'ioredis';
import { BULLMQ_PREFIX, requestQueueName } from '@loom/common';
import type { LocalCluster } from '../fixtures/local-cluster.js';
import { startLocalCluster } from '../fixtures/local-cluster.js';
import { metricSum, scrape } from '../fixtures/prometheus-text.js';
import { below, check, zero, type ScenarioResult } from './chaos-report.js';
import { greedyPrompts } from '../fixtures/greedy-prompts.js';

/**
 * `clients` clients open a stream each, all at once, and walk away: most after a few tokens, the rest
 * while still queued (a timer fires before their first token). The cluster must cancel every one and
 * free every KV block within a second of the last disconnect (the scheduler's KV usage, running and
 * waiting sequences on every worker and its queue depth all back to 0), and serve the next request.
 */
export async function abandonedStreamsScenario(o: { clients: number; workers: number }): Promise<ScenarioResult> {
  const t0 = performance.now();
  const cluster = await startLocalCluster({ workers: o.workers });
  const endpoint = new OpenAIEndpoint({ baseUrl: cluster.baseURL });
  const metricsUrl = `http://127.0.0.1:${Number(cluster.scheduler.ready!.metricsPort)}/metrics`;
  try {
    const rng = new Rng(5);
    let lastAbort = 0;
    let abandonedQueued = 0;
    const prompts = greedyPrompts(o.clients, 3);
    const outs = await Promise.all(
      prompts.map((prompt) => {
        const ac = new AbortController();
        const afterChunks = rng.int(1, 16);
        let chunks = 0;
        const leave = () => {
          if (ac.signal.aborted) return;
          if (chunks === 0) abandonedQueued++;
          lastAbort = performance.now();
          ac.abort();
        };
        const timer = setTimeout(leave, 200 + rng.uniform() * 2800);
        return endpoint
          .send(
            { prompt, promptLen: 0, outputLen: 400 },
            {
              model: cluster.model,
              ignoreEos: true,
              signal: ac.signal,
              onOutput: () => {
                if (++chunks >= afterChunks) leave();
              },
            },
          )
          .finally(() => clearTimeout(timer));
      }),
    );
    // Every block free and nothing left that could take one: KV usage, running and waiting on every
    // worker and the queue depth all 0. Clients may leave before the gateway has even queued their
    // request; such a request is queued and cancelled afterwards, so the moment is not earlier.
    const gauges = [METRIC.kvUsageRatio, METRIC.requestsRunning, METRIC.requestsWaiting, METRIC.queueDepth];
    // Per gauge, when it was last seen above 0 after the last disconnect: which one bounds the time.
    const lastBusyMs = new Map<string, number>();
    const busy = (text: string) =>
      gauges.reduce((s, n) => {
        const v = metricSum(text, n);
        if (v > 0) lastBusyMs.set(n, Math.max(0, performance.now() - lastAbort));
        return s + v;
      }, 0);
    // What bounds that time: the gateway working through the burst (requests it accepted, then
    // cancelled, or dropped as gone) after the clients left. Its last change is when it was done.
    const gatewayUrl = `${cluster.gateway.url!.replace(/\/$/, '')}/metrics`;
    const handled = (text: string) =>
      metricSum(text, METRIC.requestsAccepted) + metricSum(text, METRIC.requestsCancelled);
    let lastHandled = -1;
    let gatewayDoneMs = NaN;
    let freeMs = NaN;
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      const [sched, gw] = await Promise.all([scrape(metricsUrl), scrape(gatewayUrl)]);
      const h = handled(gw);
      if (h !== lastHandled) [lastHandled, gatewayDoneMs] = [h, Math.max(0, performance.now() - lastAbort)];
      if (busy(sched) === 0) {
        freeMs = Math.max(0, performance.now() - lastAbort);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const unexpected = outs.filter((r) => !r.success && r.error !== 'aborted');
    const finished = outs.filter((r) => r.success).length;
    const next = await endpoint.send(
      { prompt: 'Once upon a time', promptLen: 0, outputLen: 8 },
      { model: cluster.model, signal: AbortSignal.timeout(60_000) },
    );
    if (!next.success) console.error(await diagnose(cluster));
    return {
      scenario: 'clients abandon their streams',
      setup: `${o.workers} worker(s), ${o.clients} streams opened at once (max_tokens 400), each dropped after 1-16 tokens or 0.2-3 s`,
      figures: [
        ['streams abandoned', o.clients - finished, ''],
        ['abandoned before their first token', abandonedQueued, ''],
        ['every KV block free and nothing queued, after the last disconnect', freeMs, 'ms'],
        ['gateway done with the burst (last accept or cancel), after it', gatewayDoneMs, 'ms'],
        ...gauges.map((n): [string, number, string] => [`${n} last above 0, after it`, lastBusyMs.get(n) ?? 0, 'ms']),
        ['failures other than the abandonment', unexpected.length, ''],
      ],
      checks: [
        below('time until every KV block is free', freeMs, 1000, 'ms'),
        zero('failures other than the abandonment', unexpected.length),
        check('the next request is served', next.success, next.success ? 'yes' : next.error),
      ],
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    endpoint.close();
    await cluster.stop();
  }
}

/** What the cluster looks like when a request went unanswered: queue keys, recent warnings. */
async function diagnose(cluster: LocalCluster): Promise<string> {
  const r = new Redis(cluster.redis.url);
  try {
    const q = `${BULLMQ_PREFIX}:${requestQueueName(cluster.model)}`;
    const sizes: Record<string, number | string> = {};
    for (const k of ['wait', 'active', 'paused', 'prioritized', 'completed', 'failed', 'stalled', 'marker']) {
      const key = `${q}:${k}`;
      const t = await r.type(key);
      sizes[k] =
        t === 'list' ? await r.llen(key) : t === 'zset' ? await r.zcard(key) : t === 'set' ? await r.scard(key) : t;
    }
    const meta = await r.hgetall(`${q}:meta`);
    const warn = (p: { name: string; logs: Record<string, unknown>[] }) =>
      p.logs
        .filter((x) => Number(x.level) >= 40)
        .slice(-8)
        .map((x) => `${p.name}: ${JSON.stringify(x).slice(0, 300)}`);
    const last = (p: { name: string; logs: Record<string, unknown>[] }, k: number) =>
      p.logs.slice(-k).map((x) => `${p.name}: ${JSON.stringify(x).slice(0, 300)}`);
    const gw = await scrape(`${cluster.gateway.url!.replace(/\/$/, '')}/metrics`).catch((e: Error) => e.message);
    const sched = await scrape(`http://127.0.0.1:${Number(cluster.scheduler.ready!.metricsPort)}/metrics`).catch(
      (e: Error) => e.message,
    );
    const pick = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l));
    return [
      ...pick(gw, /^loom_(gateway_output|requests_(accepted|cancelled))/),
      ...pick(sched, /^loom_(requests_(running|waiting)|queue_depth|workers_up|scheduler_is_leader)/),
      `unanswered request; queue ${q}: ${JSON.stringify(sizes)} meta ${JSON.stringify(meta)}`,
      ...last(cluster.gateway, 6),
      ...last(cluster.scheduler, 6),
      ...[cluster.gateway, cluster.scheduler, ...cluster.workers].flatMap(warn),
    ].join('\n');
  } finally {
    r.disconnect();
  }
}
