/** StepRequest pieces for the persistent batch's unit tests (not a test file itself). */
import type { ProtoSamplingParams, StepRequest } from '@loom/proto';

/** Greedy sampling as the scheduler sends it (seed 7). */
export const GREEDY_SAMPLING: ProtoSamplingParams = {
  temperature: 0,
  topP: 1,
  topK: 0,
  minP: 0,
  seed: 7,
  presencePenalty: 0,
  frequencyPenalty: 0,
  repetitionPenalty: 1,
  logitBias: {},
};

/** A StepRequest with nothing in it but `s`. */
export const stepRequest = (s: Partial<StepRequest>): StepRequest => ({
  stepId: 1,
  fencingToken: 1,
  newRequests: [],
  cachedRequests: [],
  finishedIds: [],
  preemptedIds: [],
  ...s,
});
