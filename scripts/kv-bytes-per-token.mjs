#!/usr/bin/env node
// KV bytes one sequence holds in Loom's paged pool, per token of context: the engine's KV cache groups and
// block bytes (f16 KV), and the scheduler core's block tables for one sequence prefilled in chunks of
// --chunk tokens to --ctx tokens, then one decode step. Prints the blocks held after that last step and the
// most held at once (a prefill chunk), with and without the sliding groups (one group of every layer: the
// layout before per-group tables). Compare with llama.cpp's "llama_kv_cache: size = ..." lines
// (llama-batched-bench -v -c CTX -ub CHUNK). Needs `npm run build`.
// Usage: node scripts/kv-bytes-per-token.mjs MODEL.gguf [--ctx 8192] [--chunk 512] [--block 16] (--help says more)
import { DEFAULT_SAMPLING, parseCliArgs } from '@loom/common';
import { Scheduler } from '@loom/scheduler';
import { kvCacheGroupsOf, loadEngine } from '@loom/worker';

const { positionals, int, fail } = parseCliArgs({
  synopsis: 'node scripts/kv-bytes-per-token.mjs MODEL.gguf [options]',
  about:
    "KV bytes one sequence holds in Loom's paged pool per token of context, with and without the sliding\n" +
    "groups, to compare with llama.cpp's 'llama_kv_cache: size = ...' lines. Needs `npm run build`.",
  options: {
    ctx: { type: 'string', default: '8192', value: 'N', description: 'tokens of context the sequence reaches' },
    chunk: { type: 'string', default: '512', value: 'N', description: 'prefill chunk: tokens per step' },
    block: { type: 'string', default: '16', value: 'N', description: 'tokens per KV block' },
  },
  examples: ['node scripts/kv-bytes-per-token.mjs model.gguf --ctx 32768 --chunk 2048'],
  allowPositionals: true,
});
if (positionals.length !== 1) fail('pass one model file (MODEL.gguf)');
const [ctx, chunk, bs] = [int('ctx', 2), int('chunk', 1), int('block', 1)];
const engine = loadEngine(positionals[0], { threads: 1 });
const info = engine.info();
const blockBytes = engine.kvBytesPerBlock(bs);
engine.close();
const groups = kvCacheGroupsOf(info);
const POOL = 1 << 20;

for (const [name, g, perBlock] of [
  [`${groups.length} groups (${groups.map((x) => x.slidingWindow || 'full').join(', ')})`, groups, blockBytes],
  ['one group of every layer', undefined, (blockBytes * info.nLayers) / info.kvLayersPerBlock],
]) {
  const core = new Scheduler({
    blockSize: bs,
    numBlocks: POOL,
    maxNumBatchedTokens: chunk,
    maxNumSeqs: 1,
    maxModelLen: ctx + 1,
    ...(g ? { kvCacheGroups: g } : {}),
  });
  const prompt = Array.from({ length: ctx - 1 }, (_, i) => 1 + (i % 30000));
  const r = core.addRequest({
    requestId: 'a',
    promptTokenIds: prompt,
    sampling: { ...DEFAULT_SAMPLING, maxTokens: 2, ignoreEos: true },
  });
  let peak = 0,
    last = 0;
  while (core.hasWork()) {
    const out = core.schedule();
    last = POOL - core.stats().numFreeBlocks;
    peak = Math.max(peak, last);
    const due = r.numComputedTokens + out.numScheduledTokens === r.numTokens;
    core.update(out, due ? [{ requestId: 'a', tokenId: 5 }] : []);
  }
  const mib = (n) => ((n * perBlock) / 2 ** 20).toFixed(1);
  console.log(
    `${name}: ${perBlock} B/block; after the last step ${last} blocks = ${mib(last)} MiB = ` +
      `${Math.round((last * perBlock) / ctx)} B/token; peak ${peak} blocks = ${mib(peak)} MiB = ${Math.round((peak * perBlock) / ctx)} B/token`,
  );
}
