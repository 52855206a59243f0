import { DEFAULT_SAMPLING, type SamplingParams } from '@loom/common';
import { Request, type RequestInit } from '../core/request.js';

let arrivals = 0;

/** Token ids from..from+n-1: easy to tell apart and to make share exact prefixes. */
export const seq = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

export const sampling = (overrides: Partial<SamplingParams> = {}): SamplingParams => ({
  ...DEFAULT_SAMPLING,
  ...overrides,
});

/** A Request as the scheduler would create it (for tests of the layers below the scheduler). */
export function makeRequest(requestId: string, promptTokenIds: number[], extra: Partial<RequestInit> = {}): Request {
  return new Request({ requestId, promptTokenIds, sampling: sampling(), ...extra }, arrivals++, [2]);
}
