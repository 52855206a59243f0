import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RequestOutput } from './bench-request.js';
import { buildResult, resultFileName, type BenchConfig, type BenchResult } from './bench-result.js';
import { datasetRequests, type DatasetOptions } from './datasets/dataset-requests.js';
import { htmlReport } from './html-report.js';
import { calculateMetrics, timeSeries } from './metrics.js';
import { OpenAIEndpoint } from './openai-endpoint.js';
import { runLoad, warmUp } from './run-load.js';

export interface BenchmarkOptions {
  baseUrl: string;
  backend: 'openai' | 'openai-chat';
  /** The served model; the server's first listed model when not given. */
  model?: string;
  label?: string;
  dataset: DatasetOptions;
  requestRate: number;
  burstiness: number;
  maxConcurrency?: number;
  numWarmups: number;
  ignoreEos: boolean;
  goodput: BenchConfig['goodput'];
  percentiles: number[];
  extraBody?: Record<string, unknown>;
  requestTimeoutMs?: number;
  metadata?: Record<string, string>;
  /** Result files go here (JSON + HTML) when given. */
  resultDir?: string;
  resultFilename?: string;
  /** Per-request arrays in the JSON (vLLM's --save-detailed). */
  saveDetailed?: boolean;
  /** Progress: called once the requests are known, then once per finished request. */
  onStart?: (total: number) => void;
  onDone?: (out: RequestOutput) => void;
  log?: (line: string) => void;
}

export interface BenchmarkRun {
  result: BenchResult;
  outputs: RequestOutput[];
  /** Paths written, when resultDir was given. */
  files: { json?: string; html?: string };
}

/** Width of the report's time buckets: about 60 buckets over the run, at least 0.1 s, a round number. */
export function bucketSecondsFor(duration: number): number {
  const raw = Math.max(0.1, duration / 60);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

/** `loom bench`: builds the dataset, warms up, runs the load, computes vLLM's metrics, writes the reports. */
export async function runBenchmark(o: BenchmarkOptions): Promise<BenchmarkRun> {
  const log = o.log ?? (() => undefined);
  const endpoint = new OpenAIEndpoint({
    baseUrl: o.baseUrl,
    api: o.backend === 'openai-chat' ? 'chat' : 'completions',
  });
  try {
    const model = o.model ?? (await endpoint.firstModel());
    const requests = await datasetRequests(o.dataset, endpoint, model);
    const load = {
      endpoint,
      model,
      requests,
      requestRate: o.requestRate,
      burstiness: o.burstiness,
      seed: o.dataset.seed,
      ignoreEos: o.ignoreEos,
      ...(o.maxConcurrency ? { maxConcurrency: o.maxConcurrency } : {}),
      ...(o.extraBody ? { extraBody: o.extraBody } : {}),
      ...(o.requestTimeoutMs ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
    };
    if (o.numWarmups > 0) {
      log(`Warming up with ${o.numWarmups} requests...`);
      const w = await warmUp(load, o.numWarmups);
      const bad = w.find((x) => !x.success);
      if (bad) throw new Error(`warm-up request failed: ${bad.error}`);
    }
    log(
      `Traffic request rate: ${o.requestRate}, burstiness ${o.burstiness} ` +
        `(${o.burstiness === 1 ? 'Poisson process' : 'Gamma distribution'}), max concurrency ` +
        `${o.maxConcurrency ?? 'none'}`,
    );
    o.onStart?.(requests.length);
    const run = await runLoad({ ...load, ...(o.onDone ? { onDone: (out) => o.onDone!(out) } : {}) });
    const metrics = calculateMetrics(run.outputs, run.duration, o.percentiles, o.goodput);
    const series = timeSeries(run.outputs, bucketSecondsFor(run.duration));
    const config: BenchConfig = {
      ...(o.label === undefined ? {} : { label: o.label }),
      backend: o.backend,
      baseUrl: endpoint.root,
      endpoint: endpoint.path,
      modelId: model,
      datasetName: o.dataset.name,
      numPrompts: requests.length,
      requestRate: o.requestRate,
      burstiness: o.burstiness,
      maxConcurrency: o.maxConcurrency,
      ignoreEos: o.ignoreEos,
      seed: o.dataset.seed,
      numWarmups: o.numWarmups,
      goodput: o.goodput,
      percentiles: o.percentiles,
      ...(o.metadata ? { metadata: o.metadata } : {}),
    };
    const result = buildResult(config, metrics, run, series, o.saveDetailed ?? false);
    const files: BenchmarkRun['files'] = {};
    if (o.resultDir !== undefined) {
      mkdirSync(o.resultDir, { recursive: true });
      const name = o.resultFilename ?? resultFileName(config, result.date);
      files.json = path.join(o.resultDir, name);
      files.html = files.json.replace(/\.json$/, '') + '.html';
      writeFileSync(files.json, JSON.stringify(result, null, 2) + '\n');
      writeFileSync(files.html, htmlReport(result, run.outputs, series, o.percentiles));
    }
    return { result, outputs: run.outputs, files };
  } finally {
    endpoint.close();
  }
}
