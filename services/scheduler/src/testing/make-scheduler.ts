import { Scheduler } from '../core/scheduler.js';
import type { SchedulerConfig } from '../core/scheduler-config.js';
import { FakeExecutor, type FakeTokenFn } from './fake-executor.js';

/** EOS id of the test model. */
export const EOS = 2;

export function makeScheduler(overrides: Partial<SchedulerConfig> = {}, tokenFn?: FakeTokenFn) {
  const config: SchedulerConfig = {
    blockSize: 16,
    numBlocks: 16,
    maxNumBatchedTokens: 64,
    maxNumSeqs: 8,
    maxModelLen: 1024,
    eosTokenIds: [EOS],
    ...overrides,
  };
  const scheduler = new Scheduler(config);
  const executor = new FakeExecutor(config.blockSize, config.numBlocks, tokenFn, config.kvCacheGroups);
  /** One full step: schedule, execute, update. */
  const step = () => {
    const output = scheduler.schedule();
    // The step as sent: newRequests' tokenIds are live views that update() appends to, so they are
    // copied here, where the service serializes the message.
    const sent = {
      ...output,
      newRequests: output.newRequests.map((r) => ({ ...r, tokenIds: Array.from(r.tokenIds) })),
    };
    const sampled = output.numScheduledTokens > 0 ? executor.execute(output) : [];
    const result = scheduler.update(output, sampled, output.numScheduledTokens > 0 ? executor.pooled : []);
    return { output: sent, outputs: result.outputs };
  };
  return { scheduler, executor, step, config };
}
