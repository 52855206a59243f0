// The scheduler core's public surface for the service loop (synchronous and pure; see scheduler.ts).
export { Scheduler } from './scheduler.js';
export type { SchedulerConfig, SchedulerStats } from './scheduler-config.js';
export type {
  CachedRequestData,
  FinishInfo,
  NewRequestData,
  RequestOutput,
  SampledToken,
  SchedulerOutput,
  UpdateResult,
} from './scheduler-output.js';
export { finishInfoOf } from './scheduler-output.js';
export { Request, RequestStatus, type RequestInit } from './request.js';
export type { SchedulingPolicy } from './request-queue.js';
export { type BlockHash, type BlockHashes, extendBlockHashes, hashFullBlocks } from './block-hash.js';
export type { KVCacheGroupSpec } from './kv-cache-group.js';
