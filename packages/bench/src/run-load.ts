import { arrivalTimes } from './arrivals.js';
import type { BenchRequest, RequestOutput } from './bench-request.js';
import type { SendOptions } from './openai-endpoint.js';
import { Rng } from './random-variates.js';
import { at } from '@loom/common';

/** What serves the requests: an OpenAIEndpoint, or anything else that streams one request and times it. */
export interface BenchTarget {
  send(req: BenchRequest, o: SendOptions): Promise<RequestOutput>;
}

export interface LoadOptions extends Omit<SendOptions, 'signal' | 'onOutput'> {
  endpoint: BenchTarget;
  requests: BenchRequest[];
  /** Requests per second; Infinity (the default) sends all at once. */
  requestRate?: number;
  /** Gamma shape of the gaps; 1 (the default) is a Poisson process. */
  burstiness?: number;
  /** At most this many requests in flight; the rest wait for a slot (their wait is clientQueueTime). */
  maxConcurrency?: number;
  /** Seeds the arrival times. */
  seed?: number;
  /** Requests not yet sent after this many ms are dropped (not counted); in-flight ones run on. */
  maxDurationMs?: number;
  /** Each request is aborted after this many ms (a failure). */
  requestTimeoutMs?: number;
  /** Called once per request when it ends. */
  onDone?: (out: RequestOutput, index: number) => void;
  onOutput?: (out: RequestOutput, index: number) => void;
  /** Aborts every request still running or waiting. */
  signal?: AbortSignal;
}

export interface LoadResult {
  /** The requests that were sent, and what came back for each (same order). */
  requests: BenchRequest[];
  outputs: RequestOutput[];
  /** Seconds from the first arrival to the last request's end (vLLM's benchmark_duration). */
  duration: number;
  /** Wall-clock ms (Date.now()) at the start, for reports. */
  startedAt: number;
}

/** A counting semaphore; waiters are served in arrival order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Sends `requests` as `vllm bench serve` does: each at its arrival time, then (with maxConcurrency)
 * through a semaphore, and waits for all of them.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const times = arrivalTimes(o.requests.length, o.requestRate ?? Infinity, o.burstiness ?? 1, new Rng(o.seed ?? 0));
  const slots = o.maxConcurrency ? new Slots(o.maxConcurrency) : undefined;
  const startedAt = Date.now();
  const t0 = performance.now();
  const deadline = o.maxDurationMs === undefined ? Infinity : t0 + o.maxDurationMs;
  const one = async (req: BenchRequest, index: number): Promise<RequestOutput | undefined> => {
    const arrival = performance.now();
    await slots?.take();
    try {
      if (performance.now() >= deadline || o.signal?.aborted) return undefined;
      const signals = [o.signal, o.requestTimeoutMs ? AbortSignal.timeout(o.requestTimeoutMs) : undefined].filter(
        (s): s is AbortSignal => s !== undefined,
      );
      const out = await o.endpoint.send(req, {
        model: o.model,
        ...(o.ignoreEos ? { ignoreEos: true } : {}),
        ...(o.extraBody ? { extraBody: o.extraBody } : {}),
        ...(signals.length ? { signal: AbortSignal.any(signals) } : {}),
        ...(o.onOutput ? { onOutput: (x: RequestOutput) => o.onOutput!(x, index) } : {}),
      });
      out.clientQueueTime = out.startTime - arrival / 1000;
      o.onDone?.(out, index);
      return out;
    } finally {
      slots?.give();
    }
  };
  const pending: Promise<RequestOutput | undefined>[] = [];
  for (let i = 0; i < o.requests.length; i++) {
    const wait = t0 + at(times, i) * 1000 - performance.now();
    if (wait > 0) await sleep(wait);
    if (performance.now() >= deadline || o.signal?.aborted) break;
    pending.push(one(at(o.requests, i), i));
  }
  const outs = await Promise.all(pending);
  const duration = (performance.now() - t0) / 1000;
  const requests: BenchRequest[] = [];
  const outputs: RequestOutput[] = [];
  outs.forEach((out, i) => {
    if (!out) return;
    requests.push(at(o.requests, i));
    outputs.push(out);
  });
  return { requests, outputs, duration, startedAt };
}

/** `n` copies of the first request, at most `maxConcurrency` at a time, untimed (vLLM's --num-warmups). */
export async function warmUp(o: LoadOptions, n: number): Promise<RequestOutput[]> {
  if (n <= 0 || o.requests.length === 0) return [];
  const first = at(o.requests, 0);
  const r = await runLoad({
    ...o,
    requests: Array.from({ length: n }, () => first),
    requestRate: Infinity,
    onDone: undefined,
    onOutput: undefined,
  });
  return r.outputs;
}
