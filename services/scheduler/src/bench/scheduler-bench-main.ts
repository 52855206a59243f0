#!/usr/bin/env node
// Scheduler CPU benchmark: `node dist/bench/scheduler-bench-main.js [--steps N] [--warmup N] [--case NAME]`.
// Table on stdout, then one JSON line per case; progress on stderr.
import { parseArgs } from 'node:util';
import { formatTable, jsonLine, runCase, standardCases, type BenchResult } from './scheduler-bench.js';

interface Progress {
  tick(): void;
  done(): void;
}

/** cli-progress when it resolves (it is the worker package's dependency), else a line per 10%. */
async function progress(total: number): Promise<Progress> {
  try {
    const name = 'cli-progress'; // no types shipped: import by a computed name
    const mod = (await import(name)) as { default: { SingleBar: new (o: object, p: object) => any; Presets: { shades_classic: object } } };
    const bar = new mod.default.SingleBar({ stream: process.stderr, noTTYOutput: true, notTTYSchedule: 2000, format: 'scheduler bench [{bar}] {percentage}% | {value}/{total} steps' }, mod.default.Presets.shades_classic);
    bar.start(total, 0);
    return { tick: () => bar.increment(), done: () => bar.stop() };
  } catch {
    let n = 0;
    return {
      tick: () => {
        if (++n % Math.max(1, Math.floor(total / 10)) === 0) process.stderr.write(`scheduler bench: ${n}/${total} steps\n`);
      },
      done: () => undefined,
    };
  }
}

const { values } = parseArgs({
  options: { steps: { type: 'string', default: '2000' }, warmup: { type: 'string', default: '300' }, case: { type: 'string' } },
});
const steps = Number(values.steps);
const warmup = Number(values.warmup);
if (!(steps >= 1 && warmup >= 0)) throw new Error('--steps must be >= 1 and --warmup >= 0');
const cases = standardCases(steps).filter((c) => values.case === undefined || c.name === values.case);
if (cases.length === 0) throw new Error(`no case named ${values.case}`);

const bar = await progress(cases.length * steps);
const results: BenchResult[] = [];
for (const c of cases) results.push(await runCase(c, steps, warmup, () => bar.tick()));
bar.done();
console.log(formatTable(results));
for (const c of cases) if (c.informational !== undefined) console.log(`(no target) ${c.name}: ${c.informational}`);
for (const r of results) console.log(jsonLine(r));
