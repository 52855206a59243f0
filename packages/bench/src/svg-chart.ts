import { at } from '@loom/common';
/**
 * Inline SVG charts for the HTML report: no script, no external file, so the report opens anywhere
 * and can be attached to an issue as is. Coordinates are in the SVG's own units (W × H).
 */
const W = 560;
const H = 240;
const M = { left: 56, right: 16, top: 28, bottom: 40 };

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** A round step for axis ticks near range / 5. */
function niceStep(range: number): number {
  if (!(range > 0)) return 1;
  const raw = range / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * pow;
}

/** A tick label with as many decimals as the step needs (step 0.5: one; step 20: none). */
const tick = (v: number, step: number) => v.toFixed(Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9))));
/** A value label: three significant digits at most, no exponent. */
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(3));

interface Axes {
  x: (v: number) => number;
  y: (v: number) => number;
  svg: string[];
}

function axes(title: string, xLabel: string, yLabel: string, xMax: number, yMax: number, xMin = 0): Axes {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const xSpan = xMax - xMin || 1;
  const yTop = yMax > 0 ? yMax * 1.05 : 1;
  const x = (v: number) => M.left + ((v - xMin) / xSpan) * pw;
  const y = (v: number) => M.top + ph - (v / yTop) * ph;
  const svg = [
    `<text x="${W / 2}" y="16" text-anchor="middle" class="t">${escapeHtml(title)}</text>`,
    `<line x1="${M.left}" y1="${M.top + ph}" x2="${M.left + pw}" y2="${M.top + ph}" class="ax"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" class="ax"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 6}" text-anchor="middle" class="l">${escapeHtml(xLabel)}</text>`,
    `<text x="12" y="${M.top + ph / 2}" text-anchor="middle" class="l" transform="rotate(-90 12 ${M.top + ph / 2})">${escapeHtml(yLabel)}</text>`,
  ];
  const xs = niceStep(xSpan);
  for (let v = Math.ceil(xMin / xs) * xs; v <= xMax + 1e-9; v += xs)
    svg.push(
      `<text x="${x(v).toFixed(1)}" y="${M.top + ph + 14}" text-anchor="middle" class="k">${tick(v, xs)}</text>`,
    );
  const ys = niceStep(yTop);
  for (let v = 0; v <= yTop + 1e-9; v += ys)
    svg.push(
      `<line x1="${M.left}" y1="${y(v).toFixed(1)}" x2="${M.left + pw}" y2="${y(v).toFixed(1)}" class="g"/>`,
      `<text x="${M.left - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="k">${tick(v, ys)}</text>`,
    );
  return { x, y, svg };
}

const wrap = (parts: string[]) =>
  `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;

/** A line over (x, y) points, e.g. throughput over time. */
export function lineChart(title: string, xLabel: string, yLabel: string, xs: number[], ys: number[]): string {
  if (xs.length === 0)
    return wrap([`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">${escapeHtml(title)}: no data</text>`]);
  const a = axes(title, xLabel, yLabel, Math.max(...xs), Math.max(...ys));
  const pts = xs.map((x, i) => `${a.x(x).toFixed(1)},${a.y(at(ys, i)).toFixed(1)}`).join(' ');
  return wrap([...a.svg, `<polyline points="${pts}" class="p"/>`]);
}

/** A histogram of `values` (30 bins up to the 99.5th percentile, the tail folded into the last), with p50 and p99 marked. */
export function histogram(title: string, xLabel: string, values: number[], yLabel = 'requests'): string {
  if (values.length === 0)
    return wrap([`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">${escapeHtml(title)}: no data</text>`]);
  const sorted = [...values].sort((p, q) => p - q);
  const quantile = (q: number) => at(sorted, Math.min(sorted.length - 1, Math.floor(q * sorted.length)));
  const lo = at(sorted, 0);
  const hi = Math.max(quantile(0.995), lo + 1e-9);
  const bins = 30;
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of sorted) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)));
    counts[b] = at(counts, b) + 1;
  }
  const a = axes(title, xLabel, yLabel, hi, Math.max(...counts), lo);
  const parts = [...a.svg];
  counts.forEach((c, i) => {
    const x0 = a.x(lo + i * width);
    const x1 = a.x(lo + (i + 1) * width);
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${a.y(c).toFixed(1)}" width="${Math.max(0.5, x1 - x0 - 1).toFixed(1)}" ` +
        `height="${(a.y(0) - a.y(c)).toFixed(1)}" class="b"/>`,
    );
  });
  for (const [q, name] of [
    [0.5, 'p50'],
    [0.99, 'p99'],
  ] as const) {
    const v = Math.min(quantile(q), hi);
    // Labels near the right edge go left of their line.
    const right = a.x(v) > W - M.right - 80;
    parts.push(
      `<line x1="${a.x(v).toFixed(1)}" y1="${M.top}" x2="${a.x(v).toFixed(1)}" y2="${a.y(0).toFixed(1)}" class="m"/>`,
      `<text x="${(a.x(v) + (right ? -3 : 3)).toFixed(1)}" y="${M.top + (name === 'p50' ? 10 : 22)}" ` +
        `text-anchor="${right ? 'end' : 'start'}" class="k">${name} ${fmt(quantile(q))}</text>`,
    );
  }
  return wrap(parts);
}

/** The CSS the charts' classes need. */
export const CHART_CSS = `svg{background:#fff;border:1px solid #ddd;margin:6px}
svg .t{font:600 13px sans-serif} svg .l{font:11px sans-serif;fill:#444} svg .k{font:10px sans-serif;fill:#555}
svg .ax{stroke:#333} svg .g{stroke:#eee} svg .p{fill:none;stroke:#2b6cb0;stroke-width:1.5}
svg .b{fill:#63b3ed} svg .m{stroke:#c53030;stroke-dasharray:3 3}`;
