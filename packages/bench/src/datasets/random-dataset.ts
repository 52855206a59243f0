import type { BenchRequest } from '../bench-request.js';
import { Rng } from '../random-variates.js';

export interface TokenRange {
  /** Token ids are drawn from [firstId, vocabSize): Llama vocabularies keep 0..2 for unknown, BOS and EOS. */
  vocabSize: number;
  firstId?: number;
}

export interface RandomDatasetOptions extends TokenRange {
  numPrompts: number;
  inputLen: number;
  outputLen: number;
  /** Lengths are drawn uniformly from [floor(len × (1 - r)), ceil(len × (1 + r))]; r in [0, 1). */
  rangeRatio?: number;
  /** A random prefix of this many tokens shared by every prompt. */
  prefixLen?: number;
  seed?: number;
}

/** Uniform integer length around `len` as vLLM's RandomDataset draws it (an output length is at least 1). */
export function lengthRange(len: number, ratio: number, min = 0): [number, number] {
  if (!(ratio >= 0 && ratio < 1)) throw new RangeError(`range ratio must be in [0, 1), got ${ratio}`);
  return [Math.max(min, Math.floor(len * (1 - ratio))), Math.max(min, Math.ceil(len * (1 + ratio)))];
}

/**
 * vLLM's `random` dataset, as token ids: per request an input and output length drawn around the
 * asked ones, the shared random prefix, then a run of consecutive vocabulary ids from a random offset
 * (distinct per request, so no two prompts share more than the prefix).
 */
export function randomDataset(o: RandomDatasetOptions): BenchRequest[] {
  const rng = new Rng(o.seed ?? 0);
  const first = o.firstId ?? 3;
  const allowed = o.vocabSize - first;
  if (allowed <= 0) throw new RangeError(`vocabulary size ${o.vocabSize} leaves no token ids from ${first}`);
  const [inLo, inHi] = lengthRange(o.inputLen, o.rangeRatio ?? 0);
  const [outLo, outHi] = lengthRange(o.outputLen, o.rangeRatio ?? 0, 1);
  const prefixLen = o.prefixLen ?? 0;
  if (prefixLen + inLo < 1) throw new RangeError('--random-input-len is too small: a prompt would have no token');
  const prefix = Array.from({ length: prefixLen }, () => first + rng.int(0, allowed - 1));
  const requests: BenchRequest[] = [];
  for (let i = 0; i < o.numPrompts; i++) {
    const inputLen = rng.int(inLo, inHi);
    const outputLen = rng.int(outLo, outHi);
    const offset = rng.int(0, o.vocabSize - 1);
    const inner = Array.from({ length: inputLen }, (_, k) => first + ((offset + i + k) % allowed));
    requests.push({ prompt: [...prefix, ...inner], promptLen: prefixLen + inputLen, outputLen });
  }
  return requests;
}
