import { createLogger, createRedis, SCHEDULER_FENCE_KEY, startMetricsServer, type LoomConfig } from '@loom/common';
import { CancelListener } from './cancel-listener.js';
import { Intake } from './intake.js';
import { OutputLog } from './output-log.js';
import { RequestManager } from './request-manager.js';
import { SchedulerMetrics } from './scheduler-metrics.js';
import { ServedModels } from './served-models.js';
import { WorkerPool } from './worker-pool.js';

export interface RunningScheduler {
  fencingToken: number;
  metricsPort: number;
  close(): Promise<void>;
}

/**
 * Discover workers, take requests from the queues, step every worker, stream outputs to Redis.
 * The fencing token comes from a Redis counter, so every newer scheduler outranks older ones.
 */
export async function startScheduler(config: LoomConfig): Promise<RunningScheduler> {
  const log = createLogger('scheduler', config.logLevel);
  const redis = createRedis(config.redisUrl, 'loom-scheduler');
  const fencingToken = await redis.incr(SCHEDULER_FENCE_KEY);
  const metrics = new SchedulerMetrics();
  const manager = new RequestManager(new OutputLog(redis));
  const models = new ServedModels(redis);
  let intake: Intake | undefined;
  const pool = new WorkerPool(redis, config, fencingToken, manager, metrics, log, () =>
    intake?.adjust([...new Set(pool.allModels())]),
  );
  intake = new Intake(redis, config, pool, manager, models, log);
  const cancels = new CancelListener(redis.duplicate(), (e) => intake!.cancel(e.requestId), log);
  pool.start();
  cancels.start();
  const http = await startMetricsServer(metrics.registry, { host: config.host, port: config.metricsPort, healthy: () => redis.status === 'ready' });
  log.info({ fencingToken, metricsPort: http.port }, 'scheduler ready');
  return {
    fencingToken,
    metricsPort: http.port,
    async close() {
      cancels.stop();
      await intake!.close();
      pool.close();
      await http.close();
      redis.disconnect();
      log.info('scheduler stopped');
    },
  };
}
