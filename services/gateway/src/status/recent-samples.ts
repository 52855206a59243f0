import { at } from '@loom/common';
import type { LatencySummary } from '@loom/common';

/**
 * The most recent observations of one latency, for the status page's percentiles (Prometheus keeps
 * the long-run histograms). A ring of at most `capacity` (time, value) pairs; a summary covers the
 * samples of the last `windowMs` among them, so under heavy load it covers less time than windowMs.
 * Memory is fixed: two Float64Arrays of `capacity`.
 */
export class RecentSamples {
  private readonly at: Float64Array;
  private readonly values: Float64Array;
  private next = 0;
  private size = 0;

  constructor(
    readonly windowMs = 300_000,
    readonly capacity = 4096,
    private readonly now: () => number = Date.now,
  ) {
    this.at = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  observe(value: number): void {
    this.at[this.next] = this.now();
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Nearest-rank percentiles (the smallest sample with at least p% of samples at or below it). */
  summary(): LatencySummary {
    const since = this.now() - this.windowMs;
    const recent: number[] = [];
    for (let i = 0; i < this.size; i++) if (at(this.at, i) >= since) recent.push(at(this.values, i));
    recent.sort((a, b) => a - b);
    const rank = (p: number) => (recent.length ? at(recent, Math.ceil((p / 100) * recent.length) - 1) : null);
    return { count: recent.length, p50: rank(50), p90: rank(90), p99: rank(99) };
  }
}
