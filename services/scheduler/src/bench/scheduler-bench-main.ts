#!/usr/bin/env node
// Scheduler CPU benchmark: `node dist/bench/scheduler-bench-main.js [--steps N] [--warmup N] [--case NAME]`.
// Table on stdout, then one JSON line per case; progress on stderr.
import cliProgress from 'cli-progress';
import { parseArgs } from 'node:util';
import { measureJitter } from './machine-jitter.js';
import { formatTable, jsonLine, runCase, standardCases, TARGET_MS, type BenchResult } from './scheduler-bench.js';

const HELP = `Usage: npm run bench:scheduler -- [--steps N] [--warmup N] [--case NAME]

CPU time of the scheduler core's schedule() + update() per step with 256 running sequences
(target <= ${TARGET_MS} ms at p50 and p99), for each standard case, then a control: one fixed piece
of work timed the same way, whose p50 shows the machine's speed and p99 / p50 its own jitter.

  --steps N    timed steps per case (default 2000)
  --warmup N   untimed steps first (default 300)
  --case NAME  one case only: decode-256, mixed-prefill-decode, prefix-heavy-admissions,
               prefix-heavy-unhashed
  --help       this text
`;

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

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '300' },
    case: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const steps = Number(values.steps);
const warmup = Number(values.warmup);
if (!(steps >= 1 && warmup >= 0)) throw new Error('--steps must be >= 1 and --warmup >= 0');
const cases = standardCases(steps).filter((c) => values.case === undefined || c.name === values.case);
if (cases.length === 0) throw new Error(`no case named ${values.case}`);

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
