#!/usr/bin/env node
// The chaos suite: `npm run chaos [-- --only NAME[,NAME] --reduced]` (`-- --help` says more). Each scenario starts its own
// cluster on loopback (real Redis, gateway, scheduler, workers on the demo model), applies a bounded
// load and one fault, prints its figures and checks, and stops the cluster. At the end a markdown
// table of every scenario (docs/chaos.md keeps the latest); the exit code is 1 if any check failed.
import os from 'node:os';
import { parseCliArgs } from '@loom/common';
import { formatScenario, markdownTable, type ScenarioResult } from './chaos-report.js';
import { SCENARIOS } from './scenarios.js';

const NAMES = SCENARIOS.map((s) => s.name);
const { values, list } = parseCliArgs({
  synopsis: 'npm run chaos -- [options]',
  about:
    'Runs each chaos scenario on its own loopback cluster, prints its figures and checks, then a markdown\n' +
    'table of all of them (docs/chaos.md keeps the latest); exit code 1 if a check failed.',
  options: {
    only: {
      type: 'string',
      value: 'NAMES',
      description: `scenarios to run, comma-separated: ${NAMES.join(', ')} (default: all)`,
    },
    reduced: { type: 'boolean', default: false, description: 'the smaller sizes npm test runs' },
  },
  examples: ['npm run chaos -- --only worker-kill,redis-restart', 'npm run chaos -- --reduced'],
});
const only = values.only === undefined ? undefined : list('only', NAMES);
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
