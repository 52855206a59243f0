import type { WorkerStatus } from '@loom/common';

/** A worker discovery lists that no loop steps yet (warming up, or retried because it did not answer). */
export function joiningWorkerStatus(workerId: string, address: string): WorkerStatus {
  return {
    workerId,
    address,
    model: '',
    state: 'joining',
    running: 0,
    waiting: 0,
    kvUsage: 0,
    numBlocks: 0,
    blockSize: 0,
    prefixQueriedTokens: 0,
    prefixHitTokens: 0,
    preemptions: 0,
    steps: 0,
    joinedAt: 0,
  };
}
