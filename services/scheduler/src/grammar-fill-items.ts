import type { Scheduler, SchedulerOutput } from './core/index.js';
import type { FillItem, StructuredOutputManager } from './structured-output/structured-output-manager.js';

/**
 * The constrained sequences that sample a token in step `out`, each with its output so far (the
 * matcher's input). A sequence still prefilling (its scheduled tokens end before its last token)
 * samples nothing this step and needs no mask. Works on the core's state after schedule(), before
 * update(): `numComputedTokens + numScheduledTokens` is where the step's computation ends.
 */
export function grammarFillItems(
  core: Scheduler,
  out: SchedulerOutput,
  structured: StructuredOutputManager,
): FillItem[] {
  const items: FillItem[] = [];
  for (const r of out.newRequests) {
    if (!structured.has(r.requestId) || r.numComputedTokens + r.numScheduledTokens !== r.tokenIds.length) continue;
    items.push({ seqId: r.requestId, output: r.tokenIds.subarray(core.getRequest(r.requestId)!.numPromptTokens) });
  }
  for (const c of out.cachedRequests) {
    if (!structured.has(c.requestId)) continue;
    const request = core.getRequest(c.requestId)!;
    if (c.numComputedTokens + c.numScheduledTokens !== request.numTokens) continue;
    items.push({ seqId: c.requestId, output: request.tokenIds().subarray(request.numPromptTokens) });
  }
  return items;
}
