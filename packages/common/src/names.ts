/**
 * Every name that crosses a process boundary (Redis keys, queue names, stream fields, gRPC
 * package, metric names) is defined here once and imported everywhere else. Renaming one here
 * renames it for the whole cluster; retyping one anywhere else is a bug.
 */

/** Prefix of every Redis key Loom owns, so one Redis can be shared and `SCAN loom:*` finds all. */
export const KEY_PREFIX = 'loom:';

/** BullMQ queue that holds a model's accepted-but-not-yet-scheduled requests. */
export const requestQueueName = (modelId: string): string => `loom-requests-${sanitize(modelId)}`;

/** BullMQ key prefix (BullMQ builds `${prefix}:${queue}:...` keys itself). */
export const BULLMQ_PREFIX = 'loom:bull';

/** Redis Stream carrying one request's output events, in order; entry ids give resumable delivery. */
export const outputStreamKey = (requestId: string): string => `${KEY_PREFIX}out:${requestId}`;

/**
 * A gateway's fan-in stream: each entry is one output append's events for that gateway's requests,
 * JSON `[[outputStreamKey, firstEntryId, [OutputEvent, ...]], ...]`, so the gateway reads one stream
 * for all its requests. The requests' own streams stay the record (resume, catch-up); this is a copy.
 */
export const gatewayOutputKey = (gatewayId: string): string => `${KEY_PREFIX}gateway:out:${gatewayId}`;

/** Entries a gateway's fan-in stream keeps (MAXLEN ~): a gateway further behind catches up from the requests' streams. */
export const GATEWAY_OUTPUT_MAXLEN = 2000;

/** Seconds a fan-in stream lives after its last append (its gateway died without deleting it). */
export const GATEWAY_OUTPUT_TTL_S = 3600;

/** The single field of each output-stream entry; its value is a JSON `OutputEvent`. */
export const OUTPUT_STREAM_FIELD = 'e';

/** Stream of cancellations (JSON `CancelEvent` in field OUTPUT_STREAM_FIELD); a stream, not pub/sub, so a cancel is never lost. */
export const CANCEL_STREAM_KEY = `${KEY_PREFIX}cancels`;

/** Seconds an output stream lives after its final event, so a reconnecting client can still read it. */
export const OUTPUT_STREAM_TTL_S = 600;

/** Hash: worker id → JSON `WorkerRegistration`. */
export const WORKERS_KEY = `${KEY_PREFIX}workers`;

/** Key with a TTL that a live worker keeps refreshing; its absence means the worker is gone. */
export const workerHeartbeatKey = (workerId: string): string => `${KEY_PREFIX}worker:${workerId}:alive`;

/** Set of model ids some worker serves. */
export const MODELS_KEY = `${KEY_PREFIX}models`;

/** String: JSON `ModelCard` (tokenizer data, chat template, context length) published by workers. */
export const modelCardKey = (modelId: string): string => `${KEY_PREFIX}model:${sanitize(modelId)}`;

/** Scheduler leadership lease (value: holder id) and its monotonically increasing fencing counter. */
export const SCHEDULER_LEASE_KEY = `${KEY_PREFIX}scheduler:lease`;
export const SCHEDULER_FENCE_KEY = `${KEY_PREFIX}scheduler:fence`;

/** Set of holder ids of scheduler processes that publish a status record (leader and standbys). */
export const SCHEDULERS_KEY = `${KEY_PREFIX}schedulers`;

/**
 * String with a TTL: one scheduler process's JSON `SchedulerStatus`, rewritten every
 * SCHEDULER_STATUS_INTERVAL_MS with a lifetime of SCHEDULER_STATUS_TTL_MS and deleted when it stops.
 * A member of SCHEDULERS_KEY whose record lapsed died without cleaning up; the next writer removes it.
 */
export const schedulerStatusKey = (holderId: string): string => `${KEY_PREFIX}scheduler:${holderId}:status`;
export const SCHEDULER_STATUS_INTERVAL_MS = 1000;
export const SCHEDULER_STATUS_TTL_MS = 3 * SCHEDULER_STATUS_INTERVAL_MS;

/** Hash: sha256 hex of an API key → JSON `ApiKeyRecord`. Keys are never stored in clear. */
export const API_KEYS_KEY = `${KEY_PREFIX}api-keys`;

/** Hash holding one rate-limit identity's current fixed window (fields w, r, t). */
export const rateLimitKey = (identity: string): string => `${KEY_PREFIX}ratelimit:${identity}`;

/** gRPC package and service of the worker contract (proto/loom/v1/worker.proto). */
export const GRPC_PACKAGE = 'loom.v1';
export const GRPC_WORKER_SERVICE = 'WorkerService';

/** Queue names may only hold characters BullMQ and Redis keys handle without quoting. */
function sanitize(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}
