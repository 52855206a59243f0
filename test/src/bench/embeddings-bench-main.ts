#!/usr/bin/env node
// Embeddings throughput against llama.cpp, from one run: `npm run bench:embeddings [-- flags]`.
//   loom  : the cluster (Redis, gateway, scheduler, 1 worker) on loopback, POST /v1/embeddings
//   llama : llama-server --embeddings (scripts/build-llama-peer.sh), same GGUF, same threads, same
//           pooling (last) and token budget per step, POST /v1/embeddings
// Both get the same token-id inputs (no tokenizer difference), --batch inputs per request, one request
// in flight, --sequences per round after an untimed warm-up request of other inputs (both systems cache
// prompts: a repeated input would be served from the cache). Systems run interleaved, their order
// rotating per round, a fresh server each time. Per system: sequences/s, median and min-max over rounds;
// the per-round ratio loom / llama. Table, then one JSON line, on stdout; progress on stderr.
//
// Flags: `npm run bench:embeddings -- --help`.
import os from 'node:os';
import path from 'node:path';
import { at, parseCliArgs } from '@loom/common';
import { medianRange, Rng, spread, textTable } from '@loom/bench';
import { readGgufMetadata } from '@loom/gguf';
import { startLocalCluster } from '../fixtures/local-cluster.js';
import { startLlamaServer } from './llama-server.js';
import { SYNTH_MODEL_OPTIONS, synthModel } from './synth-model.js';

const {
  values,
  list,
  int: n,
} = parseCliArgs({
  synopsis: 'npm run bench:embeddings -- [options]',
  about:
    'Embeddings throughput (sequences/s) of the Loom cluster against llama-server --embeddings, rounds interleaved.',
  options: {
    ...SYNTH_MODEL_OPTIONS,
    systems: { type: 'string', default: 'loom,llama', value: 'LIST', description: 'systems to run: loom, llama' },
    rounds: { type: 'string', default: '3', value: 'N', description: 'timed rounds per system' },
    batch: { type: 'string', default: '64', value: 'N', description: 'inputs per /v1/embeddings request' },
    sequences: { type: 'string', default: '512', value: 'N', description: 'sequences embedded per round' },
    'seq-len': { type: 'string', default: '128', value: 'N', description: 'tokens per input sequence' },
    threads: { type: 'string', default: '2', value: 'N', description: 'CPU threads of each system' },
    'batch-tokens': {
      type: 'string',
      default: '2048',
      value: 'N',
      description: 'token budget per engine step, both systems',
    },
  },
  examples: [
    'npm run bench:embeddings -- --rounds 5 --batch 32',
    'npm run bench:embeddings -- --model model.gguf --systems loom',
  ],
});
const model = values.model ?? synthModel(values.synth!, values.dtype!);
const SYSTEMS = list('systems', ['loom', 'llama']);
const batch = n('batch');
const seqLen = n('seq-len');
const meta = readGgufMetadata(model);
const vocab = meta.getArray('tokenizer.ggml.tokens')!.length;

/** The requests of a round: `sequences` inputs of `seq-len` random token ids (never 0..2: control tokens), `batch` a request. */
const rng = new Rng(7);
const inputs = Array.from({ length: n('sequences') }, () =>
  Array.from({ length: seqLen }, () => rng.int(3, vocab - 1)),
);
const requests: number[][][] = [];
for (let i = 0; i < inputs.length; i += batch) requests.push(inputs.slice(i, i + batch));
/** Warm-up inputs of their own: both systems cache prompts, and a timed request must not hit that cache. */
const warmUp = Array.from({ length: batch }, () => Array.from({ length: seqLen }, () => rng.int(3, vocab - 1)));

/** One system up: its /v1/embeddings base URL, the model id it answers to, and how to stop it. */
async function start(system: string): Promise<{ url: string; model: string; stop: () => Promise<void> }> {
  const served = path.basename(model).replace(/\.gguf$/, '');
  if (system === 'loom') {
    const c = await startLocalCluster({
      model,
      env: {
        LOOM_THREADS: values.threads!,
        LOOM_MAX_NUM_SEQS: String(batch),
        LOOM_MAX_NUM_BATCHED_TOKENS: values['batch-tokens'],
        LOOM_NUM_BLOCKS: String(2 * batch * Math.ceil((seqLen + 1) / 16)),
      },
    });
    return { url: c.baseURL, model: served, stop: () => c.stop() };
  }
  if (system === 'llama') {
    const s = await startLlamaServer({
      model,
      threads: n('threads'),
      parallel: batch,
      ctxPerSlot: seqLen + 16,
      extraArgs: ['--embeddings', '--pooling', 'last', '-b', values['batch-tokens'], '-ub', values['batch-tokens']],
    });
    return { url: `${s.baseUrl}/v1`, model: served, stop: () => s.stop() };
  }
  throw new Error(`unknown system ${system}: loom or llama`);
}

/** POST one request of token-id inputs; checks the answer has one vector per input. */
async function embed(url: string, served: string, input: number[][]): Promise<void> {
  const res = await fetch(`${url}/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: served, input, encoding_format: 'float' }),
  });
  const body = (await res.json()) as { data?: { embedding: number[] }[] };
  if (!res.ok || body.data?.length !== input.length)
    throw new Error(`${url}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
}

interface Run {
  system: string;
  round: number;
  seqPerS: number;
}
const runs: Run[] = [];
for (let round = 0; round < n('rounds'); round++) {
  const order = SYSTEMS.map((_, i) => at(SYSTEMS, (i + round) % SYSTEMS.length));
  for (const system of order) {
    process.stderr.write(`bench:embeddings round ${round + 1}/${n('rounds')} ${system}... `);
    const s = await start(system);
    try {
      await embed(s.url, s.model, warmUp); // untimed
      const t0 = performance.now();
      for (const r of requests) await embed(s.url, s.model, r);
      const seqPerS = inputs.length / ((performance.now() - t0) / 1000);
      runs.push({ system, round, seqPerS });
      process.stderr.write(`${seqPerS.toFixed(1)} sequences/s\n`);
    } finally {
      await s.stop();
    }
  }
}

const of = (system: string) => runs.filter((r) => r.system === system);
console.log(
  textTable(
    ['system', 'sequences/s (median, min-max)', 'tokens/s (median)'],
    SYSTEMS.map((s) => [
      s,
      medianRange(
        of(s).map((r) => r.seqPerS),
        1,
      ),
      medianRange(
        of(s).map((r) => r.seqPerS * seqLen),
        0,
      ),
    ]),
    2,
  ),
);
const summary: Record<string, unknown> = {};
if (SYSTEMS.includes('loom') && SYSTEMS.includes('llama')) {
  const ratio = of('loom').map((r) => r.seqPerS / of('llama').find((l) => l.round === r.round)!.seqPerS);
  console.log(
    `loom / llama-server sequences/s: ${medianRange(ratio, 2)}x (per round: ${ratio.map((x) => x.toFixed(2)).join(', ')})`,
  );
  summary.loom_vs_llama_sequences_per_s = spread(ratio);
}
const [l1, l5] = os.loadavg();
console.log(
  `${new Date().toISOString()}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, load ${l1!.toFixed(1)} / ${l5!.toFixed(1)} at the end`,
);
console.log(
  JSON.stringify({
    bench: 'embeddings',
    model: path.basename(model),
    threads: n('threads'),
    batch,
    sequences: inputs.length,
    seq_len: seqLen,
    batch_tokens: n('batch-tokens'),
    rounds: n('rounds'),
    summary,
    runs,
  }),
);
