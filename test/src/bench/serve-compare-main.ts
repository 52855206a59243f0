#!/usr/bin/env node
// The serving comparisons, each from one run: `npm run bench:serve [-- flags]`.
//   loom       : the cluster (Redis, gateway, scheduler, 1 worker) on loopback, driven over HTTP
//   llama      : llama-server (scripts/build-llama-peer.sh), same model, same threads, over HTTP
//   in-process : the same engine and scheduler core stepped in this process (no HTTP, Redis, gRPC)
// on the same workloads (`random`: fixed-length prompts; `shared-prefix`: tenants' long system
// prompts), `--concurrency` streams at a time, greedy, EOS ignored. Systems run interleaved, their
// order rotating per round, a fresh server each time; per system the median and range over rounds,
// and the ratios (loom / llama: throughput and TTFT; loom against in-process: the control plane's
// cost). For loom, the CPU time of gateway, scheduler and Redis per 1,000 generated tokens.
// Table, then one JSON line, on stdout; progress on stderr.
//
// Flags: `npm run bench:serve -- --help`.
import os from 'node:os';
import path from 'node:path';
import { at, entry, parseCliArgs } from '@loom/common';
import {
  medianRange,
  textTable,
  calculateMetrics,
  randomDataset,
  runLoad,
  sharedPrefixDataset,
  spread,
  type BenchRequest,
  type BenchmarkMetrics,
} from '@loom/bench';
import { formatControlPlaneCost, type ControlPlaneCost } from './control-plane-meter.js';
import { startServeSystem, type ServeSystemSetup } from './serve-system.js';
import { SYNTH_MODEL_OPTIONS, synthModel } from './synth-model.js';

const {
  values,
  list,
  int: n,
} = parseCliArgs({
  synopsis: 'npm run bench:serve -- [options]',
  about:
    'The whole cluster against llama-server and the in-process engine on the same workloads, rounds\n' +
    'interleaved: output tok/s, TTFT and the control plane CPU per 1,000 tokens (docs/benchmarks.md).',
  options: {
    ...SYNTH_MODEL_OPTIONS,
    'vocab-size': {
      type: 'string',
      default: '32000',
      value: 'N',
      description: "the model's vocabulary size (random prompt token ids)",
    },
    systems: {
      type: 'string',
      default: 'loom,llama,in-process',
      value: 'LIST',
      description: 'systems to run: loom, llama, in-process',
    },
    workloads: {
      type: 'string',
      default: 'random,shared-prefix',
      value: 'LIST',
      description: 'workloads to run: random, shared-prefix',
    },
    rounds: { type: 'string', default: '3', value: 'N', description: 'timed rounds per system and workload' },
    'num-prompts': { type: 'string', default: '256', value: 'N', description: 'requests per timed run' },
    concurrency: { type: 'string', default: '64', value: 'N', description: 'streams in flight at a time' },
    'input-len': { type: 'string', default: '128', value: 'N', description: 'prompt tokens of the random workload' },
    'output-len': {
      type: 'string',
      default: '128',
      value: 'N',
      description: 'tokens generated per request (EOS ignored)',
    },
    prefixes: {
      type: 'string',
      default: '8',
      value: 'N',
      description: 'distinct system prompts of the shared-prefix workload',
    },
    'prefix-len': { type: 'string', default: '512', value: 'N', description: 'tokens of each shared system prompt' },
    'question-len': {
      type: 'string',
      default: '32',
      value: 'N',
      description: "tokens of each shared-prefix request's own question",
    },
    threads: { type: 'string', default: '2', value: 'N', description: 'CPU threads of each system' },
    'node-args': {
      type: 'string',
      value: 'ARGS',
      description:
        "Node flags of the cluster's gateway and scheduler, e.g. '--cpu-prof --cpu-prof-dir=DIR' (profiling, not figures)",
    },
  },
  examples: [
    'npm run bench:serve -- --systems loom,llama --workloads random --rounds 5',
    "npm run bench:serve -- --systems loom --node-args='--cpu-prof --cpu-prof-dir=/tmp/prof'",
  ],
});
const model = values.model ?? synthModel(values.synth!, values.dtype!);
const SYSTEMS = list('systems', ['loom', 'llama', 'in-process']);
const WORKLOADS = list('workloads', ['random', 'shared-prefix']);
const concurrency = n('concurrency');
/** Untimed bursts of `concurrency` requests before each timed run, and their output length (see there). */
const WARMUP_BURSTS = 2;
const WARMUP_OUTPUT_LEN = 64;
const vocabSize = n('vocab-size');

/**
 * The workloads' requests; `seedOffset` 0 for the timed runs, another for the warm-up, so the timed
 * prompts are not in any prefix cache when they arrive (the same prompts warmed up would make the
 * burst's first tokens 1-token prefills of cached prompts).
 */
