/**
 * `loom bench` (the equivalent of `vllm bench serve`, same flag names where vLLM has one) and
 * `loom bench compare A.json B.json`. The work is in @loom/bench; this is flags, the progress bar
 * and printing.
 */
import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { addExamples } from './add-examples.js';
import {
  DATASET_NAMES,
  compareResults,
  formatComparison,
  formatResult,
  parseGoodput,
  runBenchmark,
  type DatasetName,
} from '@loom/bench';

const int = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} takes an integer >= 0`);
  return n;
};
const num = (flag: string) => (v: string) => {
  const n = v === 'inf' ? Infinity : Number(v);
  if (!(n >= 0)) throw new InvalidArgumentError(`${flag} takes a number >= 0 (or inf)`);
  return n;
};
const keyValues = (v: string, prev: Record<string, string> = {}) => {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got ${v}`);
  return { ...prev, [v.slice(0, eq)]: v.slice(eq + 1) };
};

interface ServeFlags {
  baseUrl: string;
  backend: 'openai' | 'openai-chat';
  model?: string;
  label?: string;
  datasetName: DatasetName;
  datasetPath?: string;
  numPrompts: number;
  inputLen?: number;
  outputLen?: number;
  randomInputLen: number;
  randomOutputLen: number;
  randomRangeRatio: number;
  randomPrefixLen: number;
  sharedPrefixNumPrefixes: number;
  sharedPrefixLen: number;
  sharedPrefixQuestionLen: number;
  sharedPrefixOutputLen: number;
  sharegptOutputLen?: number;
  vocabSize?: number;
  requestRate: number;
  burstiness: number;
  maxConcurrency?: number;
  numWarmups: number;
  ignoreEos?: boolean;
  seed: number;
  goodput?: string[];
  metricPercentiles: string;
  temperature?: number;
  topP?: number;
  topK?: number;
  extraBody?: string;
  requestTimeoutS?: number;
  resultDir?: string;
  resultFilename?: string;
  saveDetailed?: boolean;
  metadata?: Record<string, string>;
  disableTqdm?: boolean;
}

function addServeOptions(cmd: Command): Command {
  return cmd
    .option('--base-url <url>', "the server's root or OpenAI base URL", 'http://127.0.0.1:8000')
    .addOption(
      new Option('--backend <kind>', 'openai: /v1/completions; openai-chat: /v1/chat/completions')
        .choices(['openai', 'openai-chat'])
        .default('openai'),
    )
    .option('--model <id>', 'served model id (default: the first the server lists)')
    .option('--label <name>', 'label of the result (file name prefix; default: the backend)')
    .addOption(new Option('--dataset-name <name>', 'workload').choices([...DATASET_NAMES]).default('random'))
    .option('--dataset-path <file>', 'ShareGPT-style JSON file (for --dataset-name sharegpt)')
    .option('--num-prompts <n>', 'requests to send', int('--num-prompts'), 1000)
    .option('--input-len <n>', 'general input length (sets --random-input-len)', int('--input-len'))
    .option('--output-len <n>', 'general output length (sets every dataset output length)', int('--output-len'))
    .option('--random-input-len <n>', 'random: prompt tokens', int('--random-input-len'), 1024)
    .option('--random-output-len <n>', 'random: max_tokens', int('--random-output-len'), 128)
    .option(
      '--random-range-ratio <r>',
      'random: lengths uniform in [len·(1-r), len·(1+r)]',
      num('--random-range-ratio'),
      0,
    )
    .option(
      '--random-prefix-len <n>',
      'random: tokens of one prefix shared by every prompt',
      int('--random-prefix-len'),
      0,
    )
    .option(
      '--shared-prefix-num-prefixes <n>',
      'shared-prefix: distinct prefixes',
      int('--shared-prefix-num-prefixes'),
      8,
    )
    .option('--shared-prefix-len <n>', 'shared-prefix: tokens per prefix', int('--shared-prefix-len'), 256)
    .option(
      '--shared-prefix-question-len <n>',
      'shared-prefix: tokens after the prefix',
      int('--shared-prefix-question-len'),
      16,
    )
    .option('--shared-prefix-output-len <n>', 'shared-prefix: max_tokens', int('--shared-prefix-output-len'), 128)
    .option(
      '--sharegpt-output-len <n>',
      "sharegpt: fixed max_tokens (default: the reply's length)",
      int('--sharegpt-output-len'),
    )
    .option(
      '--vocab-size <n>',
      'vocabulary size for token-id prompts (default: asked of the server)',
      int('--vocab-size'),
    )
    .option('--request-rate <rps>', 'requests per second (inf: all at once)', num('--request-rate'), Infinity)
    .option('--burstiness <k>', 'gamma shape of the arrival gaps: 1 Poisson, < 1 burstier', num('--burstiness'), 1)
    .option('--max-concurrency <n>', 'at most this many requests in flight', int('--max-concurrency'))
    .option('--num-warmups <n>', 'untimed requests first', int('--num-warmups'), 0)
    .option('--ignore-eos', 'generate max_tokens whatever the model says (always on for random)')
    .option('--seed <n>', 'seeds the dataset and the arrival times', int('--seed'), 0)
    .option('--goodput <slo...>', 'SLOs in ms for goodput, e.g. ttft:500 tpot:50 (also e2el)')
    .option('--metric-percentiles <list>', 'percentiles to report', '50,90,99')
    .option('--temperature <t>', 'sampling temperature (default: the server default)', num('--temperature'))
    .option('--top-p <p>', 'top-p', num('--top-p'))
    .option('--top-k <k>', 'top-k', int('--top-k'))
    .option('--extra-body <json>', 'more request body fields, as JSON')
    .option('--request-timeout-s <s>', 'abort a request after this long (a failure)', num('--request-timeout-s'))
    .option('--result-dir <dir>', 'write the JSON result and the HTML report here')
    .option('--result-filename <name>', 'JSON file name (default: vLLM-style, from label, rate, model, date)')
    .option('--save-detailed', 'per-request arrays in the JSON (ttfts, itls, texts, errors)')
    .option('--metadata <KEY=VALUE>', 'recorded in the result (repeatable)', keyValues)
    .option('--disable-tqdm', 'no progress bar');
}

