import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { ADAPTER_RULES, DASHBOARDS_DIR, KEDA_SCALED_OBJECT } from '../deploy/deploy-paths.js';

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  refId: string;
  /** The PromQL as written in the dashboard, Grafana variables included. */
  expr: string;
}

interface PanelJson {
  title?: string;
  type: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: PanelJson[];
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARDS_DIR())
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(DASHBOARDS_DIR(), f));
}

/** Every PromQL target of every panel (rows' nested panels included) of every dashboard. */
export function dashboardQueries(): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const file of dashboardFiles()) {
    const dash = JSON.parse(readFileSync(file, 'utf8')) as { title: string; panels: PanelJson[] };
    const walk = (panels: PanelJson[]) => {
      for (const p of panels) {
        for (const t of p.targets ?? [])
          out.push({
            dashboard: dash.title,
            panel: p.title ?? '(untitled)',
            refId: t.refId ?? '?',
            expr: t.expr ?? '',
          });
        walk(p.panels ?? []);
      }
    };
    walk(dash.panels);
  }
  return out;
}

/**
 * Grafana's variables as Grafana would fill them for "All": interval variables become a window
 * (`rateWindow`), every other variable the "match anything" regex of its All option.
 */
export function expandGrafanaVariables(expr: string, rateWindow = '5m'): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (_m, name: string) =>
    ['__rate_interval', '__interval', '__range'].includes(name) ? rateWindow : '.*',
  );
}

/** Syntax errors lezer-promql finds, as "at N: …" strings (empty = parses). */
export function promqlSyntaxErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (n) => {
      if (n.type.isError)
        errors.push(`at ${n.from}: ${JSON.stringify(expr.slice(Math.max(0, n.from - 20), n.to + 20))}`);
    },
  });
  return errors;
}

export interface AutoscalingQuery {
  source: string;
  expr: string;
}

/**
 * The queries autoscaling runs: each KEDA prometheus trigger's `query`, and each
 * prometheus-adapter external rule's seriesQuery and metricsQuery, the latter filled in the way the
 * adapter fills its template for a namespace-scoped external metric.
 */
export function autoscalingQueries(namespace = 'loom'): AutoscalingQuery[] {
  const so = parseYaml(readFileSync(KEDA_SCALED_OBJECT(), 'utf8')) as {
    spec: { triggers: { type: string; name: string; metadata: { query: string } }[] };
  };
  const out: AutoscalingQuery[] = so.spec.triggers
    .filter((t) => t.type === 'prometheus')
    .map((t) => ({ source: `KEDA trigger ${t.name}`, expr: t.metadata.query.trim() }));
  const rules = parseYaml(readFileSync(ADAPTER_RULES(), 'utf8')) as {
    externalRules: { seriesQuery: string; name: { as: string }; metricsQuery: string }[];
  };
  for (const r of rules.externalRules) {
    out.push({ source: `adapter ${r.name.as} seriesQuery`, expr: r.seriesQuery });
    out.push({
      source: `adapter ${r.name.as} metricsQuery`,
      expr: r.metricsQuery
        .replaceAll('<<.GroupBy>>', 'namespace')
        .replaceAll('<<.LabelMatchers>>', `namespace="${namespace}"`)
        .trim(),
    });
  }
  return out;
}
