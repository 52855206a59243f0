import { textTable } from './text-table.js';

/** One compared figure: both values and B / A. */
export interface ComparedField {
  field: string;
  a: number;
  b: number;
  /** b / a; NaN when a is 0. */
  ratio: number;
  /** Whether a larger value is better (throughput) or worse (latency, failures); undefined if neither. */
  higherIsBetter: boolean | undefined;
}

/** Figures compared, in this order, when both files have them; other shared numeric fields follow. */
const ORDER = [
  'completed',
  'failed',
  'duration',
  'request_throughput',
  'request_goodput',
  'output_throughput',
  'total_token_throughput',
  'max_output_tokens_per_s',
  'max_concurrent_requests',
];
/** Settings and bookkeeping, not figures. */
const SKIP = new Set(['num_prompts', 'burstiness', 'max_concurrency', 'request_rate', 'seed', 'num_warmups']);

function direction(field: string): boolean | undefined {
  if (/throughput|goodput|tokens_per_s|^completed$/.test(field)) return true;
  if (/_ms$|^failed$/.test(field)) return false;
  return undefined;
}

/** Every numeric figure two result files share, B against A (`loom bench compare A.json B.json`). */
export function compareResults(a: Record<string, unknown>, b: Record<string, unknown>): ComparedField[] {
  const numeric = (k: string) => typeof a[k] === 'number' && typeof b[k] === 'number' && !SKIP.has(k);
  const rest = Object.keys(a).filter((k) => !ORDER.includes(k) && numeric(k));
  return [...ORDER.filter(numeric), ...rest].map((field) => {
    const x = a[field] as number;
    const y = b[field] as number;
    return { field, a: x, b: y, ratio: x === 0 ? NaN : y / x, higherIsBetter: direction(field) };
  });
}

/** The comparison as a text table; "better" marks the side that wins each figure with a direction. */
export function formatComparison(rows: ComparedField[], nameA: string, nameB: string): string {
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
  const table = rows.map((r) => {
    const better = r.higherIsBetter === undefined || r.a === r.b ? '' : r.b > r.a === r.higherIsBetter ? 'B' : 'A';
    return [r.field, fmt(r.a), fmt(r.b), Number.isNaN(r.ratio) ? '-' : `${r.ratio.toFixed(3)}x`, better];
  });
  return [`A: ${nameA}`, `B: ${nameB}`, textTable(['figure', 'A', 'B', 'B / A', 'better'], table)].join('\n');
}
