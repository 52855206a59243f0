import { at } from '@loom/common';
import type { ClusterStatus } from '@loom/common';
import { MODEL_COLUMNS, SCHEDULER_COLUMNS, WORKER_COLUMNS, clusterView } from '@loom/gateway/ui/cluster-view';

/**
 * `loom status`'s text: the same view as the web page's cluster tab (both come from the gateway's
 * cluster-view module), as summary lines and aligned tables.
 */
export function statusText(status: ClusterStatus, url: string, now = Date.now()): string {
  const view = clusterView(status, now);
  const width = Math.max(...view.summary.map((t) => t.label.length));
  const lines = [
    `Loom cluster at ${url} (${view.gateway})`,
    '',
    ...view.summary.map((t) => `  ${t.label.padEnd(width)}  ${t.value}  (${t.detail})`),
    `  ${''.padEnd(width)}  latencies: ${view.latencyWindow}`,
    '',
    'Workers',
    ...table(
      WORKER_COLUMNS,
      view.workers.map((w) => w.cells),
      'no worker is alive',
    ),
    '',
    'Models and queues',
    ...table(
      MODEL_COLUMNS,
      view.models.map((m) => m.cells),
      'no model is served',
    ),
    '',
    'Schedulers',
    ...table(
      SCHEDULER_COLUMNS,
      view.schedulers.map((s) => s.cells),
      'no scheduler is running',
    ),
  ];
  return lines.join('\n') + '\n';
}

/** Columns padded to their widest cell; numbers (and dashes) right-aligned. */
function table(columns: readonly string[], rows: string[][], empty: string): string[] {
  if (rows.length === 0) return [`  (${empty})`];
  const all = [columns.map((c) => c.toUpperCase()), ...rows];
  const widths = columns.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const numeric = columns.map((_, i) => rows.every((r) => /^[\d,.–]+$/.test(r[i] ?? '')));
  return all.map(
    (r) =>
      '  ' +
      r
        .map((cell, i) => (numeric[i] ? cell.padStart(at(widths, i)) : cell.padEnd(at(widths, i))))
        .join('  ')
        .trimEnd(),
  );
}
