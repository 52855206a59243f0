import { unary, type WorkerClient } from '@loom/proto';
import type { LoomConfig, WorkerDevice } from '@loom/common';
import { Scheduler } from './core/index.js';

/** What a step loop learns by taking a worker over: its model, its device and a core sized to its KV pool. */
export interface JoinedWorker {
  model: string;
  device: WorkerDevice | undefined;
  /** The worker's core scheduler; its block pool mirrors the worker's KV pool block for block. */
  core: Scheduler;
}

/**
 * Take a worker over: ask what it serves (Info), have it allocate its KV pool (Warmup) and drop
 * whatever an earlier scheduler left on it (Reset), both under our fencing token so that a deposed
 * scheduler's later calls are refused. The core is sized from the worker's answer, not the config:
 * the worker's own --num-blocks wins, and numBlocks 0 lets it size the pool from its memory budget.
 */
export async function joinWorker(
  client: WorkerClient,
  config: LoomConfig,
  fencingToken: number,
): Promise<JoinedWorker> {
  const info = await unary(client.info.bind(client), {});
  const caps = info.capabilities;
  const warm = await unary(client.warmup.bind(client), {
    blockSize: config.blockSize,
    numBlocks: config.numBlocks,
    maxNumBatchedTokens: config.maxNumBatchedTokens,
    maxNumSeqs: config.maxNumSeqs,
    fencingToken,
  });
  await unary(client.reset.bind(client), { fencingToken });
  const core = new Scheduler({
    numBlocks: warm.numBlocks,
    blockSize: warm.blockSize,
    maxNumBatchedTokens: config.maxNumBatchedTokens,
    maxNumSeqs: config.maxNumSeqs,
    maxModelLen: info.contextLength,
    ...(info.kvCacheGroups.length > 0 ? { kvCacheGroups: info.kvCacheGroups } : {}),
  });
  return {
    model: info.modelId,
    device: caps && { kernels: caps.kernels, threads: caps.threads, weightType: caps.weightType },
    core,
  };
}
