import { performance } from 'node:perf_hooks';

export interface Jitter {
  /** Milliseconds of the fixed work per repetition, median and 99th percentile. */
  p50Ms: number;
  p99Ms: number;
}

/** A fixed, allocation-free piece of work (strided reads and float math over one array). */
function work(data: Float64Array, rounds: number): number {
  let acc = 0;
  for (let r = 0; r < rounds; r++) for (let i = 0; i < data.length; i++) acc += data[(i * 7919) % data.length]! * 1.0000001;
  return acc;
}

/**
 * The machine's own timing noise, the control of the scheduler bench: the same work `steps` times,
 * sized to take about `ms`, timed like a step. Its p99 / p50 is what the machine adds to any
 * step's tail (a VM's steal time, interrupts, frequency changes); on a shared 2-core VM a
 * constant 0.2 ms loop reads ~0.43 ms at p99.
 */
export function measureJitter(steps: number, ms: number): Jitter {
  const data = new Float64Array(20_000).map((_, i) => i);
  // Warm the JIT up, then size the work from the fastest of a few timed runs.
  for (let k = 0; k < 20; k++) work(data, 1);
  let best = Infinity;
  for (let k = 0; k < 9; k++) {
    const t0 = performance.now();
    work(data, 1);
    best = Math.min(best, performance.now() - t0);
  }
  const rounds = Math.max(1, Math.round(ms / best));
  const times = new Float64Array(steps);
  let sink = 0;
  for (let s = -Math.ceil(steps / 10); s < steps; s++) {
    const t0 = performance.now();
    sink += work(data, rounds);
    if (s >= 0) times[s] = performance.now() - t0;
  }
  if (sink === -1) console.log(sink); // keeps the work observable
  times.sort();
  return { p50Ms: times[Math.floor(steps / 2)]!, p99Ms: times[Math.min(steps - 1, Math.floor(steps * 0.99))]! };
}
