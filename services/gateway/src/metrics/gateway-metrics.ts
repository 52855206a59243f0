import { BUCKETS, METRIC } from '@loom/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The gateway's Prometheus metrics, on a registry of its own (several gateways may share a
 * process in tests). Latencies are measured here, at the edge, so they are what the client sees:
 * queueing, scheduling and network included.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: METRIC.httpRequests, help: 'HTTP requests answered, by route and status', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  readonly requestsAccepted = new Counter({ name: METRIC.requestsAccepted, help: 'Generation requests accepted into a queue', labelNames: ['model', 'endpoint'], registers: [this.registry] });
  readonly requestsFinished = new Counter({ name: METRIC.requestsFinished, help: 'Generation requests answered in full, by finish reason', labelNames: ['model', 'finish_reason'], registers: [this.registry] });
  readonly requestErrors = new Counter({ name: METRIC.requestErrors, help: 'Error responses, by error code', labelNames: ['status', 'code'], registers: [this.registry] });
  readonly requestsCancelled = new Counter({ name: METRIC.requestsCancelled, help: 'Requests cancelled by the gateway, by reason', labelNames: ['reason'], registers: [this.registry] });
  readonly rateLimited = new Counter({ name: METRIC.rateLimited, help: 'Requests refused by a per-key rate limit, by limit (rpm, tpm)', labelNames: ['limit'], registers: [this.registry] });
  readonly promptTokens = new Counter({ name: METRIC.promptTokens, help: 'Prompt tokens of accepted requests', labelNames: ['model'], registers: [this.registry] });
  readonly generationTokens = new Counter({ name: METRIC.generationTokens, help: 'Tokens delivered to clients', labelNames: ['model'], registers: [this.registry] });
  readonly ttft = new Histogram({ name: METRIC.timeToFirstToken, help: 'Seconds from request arrival to the first token delivered', labelNames: ['model'], buckets: [...BUCKETS.ttft], registers: [this.registry] });
  readonly itl = new Histogram({ name: METRIC.interTokenLatency, help: 'Seconds between delivered tokens of one choice', labelNames: ['model'], buckets: [...BUCKETS.itl], registers: [this.registry] });
  readonly e2e = new Histogram({ name: METRIC.e2eLatency, help: 'Seconds from request arrival to the last byte of the answer', labelNames: ['model'], buckets: [...BUCKETS.e2e], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'loom_gateway_' });
  }
}
