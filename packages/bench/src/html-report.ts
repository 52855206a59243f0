import type { RequestOutput } from './bench-request.js';
import type { BenchResult } from './bench-result.js';
import type { TimeSeries } from './metrics.js';
import { CHART_CSS, escapeHtml, histogram, lineChart } from './svg-chart.js';

/** Figures shown in the report's summary table, in order: [field, label]. */
const SUMMARY: [string, string][] = [
  ['completed', 'Successful requests'],
  ['failed', 'Failed requests'],
  ['duration', 'Duration (s)'],
  ['request_throughput', 'Request throughput (req/s)'],
  ['request_goodput', 'Request goodput (req/s)'],
  ['output_throughput', 'Output token throughput (tok/s)'],
  ['total_token_throughput', 'Total token throughput (tok/s)'],
  ['max_output_tokens_per_s', 'Peak output throughput (tok/s)'],
  ['max_concurrent_requests', 'Peak concurrent requests'],
];

const cell = (v: unknown) =>
  typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : escapeHtml(v === null ? '-' : String(v));

/**
 * One self-contained HTML page for a run: configuration, summary, the latency table (mean, median,
 * percentiles), latency histograms (TTFT, TPOT, ITL, E2E) and throughput and running requests over
 * time, as inline SVG. No script and nothing fetched.
 */
export function htmlReport(
  r: BenchResult,
  outputs: readonly RequestOutput[],
  series: TimeSeries,
  percentiles: readonly number[],
): string {
  const ok = outputs.filter((o) => o.success);
  const ms = (xs: number[]) => xs.map((x) => x * 1000);
  const tpots = ok.filter((o) => o.outputTokens > 1).map((o) => (o.latency - o.ttft) / (o.outputTokens - 1));
  const config = [
    'label',
    'backend',
    'base_url',
    'model_id',
    'dataset_name',
    'num_prompts',
    'request_rate',
    'burstiness',
    'max_concurrency',
    'ignore_eos',
    'seed',
    'num_warmups',
    'date',
  ]
    .map((k) => `<tr><th>${k}</th><td>${cell(r[k])}</td></tr>`)
    .join('');
  const summary = SUMMARY.map(([k, label]) => `<tr><th>${label}</th><td>${cell(r[k])}</td></tr>`).join('');
  const names: [string, string][] = [
    ['ttft', 'TTFT'],
    ['tpot', 'TPOT'],
    ['itl', 'ITL'],
    ['e2el', 'E2E latency'],
  ];
  const latencyHead = ['metric (ms)', 'mean', 'median', 'std', ...percentiles.map((p) => `p${p}`)]
    .map((h) => `<th>${h}</th>`)
    .join('');
  const latencyRows = names
    .map(
      ([k, label]) =>
        `<tr><th>${label}</th>${[
          `mean_${k}_ms`,
          `median_${k}_ms`,
          `std_${k}_ms`,
          ...percentiles.map((p) => `p${p}_${k}_ms`),
        ]
          .map((f) => `<td>${cell(r[f])}</td>`)
          .join('')}</tr>`,
    )
    .join('');
  const failures = Object.entries((r.failure_reasons as Record<string, number> | undefined) ?? {})
    .map(([why, n]) => `<tr><td>${n}</td><td>${escapeHtml(why.slice(0, 300))}</td></tr>`)
    .join('');
  const title = `loom bench: ${String(r.model_id)} @ ${String(r.base_url)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px sans-serif;margin:24px;color:#222} table{border-collapse:collapse;margin:8px 0 16px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right} th{background:#f6f6f6;text-align:left}
h1{font-size:20px} h2{font-size:16px;margin-top:24px} .row{display:flex;flex-wrap:wrap}
${CHART_CSS}</style></head><body>
<h1>${escapeHtml(title)}</h1>
<div class="row"><div><h2>Run</h2><table>${config}</table></div>
<div style="margin-left:32px"><h2>Summary</h2><table>${summary}</table></div></div>
<h2>Latency</h2><table><tr>${latencyHead}</tr>${latencyRows}</table>
${failures ? `<h2>Failures</h2><table><tr><th>count</th><th>reason</th></tr>${failures}</table>` : ''}
<h2>Latency distributions</h2><div class="row">
${histogram('Time to first token', 'ms', ms(ok.map((o) => o.ttft)))}
${histogram('Time per output token (excl. first)', 'ms', ms(tpots))}
${histogram('Inter-token latency', 'ms', ms(ok.flatMap((o) => o.itl)), 'gaps')}
${histogram('End-to-end latency', 'ms', ms(ok.map((o) => o.latency)))}
</div>
<h2>Over time (buckets of ${series.bucketSeconds} s)</h2><div class="row">
${lineChart('Output throughput', 's', 'tok/s', series.t, series.outputTokensPerS)}
${lineChart('Running requests', 's', 'requests', series.t, series.running)}
</div>
</body></html>
`;
}
