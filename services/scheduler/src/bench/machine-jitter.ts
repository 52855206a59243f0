import { performance } from 'node:perf_hooks';
import { quantile } from './quantile.js';

export interface Jitter {
  /** Milliseconds of the fixed work per repetition, median and 99th percentile. */
  p50Ms: number;
  p99Ms: number;
}

/** A fixed, allocation-free piece of work (strided reads and float math over one array). */
function work(data: Float64Array, rounds: number): number {
  let acc = 0;
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < data.length; i++) acc += (data[(i * 7919) % data.length] ?? 0) * 1.0000001; // index mod length: in range
  return acc;
}

/**
 * The machine's own speed and timing noise, the control of the scheduler bench: one fixed piece of
 * work (not sized at run time, so a slower machine shows as a slower p50), timed `steps` times like
 * a step. Its p50 moves with the machine's speed (a busy host) and its p99 / p50 is what the
 * machine adds to any step's tail (a VM's steal time, interrupts, frequency changes). On a quiet
 * core of the 2-core dev VM it takes ~0.22 ms at p50, ~0.43 at p99.
 */
export function measureJitter(steps: number): Jitter {
  const data = new Float64Array(20_000).map((_, i) => i);
  const rounds = 6;
  const times = new Float64Array(steps);
  let sink = 0;
  for (let s = -Math.ceil(steps / 10); s < steps; s++) {
    const t0 = performance.now();
    sink += work(data, rounds);
    if (s >= 0) times[s] = performance.now() - t0;
  }
  if (sink === -1) console.log(sink); // keeps the work observable
  times.sort();
  return { p50Ms: quantile(times, 0.5), p99Ms: quantile(times, 0.99) };
}
