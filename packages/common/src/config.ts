/**
 * Every setting of every service: a CLI flag with an environment twin, defined once. The CLI turns
 * these into commander options; services read the resolved values through `LoomConfig`.
 */
export interface OptionSpec {
  /** camelCase key in LoomConfig. */
  key: keyof LoomConfig;
  flag: string;
  env: string;
  description: string;
  default?: string | number | boolean;
  kind: 'string' | 'int' | 'float' | 'bool';
}

export interface LoomConfig {
  redisUrl: string;
  host: string;
  port: number;
  model: string;
  servedModelName: string;
  workers: number;
  workerHost: string;
  workerPort: number;
  workerId: string;
  threads: number;
  pooling: string;
  kvCacheDtype: string;
  blockSize: number;
  numBlocks: number;
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
  maxQueueLength: number;
  heartbeatMs: number;
  metricsPort: number;
  logLevel: string;
  routingPolicy: string;
  structuredOutputThreads: number;
  k8sNamespace: string;
  workerService: string;
  leaseTtlMs: number;
  apiKeys: string;
  apiKeysFile: string;
  apiKeysRedis: boolean;
  rateLimitRpm: number;
  rateLimitTpm: number;
  queueWaitTimeout: number;
  toolCallParser: string;
  reasoningParser: string;
  responsesTtl: number;
}

