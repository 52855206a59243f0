import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { at } from '@loom/common';
import {
  autoscalingQueries,
  dashboardFiles,
  dashboardQueries,
  expandGrafanaVariables,
  promqlSyntaxErrors,
} from '../observability/dashboard-queries.js';
import { typecheckSource } from './typecheck.js';

const typedDashboards = (dashboards: unknown[]) =>
  [
    ...dashboards.map((d, i) => `export const d${i} = ${JSON.stringify(d)} satisfies Dashboard;`),
    "import type { Dashboard } from '@grafana/schema';",
  ].join('\n');

describe('Grafana dashboards', () => {
  const files = dashboardFiles();
  const dashboards = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>);

  test('the three dashboards exist with unique uids', () => {
    assert.deepEqual(
      files.map((f) => path.basename(f)),
      ['loom-overview.json', 'loom-scheduler.json', 'loom-worker.json'],
    );
    assert.equal(new Set(dashboards.map((d) => d.uid)).size, dashboards.length);
  });

  test('each dashboard type-checks as @grafana/schema Dashboard (unknown fields rejected)', () => {
    assert.deepEqual(typecheckSource(typedDashboards(dashboards)), []);
  });

  test('a misspelled panel field or a wrong type fails the type check', () => {
    const broken = structuredClone(at(dashboards, 0)) as { panels: Record<string, unknown>[]; schemaVersion: unknown };
    at(broken.panels, 1).gridpos = at(broken.panels, 1).gridPos;
    const wrongType = structuredClone(at(dashboards, 1)) as { schemaVersion: unknown };
    wrongType.schemaVersion = '39';
    const errors = typecheckSource(typedDashboards([broken, wrongType]));
    assert.ok(
      errors.some((e) => e.startsWith('1:') && e.includes('"gridpos"')),
      errors.join(' | '),
    );
    assert.ok(
      errors.some((e) => e.startsWith('2:') && e.includes("Type 'string' is not assignable to type 'number'")),
      errors.join(' | '),
    );
  });

  test('every panel has a unique id and a grid position; every target is Prometheus with a refId', () => {
    for (const d of dashboards) {
      const panels = d.panels as {
        id: number;
        gridPos?: unknown;
        targets?: { refId?: string; datasource?: { type?: string } }[];
      }[];
      assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, `${d.title}: panel ids`);
      for (const p of panels) {
        assert.ok(p.gridPos, `${d.title}: panel ${p.id} gridPos`);
        for (const t of p.targets ?? []) {
          assert.equal(t.datasource?.type, 'prometheus');
          assert.ok(t.refId);
        }
      }
    }
  });

  test('the overview covers what operators ask for', () => {
    const titles = dashboardQueries()
      .filter((q) => q.dashboard === 'Loom / Cluster overview')
      .map((q) => q.panel);
    for (const want of [
      'Request rate',
      'Time to first token',
      'Inter-token latency',
      'End-to-end latency',
      'Tokens per second',
      'Queue depth',
      'Running requests per worker',
      'KV cache usage per worker',
      'Prefix cache hit rate',
      'Preemptions',
      'Errors by code',
      'Workers',
    ])
      assert.ok(titles.includes(want), `overview lacks "${want}"`);
  });

  test('every panel query and every autoscaling query parses as PromQL (lezer-promql)', () => {
    const queries = dashboardQueries();
    assert.ok(queries.length >= 30, `only ${queries.length} queries`);
    for (const q of queries)
      assert.deepEqual(
        promqlSyntaxErrors(expandGrafanaVariables(q.expr)),
        [],
        `${q.dashboard} / ${q.panel} ${q.refId}: ${q.expr}`,
      );
    for (const q of autoscalingQueries()) assert.deepEqual(promqlSyntaxErrors(q.expr), [], `${q.source}: ${q.expr}`);
  });

  test('the parser check catches a broken query', () => {
    assert.notDeepEqual(promqlSyntaxErrors('sum(rate(loom_requests_finished_total[5m]) by (model)'), []);
    assert.notDeepEqual(
      promqlSyntaxErrors('histogram_quantile(0.9, sum by (le) (rate(x_bucket[$__rate_interval])))'),
      [],
      'unexpanded variable',
    );
  });
});