const makeWorkloads = (seedOffset: number): Record<string, BenchRequest[]> => ({
  random: randomDataset({
    numPrompts: n('num-prompts'),
    inputLen: n('input-len'),
    outputLen: n('output-len'),
    vocabSize,
    seed: 1 + seedOffset,
  }),
  'shared-prefix': sharedPrefixDataset({
    numPrompts: n('num-prompts'),
    numPrefixes: n('prefixes'),
    prefixLen: n('prefix-len'),
    questionLen: n('question-len'),
    outputLen: n('output-len'),
    vocabSize,
    seed: 2 + seedOffset,
  }),
});
const workloads = makeWorkloads(0);
const warmups = makeWorkloads(1000);
/** Tokens one sequence needs at most, and KV blocks (16 tokens) for `concurrency` of them, twice over. */
const seqTokens = Math.max(n('input-len'), n('prefix-len') + n('question-len')) + n('output-len');
const numBlocks = 2 * concurrency * Math.ceil(seqTokens / 16);

interface Run {
  system: string;
  workload: string;
  round: number;
  m: BenchmarkMetrics;
  /** Loom only: CPU seconds of gateway, scheduler and Redis, and Redis's commands, per 1,000 generated tokens. */
  control?: ControlPlaneCost;
}

const SYSTEM_SETUP: ServeSystemSetup = {
  model,
  threads: n('threads'),
  numBlocks,
  concurrency,
  seqTokens,
  ...(values['node-args'] ? { nodeArgs: values['node-args'].split(/\s+/).filter(Boolean) } : {}),
};

const served = path.basename(model).replace(/\.gguf$/, '');
const runs: Run[] = [];
for (let round = 0; round < n('rounds'); round++) {
  for (const workload of WORKLOADS) {
    // Rotate the order, so that no system always runs first (cold box) or after the same one.
    const order = SYSTEMS.map((_, i) => at(SYSTEMS, (i + round) % SYSTEMS.length));
    for (const system of order) {
      process.stderr.write(`bench:serve round ${round + 1}/${n('rounds')} ${workload} ${system}... `);
      const s = await startServeSystem(system, SYSTEM_SETUP);
      try {
        const load = {
          endpoint: s.target,
          model: served,
          ignoreEos: true,
          extraBody: { temperature: 0 },
          maxConcurrency: concurrency,
          requestTimeoutMs: 600_000,
        };
        const idle = await s.idle?.();
        // Warm-up, untimed, on other prompts of the same shapes (see makeWorkloads): a few requests,
        // then bursts at full concurrency, so that every process's hot paths are optimised before the
        // timed run (the control plane's CPU per token is a steady-state figure). V8 optimises a
        // function once it has run enough at the load it sees: the per-step paths loop over
        // `concurrency` sequences, and with 8-token outputs they were still being compiled (TurboFan,
        // ~90 functions in the scheduler) in the timed run.
        await runLoad({ ...load, requests: entry(warmups, workload).slice(0, 4) });
        for (let i = 0; i < WARMUP_BURSTS; i++)
          await runLoad({
            ...load,
            requests: entry(warmups, workload)
              .slice(0, concurrency)
              .map((r) => ({ ...r, outputLen: WARMUP_OUTPUT_LEN })),
          });
        const meter = idle && (await s.meter?.(idle));
        const r = await runLoad({ ...load, requests: entry(workloads, workload) });
        const m = calculateMetrics(r.outputs, r.duration, [10, 25, 50, 99]);
        const control = await meter?.stop(m.totalOutput, r.duration);
        runs.push({ system, workload, round, m, ...(control ? { control } : {}) });
        const why = [...new Set(r.outputs.filter((o) => !o.success).map((o) => o.error.slice(0, 160)))].slice(0, 3);
        process.stderr.write(
          `${m.outputThroughput.toFixed(1)} tok/s, TTFT p10 / p25 / p50 ${[10, 25, 50].map((p) => ttftAt(m, p).toFixed(0)).join(' / ')} ms, ${m.failed} failed${why.length ? `: ${why.join(' | ')}` : ''}\n`,
        );
      } finally {
        await s.stop();
      }
    }
  }
}

/** TTFT percentile `p` in ms (one of those calculateMetrics was asked for). */
function ttftAt(m: BenchmarkMetrics, p: number): number {
  return m.ttft.percentiles.find(([q]) => q === p)?.[1] ?? NaN;
}