export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'redisUrl',
    flag: '--redis-url <url>',
    env: 'REDIS_URL',
    description: 'Redis connection URL',
    default: 'redis://127.0.0.1:6379',
    kind: 'string',
  },
  {
    key: 'host',
    flag: '--host <addr>',
    env: 'HOST',
    description: 'address the gateway listens on',
    default: '127.0.0.1',
    kind: 'string',
  },
  { key: 'port', flag: '--port <n>', env: 'PORT', description: 'gateway HTTP port', default: 8000, kind: 'int' },
  {
    key: 'model',
    flag: '--model <path>',
    env: 'LOOM_MODEL',
    description:
      'model the workers serve: a GGUF file, a Hugging Face safetensors directory, or ' +
      'hf://org/name[@revision][/file] (downloaded into the Hugging Face cache first)',
    default: '',
    kind: 'string',
  },
  {
    key: 'servedModelName',
    flag: '--served-model-name <id>',
    env: 'LOOM_SERVED_MODEL_NAME',
    description: 'model id clients use (default: the file name without extension; for hf://org/name, org/name)',
    default: '',
    kind: 'string',
  },
  {
    key: 'workers',
    flag: '--workers <n>',
    env: 'LOOM_WORKERS',
    description: 'number of workers `loom up` starts',
    default: 1,
    kind: 'int',
  },
  {
    key: 'workerHost',
    flag: '--worker-host <addr>',
    env: 'LOOM_WORKER_HOST',
    description: 'address the worker gRPC server listens on and advertises',
    default: '127.0.0.1',
    kind: 'string',
  },
  {
    key: 'workerPort',
    flag: '--worker-port <n>',
    env: 'LOOM_WORKER_PORT',
    description: 'worker gRPC port (0 = any free port)',
    default: 0,
    kind: 'int',
  },
  {
    key: 'workerId',
    flag: '--worker-id <id>',
    env: 'LOOM_WORKER_ID',
    description: 'worker id (default: hostname-pid)',
    default: '',
    kind: 'string',
  },
  {
    key: 'threads',
    flag: '--threads <n>',
    env: 'LOOM_THREADS',
    description: 'engine threads per worker (0 = all cores)',
    default: 0,
    kind: 'int',
  },
  {
    key: 'pooling',
    flag: '--pooling <type>',
    env: 'LOOM_POOLING',
    description:
      "how a worker turns a sequence's final-normed hidden states into one /v1/embeddings vector: auto (the " +
      "GGUF's pooling_type, else last, as vLLM does for decoder LLMs) | last | mean | cls",
    default: 'auto',
    kind: 'string',
  },
  {
    key: 'kvCacheDtype',
    flag: '--kv-cache-dtype <type>',
    env: 'LOOM_KV_CACHE_DTYPE',
    description:
      "element type of a worker's paged K/V cache: f16 (half the bytes per token; llama.cpp's default) | f32 (exact, for comparisons against a reference)",
    default: 'f16',
    kind: 'string',
  },
  {
    key: 'blockSize',
    flag: '--block-size <n>',
    env: 'LOOM_BLOCK_SIZE',
    description: 'tokens per KV block',
    default: 16,
    kind: 'int',
  },
  {
    key: 'numBlocks',
    flag: '--num-blocks <n>',
    env: 'LOOM_NUM_BLOCKS',
    description: 'KV blocks per worker (0 = measure what fits)',
    default: 0,
    kind: 'int',
  },
  {
    key: 'maxNumBatchedTokens',
    flag: '--max-num-batched-tokens <n>',
    env: 'LOOM_MAX_NUM_BATCHED_TOKENS',
    description: 'token budget of one step',
    default: 512,
    kind: 'int',
  },
  {
    key: 'maxNumSeqs',
    flag: '--max-num-seqs <n>',
    env: 'LOOM_MAX_NUM_SEQS',
    description: 'max sequences running on one worker',
    default: 64,
    kind: 'int',
  },
  {
    key: 'maxQueueLength',
    flag: '--max-queue-length <n>',
    env: 'LOOM_MAX_QUEUE_LENGTH',
    description: 'requests waiting per model before the gateway answers 429',
    default: 1024,
    kind: 'int',
  },
  {
    key: 'heartbeatMs',
    flag: '--heartbeat-ms <n>',
    env: 'LOOM_HEARTBEAT_MS',
    description: 'worker heartbeat period (a worker is gone after 3 missed)',
    default: 1000,
    kind: 'int',
  },
  {
    key: 'metricsPort',
    flag: '--metrics-port <n>',
    env: 'LOOM_METRICS_PORT',
    description: 'HTTP port for /metrics and /health of scheduler and worker (0 = any free port)',
    default: 0,
    kind: 'int',
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'LOOM_LOG_LEVEL',
    description: 'trace|debug|info|warn|error',
    default: 'info',
    kind: 'string',
  },
  {
    key: 'routingPolicy',
    flag: '--routing-policy <policy>',
    env: 'LOOM_ROUTING_POLICY',
    description:
      'how the scheduler places new requests: prefix (longest cached prefix, weighed against load) | least-loaded | round-robin',
    default: 'prefix',
    kind: 'string',
  },
  {
    key: 'structuredOutputThreads',
    flag: '--structured-output-threads <n>',
    env: 'LOOM_STRUCTURED_OUTPUT_THREADS',
    description:
      "scheduler threads that compile structured-output grammars and fill each step's token masks, off the " +
      "step loop (a compile blocks only its own thread's masks)",
    default: 2,
    kind: 'int',
  },
  {
    key: 'k8sNamespace',
    flag: '--k8s-namespace <ns>',
    env: 'LOOM_K8S_NAMESPACE',
    description:
      'discover workers from EndpointSlices in this Kubernetes namespace (empty = from registrations in Redis)',
    default: '',
    kind: 'string',
  },
  {
    key: 'workerService',
    flag: '--worker-service <name>',
    env: 'LOOM_WORKER_SERVICE',
    description: 'Kubernetes Service whose EndpointSlices list the workers (with --k8s-namespace)',
    default: 'loom-worker',
    kind: 'string',
  },
  {
    key: 'leaseTtlMs',
    flag: '--lease-ttl-ms <n>',
    env: 'LOOM_LEASE_TTL_MS',
    description: 'scheduler leadership lease; a standby takes over within about this long after the leader dies',
    default: 3000,
    kind: 'int',
  },
  {
    key: 'apiKeys',
    flag: '--api-keys <keys>',
    env: 'LOOM_API_KEYS',
    description: 'comma-separated API keys the gateway accepts (empty = no auth)',
    default: '',
    kind: 'string',
  },
  {
    key: 'apiKeysFile',
    flag: '--api-keys-file <path>',
    env: 'LOOM_API_KEYS_FILE',
    description: 'JSON file of API keys with tenant, priority, cache_salt, rpm, tpm (see services/gateway/README.md)',
    default: '',
    kind: 'string',
  },
  {
    key: 'apiKeysRedis',
    flag: '--api-keys-redis <bool>',
    env: 'LOOM_API_KEYS_REDIS',
    description: 'also accept keys stored in Redis (hash loom:api-keys, sha256 hex → JSON record)',
    default: false,
    kind: 'bool',
  },
  {
    key: 'rateLimitRpm',
    flag: '--rate-limit-rpm <n>',
    env: 'LOOM_RATE_LIMIT_RPM',
    description: 'requests per minute per API key, for keys without their own rpm (0 = unlimited)',
    default: 0,
    kind: 'int',
  },
  {
    key: 'rateLimitTpm',
    flag: '--rate-limit-tpm <n>',
    env: 'LOOM_RATE_LIMIT_TPM',
    description:
      'tokens (prompt + max_tokens × n) per minute per API key, for keys without their own tpm (0 = unlimited)',
    default: 0,
    kind: 'int',
  },
  {
    key: 'queueWaitTimeout',
    flag: '--queue-wait-timeout <s>',
    env: 'LOOM_QUEUE_WAIT_TIMEOUT',
    description:
      'seconds a request may wait for its first token before the gateway cancels it and answers 503 (0 = forever)',
    default: 300,
    kind: 'float',
  },
  {
    key: 'toolCallParser',
    flag: '--tool-call-parser <name>',
    env: 'LOOM_TOOL_CALL_PARSER',
    description:
      "how the gateway reads tool calls in the model's output: auto (the family its chat template writes) | " +
      "none | one of vLLM's --tool-call-parser names (hermes, llama3_json, mistral, openai, ...: " +
      'services/gateway/README.md lists them)',
    default: 'auto',
    kind: 'string',
  },
  {
    key: 'reasoningParser',
    flag: '--reasoning-parser <name>',
    env: 'LOOM_REASONING_PARSER',
    description:
      "how the gateway splits reasoning from content: auto (by its chat template's thinking markers) | none " +
      "| one of vLLM's --reasoning-parser names (qwen3, deepseek_r1, openai_gptoss, ...: " +
      'services/gateway/README.md lists them)',
    default: 'auto',
    kind: 'string',
  },
  {
    key: 'responsesTtl',
    flag: '--responses-ttl <s>',
    env: 'LOOM_RESPONSES_TTL',
    description:
      'seconds a /v1/responses response created with store: true is kept in Redis (per API key) for retrieval and previous_response_id',
    default: 86400,
    kind: 'int',
  },
];

