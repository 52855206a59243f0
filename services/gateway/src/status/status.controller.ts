import { Controller, Get, Header, Inject } from '@nestjs/common';
import type { ClusterStatus } from '@loom/common';
import type { InferenceBackend } from '../backend/inference-backend.js';
import type { KeyStore } from '../auth/key-store.js';
import { ApiError } from '../errors/api-error.js';
import { VERSION } from '../health/health.controller.js';
import { withTimeout } from '../http/with-timeout.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { BACKEND, KEY_STORE } from '../di-tokens.js';
import { clusterStatusOf } from './cluster-status-of.js';
import type { ClusterStateSource } from './redis-cluster-state.js';

/** Injection token of the ClusterStateSource. */
export const CLUSTER_STATE = Symbol('ClusterStateSource');

/** Redis commands queue (not fail) while Redis is down: the page would hang, so bound the wait. */
const READ_TIMEOUT_MS = 2000;

/**
 * `GET /status`: the cluster in one JSON document (shape: ClusterStatus, documented in the README),
 * read by the web page's cluster view and `loom status`. Behind the API-key rules like the API.
 */
@Controller('status')
export class StatusController {
  private readonly startedAt = Date.now();

  constructor(
    @Inject(BACKEND) private readonly backend: InferenceBackend,
    @Inject(CLUSTER_STATE) private readonly source: ClusterStateSource,
    @Inject(KEY_STORE) private readonly keys: KeyStore,
    private readonly metrics: GatewayMetrics,
  ) {}

  @Get()
  @Header('cache-control', 'no-store')
  async status(): Promise<ClusterStatus> {
    const read = async () => {
      const cards = await this.backend.listModels();
      return { cards, state: await this.source.read(cards.map((c) => c.modelId)) };
    };
    let got: Awaited<ReturnType<typeof read>>;
    try {
      got = await withTimeout(read(), READ_TIMEOUT_MS);
    } catch {
      throw new ApiError(
        503,
        'The gateway cannot read the cluster state from Redis.',
        'service_unavailable_error',
        null,
        'backend_unavailable',
      );
    }
    const now = Date.now();
    const { ttft, itl, e2e } = this.metrics;
    return clusterStatusOf({
      ...got,
      now,
      gateway: { version: VERSION, uptime_s: Math.round((now - this.startedAt) / 1000), api_keys: this.keys.required },
      latency: {
        window_s: ttft.recent.windowMs / 1000,
        time_to_first_token: ttft.recent.summary(),
        inter_token_latency: itl.recent.summary(),
        e2e_request_latency: e2e.recent.summary(),
      },
    });
  }
}