const of = (system: string, workload: string) => runs.filter((r) => r.system === system && r.workload === workload);
const head = ['workload', 'system', 'failed', 'out tok/s', 'TTFT p50 ms', 'TPOT p50 ms', 'ITL p50 ms', 'e2e p50 ms'];
const rows: string[][] = [];
const summary: Record<string, unknown>[] = [];
for (const workload of WORKLOADS) {
  for (const system of SYSTEMS) {
    const rs = of(system, workload);
    rows.push([
      workload,
      system,
      String(rs.reduce((s, r) => s + r.m.failed, 0)),
      medianRange(
        rs.map((r) => r.m.outputThroughput),
        1,
      ),
      medianRange(
        rs.map((r) => r.m.ttft.median),
        0,
      ),
      medianRange(
        rs.map((r) => r.m.tpot.median),
        1,
      ),
      medianRange(
        rs.map((r) => r.m.itl.median),
        1,
      ),
      medianRange(
        rs.map((r) => r.m.e2el.median),
        0,
      ),
    ]);
  }
}
console.log(textTable(head, rows, 2));

/** Per round, a / b of a figure of two systems on one workload. */
const ratios = (workload: string, a: string, b: string, f: (m: BenchmarkMetrics) => number) =>
  of(a, workload).map((ra) => f(ra.m) / f(of(b, workload).find((rb) => rb.round === ra.round)!.m));
for (const workload of WORKLOADS) {
  const out: Record<string, unknown> = { workload };
  if (SYSTEMS.includes('loom') && SYSTEMS.includes('llama')) {
    const tput = ratios(workload, 'loom', 'llama', (m) => m.outputThroughput);
    const ttft = ratios(workload, 'loom', 'llama', (m) => m.ttft.median);
    console.log(
      `${workload}: loom / llama-server output tok/s ${medianRange(tput, 2)}x, TTFT p50 ${medianRange(
        ttft.map((x) => 100 * x),
        0,
      )}% of llama-server's`,
    );
    Object.assign(out, { loom_vs_llama_output_throughput: spread(tput), loom_vs_llama_ttft_p50: spread(ttft) });
  }
  if (SYSTEMS.includes('loom') && SYSTEMS.includes('in-process')) {
    const tput = ratios(workload, 'loom', 'in-process', (m) => m.outputThroughput);
    const dTtft = of('loom', workload).map(
      (r) => r.m.ttft.median - of('in-process', workload).find((x) => x.round === r.round)!.m.ttft.median,
    );
    console.log(
      `${workload}: control-plane overhead: throughput ${medianRange(
        tput.map((x) => 100 * (1 - x)),
        1,
      )}% below in-process, TTFT p50 +${medianRange(dTtft, 1)} ms`,
    );
    Object.assign(out, {
      loom_vs_in_process_output_throughput: spread(tput),
      loom_minus_in_process_ttft_p50_ms: spread(dTtft),
    });
  }
  const cpu = of('loom', workload).flatMap((r) => (r.control ? [r.control] : []));
  if (cpu.length) {
    for (const line of formatControlPlaneCost(workload, cpu)) console.log(line);
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    Object.assign(out, {
      control_cpu_s_per_1k_tokens: spread(cpu.map((c) => sum(c.cpuS))),
      control_load_cpu_s_per_1k_tokens: spread(cpu.map((c) => sum(c.loadCpuS))),
    });
  }
  summary.push(out);
}
const [l1, l5] = os.loadavg();
console.log(
  `${new Date().toISOString()}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, load ${l1!.toFixed(1)} / ${l5!.toFixed(1)} at the end`,
);
console.log(
  JSON.stringify({
    bench: 'serve',
    model: path.basename(model),
    threads: n('threads'),
    concurrency,
    rounds: n('rounds'),
    num_prompts: n('num-prompts'),
    workloads: {
      random: { input_len: n('input-len'), output_len: n('output-len') },
      'shared-prefix': {
        prefixes: n('prefixes'),
        prefix_len: n('prefix-len'),
        question_len: n('question-len'),
        output_len: n('output-len'),
      },
    },
    summary,
    runs: runs.map((r) => ({
      system: r.system,
      workload: r.workload,
      round: r.round,
      completed: r.m.completed,
      failed: r.m.failed,
      output_throughput: r.m.outputThroughput,
      median_ttft_ms: r.m.ttft.median,
      // The early requests' TTFT: what the admission path adds, before the burst's prefills queue up.
      p10_ttft_ms: ttftAt(r.m, 10),
      p25_ttft_ms: ttftAt(r.m, 25),
      median_tpot_ms: r.m.tpot.median,
      median_itl_ms: r.m.itl.median,
      median_e2el_ms: r.m.e2el.median,
      ...(r.control
        ? {
            control_cpu_s_per_1k_tokens: r.control.cpuS,
            control_system_cpu_s_per_1k_tokens: r.control.systemS,
            control_load_cpu_s_per_1k_tokens: r.control.loadCpuS,
            control_idle_cpu_s_per_s: r.control.idleCpuSPerS,
            redis_commands_per_1k_tokens: r.control.redis.slice(0, 8),
          }
        : {}),
    })),
  }),
);