/** Resolve a config from an environment alone (services started without the CLI, tests). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<LoomConfig> = {}): LoomConfig {
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    const raw = env[o.env];
    out[o.key] = raw === undefined || raw === '' ? o.default : parseOption(o, raw);
  }
  return { ...(out as unknown as LoomConfig), ...overrides };
}

export function parseOption(o: OptionSpec, raw: string): string | number | boolean {
  switch (o.kind) {
    case 'int': {
      const n = Number(raw);
      if (!Number.isInteger(n)) throw new Error(`${o.flag.split(' ')[0]} / ${o.env} must be an integer, got "${raw}"`);
      return n;
    }
    case 'float': {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`${o.flag.split(' ')[0]} / ${o.env} must be a number, got "${raw}"`);
      return n;
    }
    case 'bool': {
      // A typo (ture) must not quietly mean false.
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw new Error(`${o.flag.split(' ')[0]} / ${o.env} must be true or false, got "${raw}"`);
    }
    default:
      return raw;
  }
}

/** Model id clients use: --served-model-name, else the model file's base name without extension. */
export function modelIdOf(config: Pick<LoomConfig, 'model' | 'servedModelName'>): string {
  if (config.servedModelName) return config.servedModelName;
  // A directory may be given with a trailing slash (a safetensors checkout): its name is the id.
  const base =
    config.model
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ?? config.model;
  return base.replace(/\.(gguf|safetensors)$/i, '');
}
