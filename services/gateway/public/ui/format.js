// Number and time formatting shared by the page and `loom status` (plain ES module: no DOM, no Node).

const DASH = '–';

/** Seconds as a latency: "850 µs", "45 ms", "1.24 s"; null → "–". */
export function latency(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return DASH;
  if (seconds < 0.001) return `${Math.round(seconds * 1e6)} µs`;
  if (seconds < 1) return `${seconds < 0.01 ? (seconds * 1000).toFixed(1) : Math.round(seconds * 1000)} ms`;
  return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
}

/** A span of milliseconds, coarse: "42s", "5m 03s", "2h 10m", "3d 4h". */
export function span(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return DASH;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A ratio 0..1 as a percentage: "37%", "0.4%"; null → "–". */
export function percent(ratio) {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return DASH;
  const p = ratio * 100;
  return `${p > 0 && p < 1 ? p.toFixed(1) : Math.round(p)}%`;
}

/** An integer with thousands separators: "12,345". */
export function count(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : DASH;
}

/** Tokens per second: "212 tok/s", "8.4 tok/s". */
export function rate(tokensPerSecond) {
  if (tokensPerSecond === null || tokensPerSecond === undefined || !Number.isFinite(tokensPerSecond)) return DASH;
  return `${tokensPerSecond < 10 ? tokensPerSecond.toFixed(1) : Math.round(tokensPerSecond)} tok/s`;
}

export { DASH };
