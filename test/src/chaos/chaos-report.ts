/** One figure a scenario measured: a label, its value, its unit ('' for counts). */
export type Figure = [label: string, value: number | string, unit: string];

/** One pass/fail statement about the figures (e.g. "lost = 0"), with what was seen. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** What one chaos scenario reports: its figures, the checks against the issue's numbers, and how long it took. */
export interface ScenarioResult {
  scenario: string;
  /** The load and the fault, in a line. */
  setup: string;
  figures: Figure[];
  checks: Check[];
  seconds: number;
}

export const check = (name: string, ok: boolean, detail: string): Check => ({ name, ok, detail });

/** `name = 0` over a count. */
export const zero = (name: string, n: number): Check => check(`${name} = 0`, n === 0, String(n));

/** `name < limit unit` over a measurement. */
export const below = (name: string, v: number, limit: number, unit: string): Check =>
  check(`${name} < ${limit} ${unit}`.trim(), v < limit, `${fmt(v)} ${unit}`.trim());

export function fmt(v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** A scenario's figures and checks as text, for the console. */
export function formatScenario(r: ScenarioResult): string {
  const lines = [`== ${r.scenario} (${r.seconds.toFixed(0)} s): ${r.setup}`];
  for (const [label, v, unit] of r.figures) lines.push(`   ${label.padEnd(44)} ${fmt(v)}${unit ? ` ${unit}` : ''}`);
  for (const c of r.checks) lines.push(`   ${c.ok ? 'ok  ' : 'FAIL'} ${c.name} (${c.detail})`);
  return lines.join('\n');
}

/** Every scenario as one markdown table (docs/chaos.md keeps the latest). */
export function markdownTable(results: ScenarioResult[]): string {
  const rows = results.map((r) => {
    const figs = r.figures.map(([l, v, u]) => `${l}: ${fmt(v)}${u ? ` ${u}` : ''}`).join('; ');
    const verdict = r.checks.every((c) => c.ok)
      ? 'pass'
      : `**FAIL**: ${r.checks
          .filter((c) => !c.ok)
          .map((c) => c.name)
          .join(', ')}`;
    return `| ${r.scenario} | ${r.setup} | ${figs} | ${verdict} |`;
  });
  return ['| scenario | load and fault | figures | checks |', '|---|---|---|---|', ...rows].join('\n');
}

/** For tests: fails with every failed check and the figures when a scenario did not pass. */
export function assertPassed(r: ScenarioResult): void {
  const failed = r.checks.filter((c) => !c.ok);
  if (failed.length)
    throw new Error(`${r.scenario}: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}\n${formatScenario(r)}`);
}
