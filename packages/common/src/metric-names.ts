/**
 * Prometheus metric names, defined once. Loom's own names follow Prometheus conventions (base
 * units, `_total` counters, `loom_` prefix); the VLLM_* twins are the names the ecosystem (vLLM
 * dashboards, KEDA recipes, inference routers) already keys on.
 */
export const METRIC = {
  httpRequests: 'loom_http_requests_total',
  requestsAccepted: 'loom_requests_accepted_total',
  requestsFinished: 'loom_requests_finished_total',
  requestErrors: 'loom_request_errors_total',
  requestsCancelled: 'loom_requests_cancelled_total',
  promptTokens: 'loom_prompt_tokens_total',
  generationTokens: 'loom_generation_tokens_total',
  timeToFirstToken: 'loom_time_to_first_token_seconds',
  interTokenLatency: 'loom_inter_token_latency_seconds',
  e2eLatency: 'loom_e2e_request_latency_seconds',
  queueTime: 'loom_request_queue_time_seconds',
  requestsRunning: 'loom_requests_running',
  requestsWaiting: 'loom_requests_waiting',
  kvUsageRatio: 'loom_kv_cache_usage_ratio',
  kvBlocksTotal: 'loom_kv_cache_blocks',
  stepDuration: 'loom_step_duration_seconds',
  tokensPerStep: 'loom_step_tokens',
  preemptions: 'loom_preemptions_total',
  prefixQueriedTokens: 'loom_prefix_cache_queried_tokens_total',
  prefixHitTokens: 'loom_prefix_cache_hit_tokens_total',
  workersUp: 'loom_workers_up',
  schedulerLeader: 'loom_scheduler_is_leader',
  engineForwardDuration: 'loom_engine_forward_duration_seconds',
  engineTokens: 'loom_engine_tokens_total',
  /** TPOT: (e2e - TTFT) / (generated tokens - 1) per request; histogram with BUCKETS.itl. */
  timePerOutputToken: 'loom_time_per_output_token_seconds',
  /** Requests accepted but admitted to no worker yet (queue + scheduler hold), per model_name. The autoscaling signal that exists at zero workers. */
  queueDepth: 'loom_queue_depth',
  /** 429s answered because a key's rate limit was exhausted (counter). */
  rateLimited: 'loom_rate_limited_requests_total',
  /** Blocking Redis connections the gateway's output stream reader holds (one per 256 in-flight streams). */
  gatewayStreamConnections: 'loom_gateway_output_stream_connections',
  /** Output events read from Redis that their clients have not taken yet (bounded per stream; the rest waits in Redis). */
  gatewayBufferedEvents: 'loom_gateway_output_buffered_events',
  /** Times this scheduler process took the leader lease (counter; starts at 0, so a standby's takeover shows in increase()). */
  leaderAcquisitions: 'loom_scheduler_leader_acquisitions_total',
  /** Wall time of compiling one structured-output grammar for a model's vocabulary in the scheduler (cache misses only), per model_name. */
  grammarCompileDuration: 'loom_structured_output_compile_seconds',
  /** Wall time per step of advancing the constrained sequences' matchers and filling their token masks (round trip to the grammar threads), per worker. */
  grammarFillDuration: 'loom_structured_output_fill_seconds',
} as const;

export const VLLM_METRIC = {
  requestsRunning: 'vllm:num_requests_running',
  requestsWaiting: 'vllm:num_requests_waiting',
  kvUsage: 'vllm:kv_cache_usage_perc',
  cacheConfigInfo: 'vllm:cache_config_info',
  timeToFirstToken: 'vllm:time_to_first_token_seconds',
  interTokenLatency: 'vllm:inter_token_latency_seconds',
  e2eLatency: 'vllm:e2e_request_latency_seconds',
  promptTokens: 'vllm:prompt_tokens_total',
  generationTokens: 'vllm:generation_tokens_total',
  prefixQueries: 'vllm:prefix_cache_queries_total',
  prefixHits: 'vllm:prefix_cache_hits_total',
  preemptions: 'vllm:num_preemptions_total',
  requestSuccess: 'vllm:request_success_total',
  queueTime: 'vllm:request_queue_time_seconds',
} as const;

/**
 * Sampling period (ms) of the default metrics' event-loop delay histogram (prom-client's default is
 * 10). The monitor is a timer firing at this period in every process, busy or idle: at 10 ms it cost
 * each idle process ~3.4 ms of CPU per second on the 2-core dev box, at 100 ms ~0.2. Lag percentiles
 * keep their resolution (each sample is timed in ns); only fewer samples are taken.
 */
export const EVENT_LOOP_MONITORING_PRECISION_MS = 100;

/** vLLM's histogram buckets, so percentiles line up with vLLM dashboards. */
export const BUCKETS = {
  ttft: [
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560,
  ],
  itl: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80],
  e2e: [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680],
  step: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  tokensPerStep: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
} as const;
