import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BUCKETS, EVENT_LOOP_MONITORING_PRECISION_MS, METRIC, VLLM_METRIC } from '@loom/common';
import type { WarmupResponse } from '@loom/proto';

/** Worker-side metrics: what the engine itself did. Scheduling metrics live in the scheduler. */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly forward: Histogram;
  private readonly tokens: Counter;
  private readonly cacheInfo: Gauge;

  constructor(labels: { worker: string; model_name: string }) {
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({
      register: this.registry,
      eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_PRECISION_MS,
    });
    this.forward = new Histogram({
      name: METRIC.engineForwardDuration,
      help: 'Wall time of one batched forward pass plus sampling, seconds',
      buckets: [...BUCKETS.step],
      registers: [this.registry],
    });
    this.tokens = new Counter({
      name: METRIC.engineTokens,
      help: 'Tokens run through the forward pass',
      registers: [this.registry],
    });
    this.cacheInfo = new Gauge({
      name: VLLM_METRIC.cacheConfigInfo,
      help: 'KV cache configuration of this worker (value is always 1)',
      labelNames: ['block_size', 'num_gpu_blocks', 'cache_dtype'],
      registers: [this.registry],
    });
  }

  observeStep(seconds: number, tokens: number): void {
    this.forward.observe(seconds);
    this.tokens.inc(tokens);
  }

  /** vLLM's cache_config_info; cacheDtype: the engine's KV element type ("f16" or "f32"). */
  cacheConfig(w: WarmupResponse, cacheDtype: string): void {
    this.cacheInfo.set(
      { block_size: String(w.blockSize), num_gpu_blocks: String(w.numBlocks), cache_dtype: cacheDtype },
      1,
    );
  }
}
