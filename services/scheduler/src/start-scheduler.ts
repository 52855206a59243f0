import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { createLogger, createRedis, startMetricsServer, type LoomConfig } from '@loom/common';
import { LeaderLease } from './cluster/leader-lease.js';
import { StatusPublisher } from './cluster/status-publisher.js';
import { LeaderTerm } from './leader-term.js';
import { SchedulerMetrics } from './scheduler-metrics.js';
import { ServedModels } from './served-models.js';

export interface RunningScheduler {
  holderId: string;
  metricsPort: number;
  /** Whether this process leads now. */
  readonly isLeader: boolean;
  close(): Promise<void>;
}

/**
 * Active/standby: every scheduler process competes for the leader lease in Redis; the leader runs a
 * LeaderTerm under the fencing token it got with the lease, standbys wait. A deposed leader stops
 * stepping at once (workers would refuse its stale token anyway).
 */
export async function startScheduler(config: LoomConfig): Promise<RunningScheduler> {
  const holderId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const log = createLogger('scheduler', config.logLevel).child({ holderId });
  const redis = createRedis(config.redisUrl, 'loom-scheduler');
  const metrics = new SchedulerMetrics();
  const models = new ServedModels(redis);
  const lease = new LeaderLease(redis, holderId, {
    ttlMs: config.leaseTtlMs,
    renewMs: Math.max(100, Math.floor(config.leaseTtlMs / 3)),
  });
  let term: LeaderTerm | undefined;
  let ending: Promise<void> = Promise.resolve();
  const startedAt = Date.now();
  let acquisitions = 0;
  let termStartedAt = 0;
  const status = new StatusPublisher(
    redis,
    holderId,
    () => {
      const leading = term !== undefined && lease.isLeader;
      return {
        holderId,
        leading,
        fencingToken: leading ? term!.fencingToken : null,
        startedAt,
        termStartedAt: leading ? termStartedAt : null,
        updatedAt: Date.now(),
        acquisitions,
        ...(leading ? term!.status() : { workers: [], parked: {} }),
      };
    },
    log,
  );

  lease.on('elected', (fencingToken) => {
    // A previous term (if any) must be fully closed before the new one takes jobs.
    ending = ending.then(() => {
      if (!lease.isLeader) return;
      term = new LeaderTerm(redis, config, fencingToken, metrics, models, log);
      acquisitions++;
      termStartedAt = Date.now();
      metrics.setLeader(true);
      log.info({ fencingToken }, 'elected scheduler leader');
    });
  });
  lease.on('deposed', (reason) => {
    metrics.setLeader(false);
    const old = term;
    term = undefined;
    log.warn({ reason }, 'no longer the scheduler leader');
    ending = ending.then(() => old?.close());
  });
  lease.start();
  status.start();

  const http = await startMetricsServer(metrics.registry, {
    host: config.host,
    port: config.metricsPort,
    healthy: () => redis.status === 'ready',
  });
  log.info({ metricsPort: http.port }, 'scheduler ready (standby until elected)');
  return {
    holderId,
    metricsPort: http.port,
    get isLeader() {
      return lease.isLeader;
    },
    async close() {
      await status.stop().catch((err: Error) => log.warn({ err: err.message }, 'status record not removed'));
      await lease.stop();
      await ending;
      await term?.close();
      await http.close();
      redis.disconnect();
      log.info('scheduler stopped');
    },
  };
}
