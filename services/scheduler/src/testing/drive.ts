import type { FinishInfo, RequestOutput } from '../core/scheduler-output.js';
import type { Scheduler } from '../core/scheduler.js';
import type { FakeExecutor } from './fake-executor.js';

export interface DrivenRequest {
  tokenIds: number[];
  finished?: FinishInfo;
  /** An embedding request's vector. */
  pooled?: readonly number[];
}

/**
 * Runs schedule → FakeExecutor → update until the scheduler has no work (or maxSteps), the way
 * the service loop does, collecting each request's streamed tokens and finish.
 */
export function drive(
  scheduler: Scheduler,
  executor: FakeExecutor,
  maxSteps = 10_000,
  onOutput?: (output: RequestOutput, step: number) => void,
): Map<string, DrivenRequest> {
  const results = new Map<string, DrivenRequest>();
  for (let step = 0; step < maxSteps && scheduler.hasWork(); step++) {
    const out = scheduler.schedule();
    if (out.numScheduledTokens === 0) throw new Error(`step ${step}: nothing schedulable while work remains`);
    for (const o of scheduler.update(out, executor.execute(out), executor.pooled).outputs) {
      const r = results.get(o.requestId) ?? { tokenIds: [] };
      r.tokenIds.push(...o.newTokenIds);
      if (o.finished) r.finished = o.finished;
      if (o.pooled) r.pooled = o.pooled;
      results.set(o.requestId, r);
      onOutput?.(o, step);
    }
  }
  return results;
}
