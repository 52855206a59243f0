import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { ALERTS_FILE, ALERT_TESTS_FILE } from './deploy-paths.js';
import { requireBinary, run } from './promtool.js';

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface PrometheusRule {
  kind: string;
  spec: { groups: { name: string; rules: Rule[] }[] };
}

/** The PrometheusRule's groups as a plain Prometheus rules file, next to a copy of the promtool tests. */
function writeRulesAndTests(dir: string, rule: PrometheusRule): { rules: string; tests: string } {
  const rules = path.join(dir, 'loom-alerts.rules.yaml');
  writeFileSync(rules, stringify({ groups: rule.spec.groups }));
  const tests = path.join(dir, 'loom-alerts.test.yaml');
  copyFileSync(ALERT_TESTS_FILE(), tests);
  return { rules, tests };
}

describe('PrometheusRule alerts', () => {
  // Looked up in each test, not in a hook: a hook's failure only cancels tests, a test's fails them.
  const promtool = () => requireBinary('promtool');
  let dir: string;
  const rule = parseYaml(readFileSync(ALERTS_FILE(), 'utf8')) as PrometheusRule;
  const alerts = rule.spec.groups.flatMap((g) => g.rules);

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'loom-alerts-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the alerts the issue asks for exist, each with a severity, a summary and a commented threshold', () => {
    const names = alerts.map((r) => r.alert);
    for (const want of [
      'LoomQueueWaitHigh',
      'LoomKvCacheSaturated',
      'LoomWorkerDown',
      'LoomErrorRatioHigh',
      'LoomNoSchedulerLeader',
      'LoomSchedulerFlapping',
    ])
      assert.ok(names.includes(want), `missing ${want}`);
    const text = readFileSync(ALERTS_FILE(), 'utf8');
    for (const r of alerts) {
      assert.ok(r.labels?.severity, `${r.alert} severity`);
      assert.ok(r.annotations?.summary, `${r.alert} summary`);
      // The comment that explains the threshold sits right above `expr`, under `- alert:`.
      const block = text
        .slice(text.indexOf(`- alert: ${r.alert}\n`))
        .split('\n')
        .slice(1, 4)
        .join('\n');
      assert.match(block, /^\s+# /m, `${r.alert}: no comment explaining its threshold`);
    }
  });

  test('promtool check rules accepts the rules', () => {
    const { rules } = writeRulesAndTests(dir, rule);
    const r = run(promtool(), ['check', 'rules', rules]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${alerts.length} rules found`));
  });

  test('promtool test rules: every alert fires when it should and not on the near misses', () => {
    const { tests } = writeRulesAndTests(dir, rule);
    const tested = new Set<string | undefined>(
      [...readFileSync(tests, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]),
    );
    for (const r of alerts) assert.ok(tested.has(r.alert), `${r.alert} has no promtool test`);
    const r = run(promtool(), ['test', 'rules', tests]);
    assert.equal(r.status, 0, r.out);
  });

  test('the promtool tests catch a changed threshold', () => {
    const broken = structuredClone(rule);
    const kv = broken.spec.groups.flatMap((g) => g.rules).find((r) => r.alert === 'LoomKvCacheSaturated')!;
    kv.expr = kv.expr.replace('> 0.95', '> 0.995');
    const { tests } = writeRulesAndTests(dir, broken);
    const r = run(promtool(), ['test', 'rules', tests]);
    assert.notEqual(r.status, 0, 'a weakened KV threshold still passed');
    assert.match(r.out, /LoomKvCacheSaturated/);
  });
});
