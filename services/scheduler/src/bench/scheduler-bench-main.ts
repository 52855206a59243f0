#!/usr/bin/env node
// Scheduler CPU benchmark: `npm run bench:scheduler [-- --steps N --warmup N --case NAME]` (`-- --help` says more).
// Table on stdout, then one JSON line per case; progress on stderr.
import cliProgress from 'cli-progress';
import { parseCliArgs } from '@loom/common';
import { measureJitter } from './machine-jitter.js';
import { formatTable, jsonLine, runCase, standardCases, TARGET_MS, type BenchResult } from './scheduler-bench.js';

interface Progress {
  tick(): void;
  done(): void;
}

/** A step bar on stderr (a line every 2 s when it is not a terminal). */
function progress(total: number): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      format: 'scheduler bench [{bar}] {percentage}% | {value}/{total} steps',
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { tick: () => bar.increment(), done: () => bar.stop() };
}

const CASES = standardCases(1).map((c) => c.name);
const { values, list, int } = parseCliArgs({
  synopsis: 'npm run bench:scheduler -- [options]',
  about:
    "CPU time of the scheduler core's schedule() + update() per step with 256 running sequences\n" +
    `(target <= ${TARGET_MS} ms at p50 and p99), for each standard case, then a control: one fixed piece\n` +
    "of work timed the same way, whose p50 shows the machine's speed and p99 / p50 its own jitter.",
  options: {
    steps: { type: 'string', default: '2000', value: 'N', description: 'timed steps per case' },
    warmup: { type: 'string', default: '300', value: 'N', description: 'untimed steps first' },
    case: {
      type: 'string',
      value: 'NAMES',
      description: `cases to run, comma-separated: ${CASES.join(', ')} (default: all)`,
    },
  },
  examples: ['npm run bench:scheduler -- --case decode-256 --steps 5000'],
});
const steps = int('steps', 1);
const warmup = int('warmup', 0);
const only = values.case === undefined ? undefined : list('case', CASES);
const cases = standardCases(steps).filter((c) => only === undefined || only.includes(c.name));

const bar = progress(cases.length * steps);
const results: BenchResult[] = [];
for (const c of cases) results.push(await runCase(c, steps, warmup, () => bar.tick()));
bar.done();
console.log(formatTable(results));
for (const c of cases) if (c.informational !== undefined) console.log(`(no target) ${c.name}: ${c.informational}`);
const jitter = measureJitter(steps);
console.log(
  `machine control: fixed work p50 ${jitter.p50Ms.toFixed(3)} ms, p99 ${jitter.p99Ms.toFixed(3)} ms (${(jitter.p99Ms / jitter.p50Ms).toFixed(2)}x)`,
);
for (const r of results) console.log(jsonLine(r));
const round = (v: number) => Math.round(v * 10_000) / 10_000;
console.log(
  JSON.stringify({
    bench: 'scheduler',
    case: 'machine-control',
    p50_ms: round(jitter.p50Ms),
    p99_ms: round(jitter.p99Ms),
    p99_over_p50: round(jitter.p99Ms / jitter.p50Ms),
  }),
);
