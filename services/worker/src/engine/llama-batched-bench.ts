/**
 * The engine benchmark's peer: llama.cpp's own `llama-batched-bench`, built natively by
 * scripts/build-llama-peer.sh, on the same GGUF and threads. It runs the same workload as Loom's side
 * (engine-bench-workload.ts): B distinct P-token prompts in one prefill, then G decode steps of B tokens,
 * logits for every decoded token. Its own timings (ggml_time_us around the decode calls) are used.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { at } from '@loom/common';
import type { PhaseTimes, Workload } from './engine-bench-workload.js';

const run = promisify(execFile);

/** One way of running llama.cpp; the benchmark tries each and keeps the fastest per row. */
export interface PeerConfig {
  flashAttn: boolean;
  batch: number; // -b: logical batch (tokens per llama_decode call)
  ubatch: number; // -ub: physical batch (tokens per graph evaluation)
}

export const describePeer = (c: PeerConfig) => `fa ${c.flashAttn ? 'on' : 'off'}, -b ${c.batch} -ub ${c.ubatch}`;

/**
 * llama.cpp's candidate settings for a workload: flash attention on and off, physical batches of 512
 * (its default) and 2048 (fewer, larger GEMMs). Sizes past the prefill's B*P tokens behave alike, so
 * they are tried only where they differ.
 */
export function peerCandidates(w: Workload): PeerConfig[] {
  const ubatches = [512, 2048].filter((u, i, all) => i === 0 || at(all, i - 1) < w.batch * w.prompt);
  return [true, false].flatMap((flashAttn) => ubatches.map((ubatch) => ({ flashAttn, batch: 2048, ubatch })));
}

interface BatchedBenchLine {
  pp: number;
  tg: number;
  pl: number;
  t_pp: number;
  t_tg: number;
}

/**
 * Runs llama-batched-bench once: each sequence its own KV cells (not unified: a unified cache makes
 * every token attend over the masked cells of all B sequences), -c = B * (P + G).
 */
export async function runBatchedBench(bin: string, file: string, w: Workload, c: PeerConfig): Promise<PhaseTimes> {
  const args = [
    ...['-m', file, '-t', String(w.threads), '-tb', String(w.threads)],
    ...['-c', String(w.batch * (w.prompt + w.generate)), '-b', String(c.batch), '-ub', String(c.ubatch)],
    ...['-fa', c.flashAttn ? 'on' : 'off', '-no-kvu'],
    ...['-npp', String(w.prompt), '-ntg', String(w.generate), '-npl', String(w.batch), '--output-format', 'jsonl'],
  ];
  // This build now and then exits 0 without printing its result line (seen 1 run in ~8 on the 2-core box, the
  // same arguments succeeding before and after): such a run is repeated, said so on stderr, up to 3 times.
  let line: string | undefined;
  for (let attempt = 1; !line; attempt++) {
    const { stdout, stderr } = await run(bin, args, { maxBuffer: 1 << 26 }).catch((e: Error & { stderr?: string }) => {
      throw new Error(`${bin} ${args.join(' ')} failed: ${e.message}\n${(e.stderr ?? '').slice(-2000)}`);
    });
    line = `${stdout}\n${stderr}`
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.startsWith('{') && l.includes('"t_pp"'));
    if (line) break;
    if (attempt === 3) throw new Error(`${bin} printed no result line, 3 times:\n${stderr.slice(-2000)}`);
    process.stderr.write(`llama-batched-bench exited without its result line (attempt ${attempt}); running it again\n`);
  }
  const r = JSON.parse(line) as BatchedBenchLine;
  if (r.pp !== w.prompt || r.tg !== w.generate || r.pl !== w.batch)
    throw new Error(`${bin} ran pp ${r.pp} tg ${r.tg} B ${r.pl}, not ${w.prompt}/${w.generate}/${w.batch}`);
  return { prefillSeconds: r.t_pp, decodeSeconds: r.t_tg };
}
