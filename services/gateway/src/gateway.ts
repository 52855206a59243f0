import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, type LoomConfig } from '@loom/common';
import { AppModule } from './app.module.js';
import type { InferenceBackend } from './backend/inference-backend.js';
import { RedisBackend } from './backend/redis-backend.js';
import { OpenAiExceptionFilter } from './errors/openai-exception.filter.js';
import { installRequestHooks } from './http/request-hooks.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { NestLogger } from './nest-logger.js';
import type { GatewayOptions } from './tokens.js';

export interface StartGatewayOptions extends Partial<GatewayOptions> {
  /** Defaults to a RedisBackend on config.redisUrl (closed with the gateway; a given one is not). */
  backend?: InferenceBackend;
}

export interface RunningGateway {
  /** http://host:port with the real port (config.port 0 = any free port). */
  url: string;
  close(): Promise<void>;
}

const DEFAULTS: GatewayOptions = { keepAliveMs: 5000, bodyLimit: 16 * 1024 * 1024 };

/** Start the OpenAI-compatible gateway on config.host:config.port. */
export async function startGateway(config: LoomConfig, opts: StartGatewayOptions = {}): Promise<RunningGateway> {
  const log = createLogger('gateway', config.logLevel);
  const options: GatewayOptions = { keepAliveMs: opts.keepAliveMs ?? DEFAULTS.keepAliveMs, bodyLimit: opts.bodyLimit ?? DEFAULTS.bodyLimit };
  const backend = opts.backend ?? new RedisBackend({ redisUrl: config.redisUrl, maxQueueLength: config.maxQueueLength, log });
  const metrics = new GatewayMetrics();

  const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimit, logger: false });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ config, backend, log, metrics, options }), adapter, {
    logger: new NestLogger(log),
    abortOnError: false,
  });
  app.useGlobalFilters(new OpenAiExceptionFilter(log, metrics));
  // Before init, so the hooks cover every route and the not-found handler.
  installRequestHooks(app.getHttpAdapter().getInstance(), metrics);
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app.close().catch(() => {});
    if (!opts.backend) await backend.close();
    throw err;
  }
  const addr = app.getHttpServer().address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info({ url, apiKeys: config.apiKeys ? 'required' : 'off' }, 'gateway listening');
  return {
    url,
    async close() {
      await app.close();
      if (!opts.backend) await backend.close();
    },
  };
}
