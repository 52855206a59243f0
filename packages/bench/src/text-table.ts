import { spread } from './stats.js';
import { at } from '@loom/common';

/** Rows under a header as aligned text: the first `leftColumns` columns left-aligned, the rest right. */
export function textTable(head: string[], rows: string[][], leftColumns = 1): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < leftColumns ? c.padEnd(at(widths, i)) : c.padStart(at(widths, i)))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Repeated measurements as "median (min-max)", or the one value; scaled (100: a share in %) first. */
export function medianRange(xs: readonly number[], digits: number, scale = 1): string {
  const s = spread(xs.map((x) => x * scale));
  const f = (v: number) => v.toFixed(digits);
  return xs.length === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}-${f(s.max)})`;
}
