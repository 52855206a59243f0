import { BUCKETS, EVENT_LOOP_MONITORING_PRECISION_MS, METRIC, VLLM_METRIC } from '@loom/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';
import type { StreamStats } from '../backend/inference-backend.js';
import { RecentSamples } from '../status/recent-samples.js';

type Labels = LabelValues<string>;

/**
 * A Loom histogram and its vLLM-named twin, observed together so vLLM dashboards and KEDA recipes work
 * unchanged; also kept in a window of recent samples (all models together) for the status page.
 */
class HistogramPair {
  readonly recent = new RecentSamples();
  constructor(
    private readonly own: Histogram,
    private readonly twin: Histogram,
  ) {}
  observe(labels: Labels, seconds: number): void {
    this.own.observe(labels, seconds);
    this.twin.observe(labels, seconds);
    this.recent.observe(seconds);
  }
}

/** A Loom counter and its vLLM-named twin. */
class CounterPair {
  constructor(
    private readonly own: Counter,
    private readonly twin: Counter,
  ) {}
  inc(labels: Labels, by = 1): void {
    this.own.inc(labels, by);
    this.twin.inc(labels, by);
  }
}

/**
 * The gateway's Prometheus metrics, on a registry of its own (several gateways may share a
 * process in tests). Latencies are measured here, at the edge, so they are what the client sees:
 * queueing, scheduling and network included. Per-model series carry `model_name`, the label the
 * scheduler, the workers and vLLM use.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly registers = [this.registry];
  readonly httpRequests = new Counter({
    name: METRIC.httpRequests,
    help: 'HTTP requests answered, by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: this.registers,
  });
  readonly requestsAccepted = new Counter({
    name: METRIC.requestsAccepted,
    help: 'Generation requests accepted into a queue',
    labelNames: ['model_name', 'endpoint'],
    registers: this.registers,
  });
  readonly requestsFinished = new Counter({
    name: METRIC.requestsFinished,
    help: 'Choices answered in full, by finish reason',
    labelNames: ['model_name', 'finish_reason'],
    registers: this.registers,
  });
  /** vLLM's twin of requestsFinished; its label is spelled `finished_reason`. */
  readonly requestSuccess = new Counter({
    name: VLLM_METRIC.requestSuccess,
    help: 'Count of successfully processed requests',
    labelNames: ['model_name', 'finished_reason'],
    registers: this.registers,
  });
  readonly requestErrors = new Counter({
    name: METRIC.requestErrors,
    help: 'Error responses, by error code',
    labelNames: ['status', 'code'],
    registers: this.registers,
  });
  readonly requestsCancelled = new Counter({
    name: METRIC.requestsCancelled,
    help: 'Requests cancelled by the gateway, by reason',
    labelNames: ['reason'],
    registers: this.registers,
  });
  readonly rateLimited = new Counter({
    name: METRIC.rateLimited,
    help: 'Requests refused by a per-key rate limit, by limit (rpm, tpm)',
    labelNames: ['limit'],
    registers: this.registers,
  });
  readonly promptTokens = this.counterPair(
    METRIC.promptTokens,
    VLLM_METRIC.promptTokens,
    'Prompt tokens of accepted requests',
  );
  readonly generationTokens = this.counterPair(
    METRIC.generationTokens,
    VLLM_METRIC.generationTokens,
    'Tokens delivered to clients',
  );
  readonly ttft = this.histogramPair(
    METRIC.timeToFirstToken,
    VLLM_METRIC.timeToFirstToken,
    'Seconds from request arrival to the first token delivered',
    BUCKETS.ttft,
  );
  readonly itl = this.histogramPair(
    METRIC.interTokenLatency,
    VLLM_METRIC.interTokenLatency,
    'Seconds between delivered tokens of one choice',
    BUCKETS.itl,
  );
  readonly e2e = this.histogramPair(
    METRIC.e2eLatency,
    VLLM_METRIC.e2eLatency,
    'Seconds from request arrival to the last byte of the answer',
    BUCKETS.e2e,
  );
  readonly tpot = new Histogram({
    name: METRIC.timePerOutputToken,
    help: 'Per request: (e2e - TTFT) / (generated tokens - 1), seconds',
    labelNames: ['model_name'],
    buckets: [...BUCKETS.itl],
    registers: this.registers,
  });

  constructor() {
    collectDefaultMetrics({
      register: this.registry,
      prefix: 'loom_gateway_',
      eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_PRECISION_MS,
    });
  }

  /** Gauges of the backend's output stream reading, read at each scrape (absent stats read as 0). */
  observeStreams(stats: () => StreamStats | undefined): void {
    const gauge = (name: string, help: string, pick: (s: StreamStats) => number) =>
      new Gauge({
        name,
        help,
        registers: this.registers,
        collect() {
          const s = stats();
          this.set(s === undefined ? 0 : pick(s));
        },
      });
    gauge(METRIC.gatewayStreamConnections, 'Blocking Redis connections reading output streams', (s) => s.connections);
    gauge(
      METRIC.gatewayBufferedEvents,
      'Output events read from Redis and not yet taken by their clients',
      (s) => s.bufferedEvents,
    );
  }

  private counterPair(own: string, twin: string, help: string): CounterPair {
    const make = (name: string) => new Counter({ name, help, labelNames: ['model_name'], registers: this.registers });
    return new CounterPair(make(own), make(twin));
  }

  private histogramPair(own: string, twin: string, help: string, buckets: readonly number[]): HistogramPair {
    const make = (name: string) =>
      new Histogram({ name, help, labelNames: ['model_name'], buckets: [...buckets], registers: this.registers });
    return new HistogramPair(make(own), make(twin));
  }
}
