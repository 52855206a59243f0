import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, createRedis, type LoomConfig } from '@loom/common';
import type { Redis } from 'ioredis';
import { AppModule } from './app.module.js';
import { keysFromFile, keysFromList } from './auth/api-key-records.js';
import { KeyStore } from './auth/key-store.js';
import { checkParserSettings } from './chat/chat-output-plan.js';
import type { InferenceBackend } from './backend/inference-backend.js';
import { RedisBackend } from './backend/redis-backend.js';
import { OpenAiExceptionFilter } from './errors/openai-exception.filter.js';
import { installRequestHooks } from './http/request-hooks.js';
import { installApiKeyHook } from './auth/api-key-hook.js';
import { RedisRateLimiter } from './limits/redis-rate-limiter.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { NestLogger } from './nest-logger.js';
import { installStaticFiles } from './static/static-files.js';
import { RedisResponseStore, type ResponseStore } from './responses/response-store.js';
import { RedisClusterState, type ClusterStateSource } from './status/redis-cluster-state.js';
import type { GatewayOptions } from './di-tokens.js';

export interface StartGatewayOptions extends Partial<GatewayOptions> {
  /** Defaults to a RedisBackend on config.redisUrl (closed with the gateway; a given one is not). */
  backend?: InferenceBackend;
  /** What `GET /status` reads; defaults to Redis at config.redisUrl (connected on first use, closed with the gateway). */
  clusterState?: ClusterStateSource;
  /** Where /v1/responses stores responses; defaults to Redis at config.redisUrl (connected on first use, closed with the gateway). */
  responseStore?: ResponseStore;
}

export interface RunningGateway {
  /** http://host:port with the real port (config.port 0 = any free port). */
  url: string;
  close(): Promise<void>;
}

const DEFAULTS = { keepAliveMs: 5000, bodyLimit: 16 * 1024 * 1024 };

/** Start the OpenAI-compatible gateway on config.host:config.port. */
export async function startGateway(config: LoomConfig, opts: StartGatewayOptions = {}): Promise<RunningGateway> {
  checkParserSettings(config);
  const log = createLogger('gateway', config.logLevel);
  const options: GatewayOptions = {
    keepAliveMs: opts.keepAliveMs ?? DEFAULTS.keepAliveMs,
    bodyLimit: opts.bodyLimit ?? DEFAULTS.bodyLimit,
    queueWaitTimeoutMs: opts.queueWaitTimeoutMs ?? Math.round(config.queueWaitTimeout * 1000),
  };
  const staticKeys = [...keysFromList(config.apiKeys), ...(config.apiKeysFile ? keysFromFile(config.apiKeysFile) : [])];
  // Redis for keys and limits only when something needs it: a gateway without either never counts.
  const limited =
    config.rateLimitRpm > 0 ||
    config.rateLimitTpm > 0 ||
    config.apiKeysRedis ||
    staticKeys.some((k) => k.record.rpm || k.record.tpm);
  const redis: Redis | undefined =
    limited || config.apiKeysRedis ? createRedis(config.redisUrl, 'loom-gateway-keys') : undefined;
  redis?.on('error', (err) => log.debug({ err: err.message }, 'key/limit redis connection error'));
  const keys = new KeyStore({
    staticKeys,
    redis: config.apiKeysRedis ? redis : undefined,
    defaults: { rpm: config.rateLimitRpm, tpm: config.rateLimitTpm },
  });
  const limiter = limited && redis ? new RedisRateLimiter(redis) : undefined;
  const backend =
    opts.backend ?? new RedisBackend({ redisUrl: config.redisUrl, maxQueueLength: config.maxQueueLength, log });
  const metrics = new GatewayMetrics();
  metrics.observeStreams(() => backend.streamStats?.());
  const clusterState = opts.clusterState ?? new RedisClusterState(config.redisUrl, log);
  const responseStore = opts.responseStore ?? defaultResponseStore(config, log);
  const release = async () => {
    if (!opts.backend) await backend.close();
    if (!opts.clusterState) await clusterState.close();
    if (!opts.responseStore) await responseStore.close();
    redis?.disconnect();
  };

  const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimit, logger: false });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config, backend, log, metrics, options, keys, limiter, clusterState, responseStore }),
    adapter,
    {
      logger: new NestLogger(log),
      abortOnError: false,
    },
  );
  app.useGlobalFilters(new OpenAiExceptionFilter(log, metrics));
  // Before init, so the hooks cover every route and the not-found handler.
  installRequestHooks(app.getHttpAdapter().getInstance(), metrics);
  installApiKeyHook(app.getHttpAdapter().getInstance(), keys);
  installStaticFiles(app.getHttpAdapter().getInstance());
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app.close().catch(() => {});
    await release();
    throw err;
  }
  const addr = app.getHttpServer().address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info(
    {
      url,
      apiKeys: keys.required ? 'required' : 'off',
      staticKeys: staticKeys.length,
      redisKeys: config.apiKeysRedis,
      rateLimits: limiter ? 'on' : 'off',
      queueWaitTimeoutMs: options.queueWaitTimeoutMs,
    },
    'gateway listening',
  );
  return {
    url,
    async close() {
      await app.close();
      await release();
    },
  };
}

function defaultResponseStore(config: LoomConfig, log: ReturnType<typeof createLogger>): ResponseStore {
  const redis = createRedis(config.redisUrl, 'loom-gateway-responses', { lazy: true });
  redis.on('error', (err) => log.debug({ err: err.message }, 'response store redis connection error'));
  return new RedisResponseStore(redis, config.responsesTtl);
}
