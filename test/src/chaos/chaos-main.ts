#!/usr/bin/env node
// The chaos suite: `npm run chaos [-- --only NAME[,NAME] --reduced]`. Each scenario starts its own
// cluster on loopback (real Redis, gateway, scheduler, workers on the demo model), applies a bounded
// load and one fault, prints its figures and checks, and stops the cluster. At the end a markdown
// table of every scenario (docs/chaos.md keeps the latest); the exit code is 1 if any check failed.
import os from 'node:os';
import { parseCliArgs } from '@loom/common';
import { formatScenario, markdownTable, type ScenarioResult } from './chaos-report.js';
import { SCENARIOS } from './scenarios.js';

const { values } = parseCliArgs(
  [
    'npm run chaos -- [--only NAME[,NAME]] [--reduced]',
    '',
    'Runs each chaos scenario on its own loopback cluster, prints its figures and checks, then a markdown',
    'table of all of them (docs/chaos.md keeps the latest); exit code 1 if a check failed. --reduced: the',
    `sizes npm test runs. Scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}.`,
  ].join('\n'),
  { options: { only: { type: 'string' }, reduced: { type: 'boolean', default: false } } },
);
const only = values.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown?.length) {
  console.error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const results: ScenarioResult[] = [];
const started = new Date();
for (const s of SCENARIOS) {
  if (only && !only.includes(s.name)) continue;
  console.error(`chaos: ${s.name}...`);
  const r = await (values.reduced ? s.reduced() : s.full());
  results.push(r);
  console.log(formatScenario(r) + '\n');
}
const [l1, l5] = os.loadavg();
console.log(
  `chaos ${values.reduced ? '(reduced) ' : ''}${started.toISOString()}, ${os.cpus().length} x ` +
    `${os.cpus()[0]?.model ?? '?'}, load ${l1!.toFixed(1)} / ${l5!.toFixed(1)} (1 / 5 min)\n`,
);
console.log(markdownTable(results));
process.exit(results.every((r) => r.checks.every((c) => c.ok)) ? 0 : 1);
