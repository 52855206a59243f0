import os from 'node:os';
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { createLogger, createRedis, modelCardKey, modelIdOf, startMetricsServer, type LoomConfig } from '@loom/common';
import { healthServiceDefinition, workerServiceDefinition } from '@loom/proto';
import { loadEngine } from './engine/native-engine.js';
import { buildModelCard, kvCacheGroupsOf } from './model-card.js';
import { WorkerService } from './worker-service.js';
import { WorkerRegistrar } from './worker-registration.js';
import { WorkerMetrics } from './worker-metrics.js';
import { healthHandlers } from './health-service.js';

/** Longest a closing worker waits for the scheduler to stop stepping it. */
const DRAIN_TIMEOUT_MS = 20_000;

export interface RunningWorker {
  workerId: string;
  /** host:port of the gRPC server. */
  address: string;
  metricsPort: number;
  close(): Promise<void>;
}

/** Load the model, serve WorkerService + health over gRPC, publish the model card and register in Redis. */
export async function startWorker(config: LoomConfig): Promise<RunningWorker> {
  const log = createLogger('worker', config.logLevel);
  if (!config.model) throw new Error('no model to serve: pass --model <file.gguf> or set LOOM_MODEL');
  if (!fs.existsSync(config.model))
    throw new Error(`model file not found: ${config.model} (check --model / LOOM_MODEL)`);
  const modelId = modelIdOf(config);
  const workerId = config.workerId || `${os.hostname()}-${process.pid}`;

  const t0 = performance.now();
  if (config.kvCacheDtype !== 'f16' && config.kvCacheDtype !== 'f32')
    throw new Error(`--kv-cache-dtype / LOOM_KV_CACHE_DTYPE: '${config.kvCacheDtype}' is not f16 or f32`);
  const engine = loadEngine(config.model, { threads: config.threads, kvType: config.kvCacheDtype });
  const info = engine.info();
  const card = buildModelCard(config.model, modelId, info, config.pooling);
  log.info(
    { model: config.model, modelId, ...info, pooling: card.pooling, loadSeconds: (performance.now() - t0) / 1000 },
    'model loaded',
  );

  const metrics = new WorkerMetrics({ worker: workerId, model_name: modelId });
  const service = new WorkerService(
    engine,
    {
      workerId,
      modelId,
      architecture: info.architecture,
      vocabSize: info.vocabSize,
      contextLength: info.contextLength,
      eosTokenIds: card.eosTokenIds,
      modelCardKey: modelCardKey(modelId),
      capabilities: { kernels: info.kernels, threads: info.threads, weightType: info.weightType, logprobs: true },
      kvCacheGroups: kvCacheGroupsOf(info),
    },
    log,
    metrics,
    config.numBlocks,
  );

  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  server.addService(workerServiceDefinition(), service.handlers());
  // Kubernetes' readiness follows this: serving once a scheduler warmed the pool up, not while draining.
  server.addService(
    healthServiceDefinition(),
    healthHandlers(() => (service.ready ? 'SERVING' : 'NOT_SERVING')),
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${config.workerHost}:${config.workerPort}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const address = `${config.workerHost}:${port}`;

  const redis = createRedis(config.redisUrl, `loom-worker-${workerId}`);
  const registrar = new WorkerRegistrar(
    redis,
    { workerId, address, model: modelId, pid: process.pid, startedAt: Date.now() },
    config.heartbeatMs,
  );
  await registrar.publish(card);
  const http = await startMetricsServer(metrics.registry, {
    host: config.workerHost,
    port: config.metricsPort,
    healthy: () => !service.draining,
  });
  log.info({ workerId, address, metricsPort: http.port }, 'worker ready');

  let closed = false;
  return {
    workerId,
    address,
    metricsPort: http.port,
    async close() {
      if (closed) return;
      closed = true;
      // Drain: deregister so the scheduler hands this worker's requests to others (recompute), then
      // wait until it has stopped sending steps before the engine goes away.
      service.draining = true;
      await registrar.withdraw().catch(() => undefined);
      const quietMs = 2 * config.heartbeatMs;
      const deadline = performance.now() + DRAIN_TIMEOUT_MS;
      while (performance.now() < deadline && performance.now() - service.lastStepAt < quietMs) {
        await new Promise((r) => setTimeout(r, Math.min(100, quietMs)));
      }
      server.forceShutdown();
      await service.idle();
      await http.close();
      engine.close();
      redis.disconnect();
      log.info({ workerId }, 'worker stopped');
    },
  };
}
