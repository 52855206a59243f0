import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Logger, LoomConfig } from '@loom/common';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import type { KeyStore } from './auth/key-store.js';
import type { InferenceBackend } from './backend/inference-backend.js';
import { ChatController } from './chat/chat.controller.js';
import { CompletionsController } from './completions/completions.controller.js';
import { EmbeddingsController } from './embeddings/embeddings.controller.js';
import { EmbeddingsService } from './embeddings/embeddings.service.js';
import { GenerationService } from './generation/generation.service.js';
import { StructuredOutputs } from './generation/structured-outputs.service.js';
import { HealthController } from './health/health.controller.js';
import { RateLimits } from './limits/rate-limits.js';
import type { RateLimiter } from './limits/redis-rate-limiter.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { ModelsController } from './models/models.controller.js';
import type { ResponseStore } from './responses/response-store.js';
import { ResponsesController } from './responses/responses.controller.js';
import { RESPONSE_STORE, ResponsesService } from './responses/responses.service.js';
import type { ClusterStateSource } from './status/redis-cluster-state.js';
import { CLUSTER_STATE, StatusController } from './status/status.controller.js';
import { TokenizeController } from './tokenize/tokenize.controller.js';
import { ModelTokenizers } from './tokenizer/model-tokenizers.js';
import { BACKEND, CONFIG, GATEWAY_OPTIONS, KEY_STORE, LOGGER, RATE_LIMITER, type GatewayOptions } from './di-tokens.js';

export interface AppDeps {
  config: LoomConfig;
  backend: InferenceBackend;
  log: Logger;
  metrics: GatewayMetrics;
  options: GatewayOptions;
  keys: KeyStore;
  /** Absent when no key has a limit: then nothing is counted. */
  limiter?: RateLimiter;
  clusterState: ClusterStateSource;
  /** Where /v1/responses keeps stored responses (closed with the module). */
  responseStore: ResponseStore;
}

/** The whole gateway as one module; its collaborators are handed in so tests can swap the backend. */
@Module({})
export class AppModule {
  static forRoot(deps: AppDeps): DynamicModule {
    return {
      module: AppModule,
      controllers: [
        CompletionsController,
        ChatController,
        EmbeddingsController,
        ResponsesController,
        ModelsController,
        TokenizeController,
        HealthController,
        MetricsController,
        StatusController,
      ],
      providers: [
        { provide: CONFIG, useValue: deps.config },
        { provide: BACKEND, useValue: deps.backend },
        { provide: LOGGER, useValue: deps.log },
        { provide: GATEWAY_OPTIONS, useValue: deps.options },
        { provide: GatewayMetrics, useValue: deps.metrics },
        { provide: KEY_STORE, useValue: deps.keys },
        { provide: RATE_LIMITER, useValue: deps.limiter ?? null },
        { provide: CLUSTER_STATE, useValue: deps.clusterState },
        { provide: RESPONSE_STORE, useValue: deps.responseStore },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        ModelTokenizers,
        RateLimits,
        GenerationService,
        EmbeddingsService,
        StructuredOutputs,
        ResponsesService,
      ],
    };
  }
}
