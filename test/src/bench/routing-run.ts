import { METRIC, at } from '@loom/common';
import {
  OpenAIEndpoint,
  calculateMetrics,
  runLoad,
  type BenchRequest,
  type BenchmarkMetrics,
  type RequestOutput,
} from '@loom/bench';
import { startLocalCluster } from '../fixtures/local-cluster.js';
import { metricSum, scrape } from '../fixtures/prometheus-text.js';

export interface Stage {
  /** Requests per second offered (Infinity: as fast as the concurrency allows). */
  rate: number;
  requests: BenchRequest[];
}

export interface StageResult {
  rate: number;
  metrics: BenchmarkMetrics;
  /** Prompt tokens served from the prefix cache / looked up, during this stage. */
  prefixHitRate: number;
}

export interface PolicyRun {
  policy: string;
  stages: StageResult[];
  /** Tenants (dataset groups) served by more than one worker, over the whole run. */
  splitTenants: number;
  tenantsByWorker: Map<string, Set<number>>;
}

export interface RoutingRunOptions {
  policy: string;
  workers: number;
  model?: string;
  numBlocks: number;
  maxTokens: number;
  concurrency: number;
  maxSecondsPerStage: number;
  onDone: (out: RequestOutput) => void;
}

/**
 * One policy on a fresh local cluster (real Redis, gateway, scheduler, `workers` worker processes):
 * the stages in order on the same cluster (a rate ladder; the cache carries over from stage to
 * stage identically for every policy), each stage's prefix-cache hit rate from the scheduler's
 * counters, and the tenant spread from its routing log.
 */
export async function runPolicy(o: RoutingRunOptions, stages: Stage[]): Promise<PolicyRun> {
  const cluster = await startLocalCluster({
    workers: o.workers,
    ...(o.model === undefined ? {} : { model: o.model }),
    // debug: the scheduler logs each routing decision ('request routed'), read for the tenant spread.
    env: { LOOM_ROUTING_POLICY: o.policy, LOOM_NUM_BLOCKS: String(o.numBlocks), LOOM_LOG_LEVEL: 'debug' },
  });
  const endpoint = new OpenAIEndpoint({ baseUrl: cluster.baseURL });
  const metricsUrl = `http://127.0.0.1:${Number(cluster.scheduler.ready!.metricsPort)}/metrics`;
  try {
    const results: StageResult[] = [];
    const tenantOf = new Map<string, number>();
    for (const stage of stages) {
      const before = await scrape(metricsUrl);
      const run = await runLoad({
        endpoint,
        model: cluster.model,
        requests: stage.requests,
        requestRate: stage.rate,
        maxConcurrency: o.concurrency,
        maxDurationMs: o.maxSecondsPerStage * 1000,
        requestTimeoutMs: (o.maxSecondsPerStage + 60) * 1000,
        ignoreEos: true,
        extraBody: { temperature: 0 },
        onDone: o.onDone,
      });
      const after = await scrape(metricsUrl);
      run.outputs.forEach((out, i) => tenantOf.set(out.id, at(run.requests, i).group!));
      const delta = (name: string) => metricSum(after, name) - metricSum(before, name);
      const queried = delta(METRIC.prefixQueriedTokens);
      results.push({
        rate: stage.rate,
        metrics: calculateMetrics(run.outputs, run.duration, [50, 99]),
        prefixHitRate: queried === 0 ? 0 : delta(METRIC.prefixHitTokens) / queried,
      });
    }
    const tenantsByWorker = new Map<string, Set<number>>();
    const workersByTenant = new Map<number, Set<string>>();
    for (const rec of cluster.scheduler.logs) {
      const tenant = rec.msg === 'request routed' ? tenantOf.get(String(rec.requestId)) : undefined;
      if (tenant === undefined) continue;
      const worker = String(rec.worker);
      if (!tenantsByWorker.has(worker)) tenantsByWorker.set(worker, new Set());
      tenantsByWorker.get(worker)!.add(tenant);
      if (!workersByTenant.has(tenant)) workersByTenant.set(tenant, new Set());
      workersByTenant.get(tenant)!.add(worker);
    }
    return {
      policy: o.policy,
      stages: results,
      tenantsByWorker,
      splitTenants: [...workersByTenant.values()].filter((w) => w.size > 1).length,
    };
  } finally {
    endpoint.close();
    await cluster.stop();
  }
}
