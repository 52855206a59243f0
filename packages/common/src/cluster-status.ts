/**
 * What the cluster tells about itself: the record each scheduler publishes in Redis (schedulerStatusKey),
 * and the JSON the gateway's `GET /status` answers (read by the web page and `loom status`).
 */

/** One worker as the leading scheduler sees it. Counters count since the worker joined this leader's term. */
export interface WorkerStatus {
  workerId: string;
  /** host:port of its gRPC server. */
  address: string;
  /** '' until the worker answered Info. */
  model: string;
  /** 'joining': listed by discovery, not stepped yet (warming up, or not answering); 'up': stepped. */
  state: 'joining' | 'up';
  /** What the engine runs on (from the worker's Info), absent while joining. */
  device?: WorkerDevice;
  /** Sequences in the running batch / queued on this worker's core. */
  running: number;
  waiting: number;
  /** Share of KV blocks held by sequences, 0..1. */
  kvUsage: number;
  numBlocks: number;
  blockSize: number;
  /** Prompt tokens looked up in the prefix cache, and those found there. */
  prefixQueriedTokens: number;
  prefixHitTokens: number;
  preemptions: number;
  /** Steps sent to the worker. */
  steps: number;
  /** Epoch ms when this term's scheduler joined it (0 while joining). */
  joinedAt: number;
}

export interface WorkerDevice {
  /** SIMD kernel set the engine picked ('avx512', 'avx2', 'scalar'). */
  kernels: string;
  threads: number;
  /** Weight type of the loaded model ('f32', 'q8_0', ...). */
  weightType: string;
}

/** A scheduler process's record (schedulerStatusKey). */
export interface SchedulerStatus {
  holderId: string;
  leading: boolean;
  /** The fencing token of its current term while leading, else null. */
  fencingToken: number | null;
  /** Epoch ms: process start, current term's start (null when not leading), this record's write. */
  startedAt: number;
  termStartedAt: number | null;
  updatedAt: number;
  /** Times this process took the leader lease. */
  acquisitions: number;
  /** Leader only (empty for a standby): every worker its term steps or is joining. */
  workers: WorkerStatus[];
  /** Leader only: sequences per model held in the scheduler because no worker can take them yet. */
  parked: Record<string, number>;
}

/** Percentiles of a latency over the gateway's recent window, seconds (null when no sample). */
export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

/** `GET /status`: the whole cluster in one JSON document (documented in services/gateway/README.md). */
export interface ClusterStatus {
  object: 'cluster.status';
  /** Epoch ms when the gateway assembled it. */
  time: number;
  gateway: { version: string; uptime_s: number; api_keys: boolean };
  models: {
    id: string;
    max_model_len: number;
    /** Requests queued in Redis for a scheduler (waiting), taken by one (active), and of those, parked for want of a worker. */
    queue: { waiting: number; active: number; parked: number };
  }[];
  scheduler: {
    /** Holder id of the lease's owner, null when no scheduler leads. */
    leader: string | null;
    /** Epoch ms when the leader's term began (null when unknown). */
    leader_since: number | null;
    /** Terms since this Redis began (the fencing counter): 1 + failovers and restarts. */
    terms: number;
    /** Live scheduler processes, the leader among them. */
    instances: { id: string; leading: boolean; started_at: number; acquisitions: number }[];
  };
  workers: ClusterWorker[];
  latency: {
    /** Seconds of history summarised; each gateway reports the requests it served itself. */
    window_s: number;
    time_to_first_token: LatencySummary;
    inter_token_latency: LatencySummary;
    e2e_request_latency: LatencySummary;
  };
}

/** One worker in `GET /status`: its registration (when it registered in Redis) merged with the leader's view. */
export interface ClusterWorker {
  id: string;
  address: string;
  model: string;
  /** 'up': stepped by the leader; 'joining': alive, not stepped yet; 'unscheduled': alive but no scheduler leads. */
  state: 'up' | 'joining' | 'unscheduled';
  /** null until the leader knows it (device, load, KV and cache figures come from the leader's record). */
  device: { kernels: string; threads: number; weight_type: string } | null;
  running: number;
  waiting: number;
  kv_usage: number;
  kv_blocks: number;
  block_size: number;
  /** Prefix-cache hit rate over this term: hit tokens / queried tokens (null before any query). */
  prefix_hit_rate: number | null;
  prefix_queried_tokens: number;
  preemptions: number;
  steps: number;
  /** Epoch ms the worker process started (its registration), null when it did not register in Redis. */
  started_at: number | null;
  pid: number | null;
}