async function serve(f: ServeFlags): Promise<void> {
  const percentiles = f.metricPercentiles.split(',').map((p) => {
    const n = Number(p);
    if (!(n >= 0 && n <= 100)) throw new InvalidArgumentError(`--metric-percentiles: ${p} is not in [0, 100]`);
    return n;
  });
  let extraBody: Record<string, unknown> | undefined;
  if (f.extraBody !== undefined) {
    try {
      extraBody = JSON.parse(f.extraBody) as Record<string, unknown>;
    } catch {
      throw new InvalidArgumentError('--extra-body is not JSON');
    }
  }
  for (const [k, v] of [
    ['temperature', f.temperature],
    ['top_p', f.topP],
    ['top_k', f.topK],
  ] as const)
    if (v !== undefined) extraBody = { ...extraBody, [k]: v };
  const out = f.outputLen;
  const bar = f.disableTqdm
    ? undefined
    : new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'loom bench [{bar}] {value}/{total} requests | {failed} failed | {eta_formatted} left',
        },
        cliProgress.Presets.shades_classic,
      );
  let failed = 0;
  const run = await runBenchmark({
    baseUrl: f.baseUrl,
    backend: f.backend,
    ...(f.model ? { model: f.model } : {}),
    ...(f.label ? { label: f.label } : {}),
    dataset: {
      name: f.datasetName,
      numPrompts: f.numPrompts,
      seed: f.seed,
      ...(f.vocabSize ? { vocabSize: f.vocabSize } : {}),
      random: {
        inputLen: f.inputLen ?? f.randomInputLen,
        outputLen: out ?? f.randomOutputLen,
        rangeRatio: f.randomRangeRatio,
        prefixLen: f.randomPrefixLen,
      },
      sharedPrefix: {
        numPrefixes: f.sharedPrefixNumPrefixes,
        prefixLen: f.sharedPrefixLen,
        questionLen: f.sharedPrefixQuestionLen,
        outputLen: out ?? f.sharedPrefixOutputLen,
      },
      ...(f.datasetPath
        ? {
            sharegpt: {
              path: f.datasetPath,
              ...((out ?? f.sharegptOutputLen) ? { outputLen: out ?? f.sharegptOutputLen } : {}),
            },
          }
        : {}),
    },
    requestRate: f.requestRate,
    burstiness: f.burstiness,
    ...(f.maxConcurrency ? { maxConcurrency: f.maxConcurrency } : {}),
    numWarmups: f.numWarmups,
    // vLLM ignores EOS on the random dataset so that every request generates its asked length.
    ignoreEos: Boolean(f.ignoreEos) || f.datasetName === 'random',
    goodput: f.goodput ? parseGoodput(f.goodput) : {},
    percentiles,
    ...(extraBody ? { extraBody } : {}),
    ...(f.requestTimeoutS ? { requestTimeoutMs: f.requestTimeoutS * 1000 } : {}),
    ...(f.metadata ? { metadata: f.metadata } : {}),
    ...(f.resultDir ? { resultDir: f.resultDir } : {}),
    ...(f.resultFilename ? { resultFilename: f.resultFilename } : {}),
    saveDetailed: Boolean(f.saveDetailed),
    log: (line) => console.error(line),
    onStart: (total) => bar?.start(total, 0, { failed: 0 }),
    onDone: (o) => bar?.increment(1, { failed: o.success ? failed : ++failed }),
  });
  bar?.stop();
  console.log(formatResult(run.result, percentiles));
  if (run.files.json) console.log(`Result: ${run.files.json}\nReport: ${run.files.html}`);
}

function readResult(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: not a readable result file (${(err as Error).message})`);
  }
}

export function addBenchCommand(program: Command): void {
  const bench = program
    .command('bench')
    .description('benchmark an OpenAI-compatible server (like `vllm bench serve`) or compare two results');
  addServeOptions(
    addExamples(
      bench
        .command('serve', { isDefault: true })
        .description('drive an OpenAI-compatible endpoint and report throughput, TTFT, TPOT, ITL and e2e latency'),
      [
        'loom bench serve --base-url http://127.0.0.1:8000 --dataset-name random --num-prompts 200 --max-concurrency 16',
        'loom bench serve --dataset-name shared-prefix --request-rate 4 --result-dir ./results',
      ],
    ),
  ).action(async (f: ServeFlags) => serve(f));
  addExamples(bench.command('compare'), ['loom bench compare results/before.json results/after.json'])
    .description('print every figure two result files share, with B / A')
    .argument('<a>', 'result JSON A (the baseline)')
    .argument('<b>', 'result JSON B')
    .action((a: string, b: string) => {
      console.log(formatComparison(compareResults(readResult(a), readResult(b)), a, b));
    });
}
