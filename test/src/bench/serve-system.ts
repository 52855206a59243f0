import { OpenAIEndpoint, type BenchTarget } from '@loom/bench';
import { startLocalCluster } from '../fixtures/local-cluster.js';
import { redisPid } from '../fixtures/process-stats.js';
import { ControlPlaneMeter } from './control-plane-meter.js';
import { InProcessEngine } from './in-process-engine.js';
import { startLlamaServer } from './llama-server.js';

/** What every system of bench:serve is set up with: the same model, threads and capacity. */
export interface ServeSystemSetup {
  model: string;
  threads: number;
  /** KV blocks (16 tokens) of Loom and the in-process engine. */
  numBlocks: number;
  /** Sequences at once: Loom's max_num_seqs, llama-server's slots. */
  concurrency: number;
  /** Tokens one sequence needs at most (llama-server's context per slot, less its margin). */
  seqTokens: number;
  /** Node flags of Loom's gateway and scheduler (profiling). */
  nodeArgs?: string[];
}

/** Starts a system; returns what to send to, the pids whose CPU to count, and how to stop it. */
export async function startServeSystem(
  system: string,
  { model, threads, numBlocks, concurrency, seqTokens, nodeArgs }: ServeSystemSetup,
): Promise<{
  target: BenchTarget;
  /** Loom: the control plane's idle CPU rates, then a meter of what a run costs. */
  idle?: () => Promise<Record<string, number>>;
  meter?: (idle: Record<string, number>) => Promise<ControlPlaneMeter>;
  stop: () => Promise<void>;
}> {
  if (system === 'loom') {
    const c = await startLocalCluster({
      model,
      env: {
        LOOM_THREADS: String(threads),
        LOOM_NUM_BLOCKS: String(numBlocks),
        LOOM_MAX_NUM_SEQS: String(concurrency),
      },
      ...(nodeArgs ? { nodeArgs } : {}),
    });
    const ep = new OpenAIEndpoint({ baseUrl: c.baseURL });
    const pids = { gateway: c.gateway.pid, scheduler: c.scheduler.pid, redis: await redisPid(c.redis.url) };
    return {
      target: ep,
      idle: () => ControlPlaneMeter.idleRates(pids, 5000),
      meter: (idle) => ControlPlaneMeter.start(pids, c.redis.url, idle),
      stop: async () => {
        ep.close();
        await c.stop();
      },
    };
  }
  if (system === 'llama') {
    const s = await startLlamaServer({
      model,
      threads,
      parallel: concurrency,
      ctxPerSlot: seqTokens + 16,
    });
    const ep = new OpenAIEndpoint({ baseUrl: s.baseUrl });
    return {
      target: ep,
      stop: async () => {
        ep.close();
        await s.stop();
      },
    };
  }
  if (system === 'in-process') {
    const e = new InProcessEngine({ model, threads, numBlocks, maxNumSeqs: concurrency });
    return { target: e, stop: () => e.close() };
  }
  throw new Error(`unknown system ${system}: loom, llama or in-process`);
}
