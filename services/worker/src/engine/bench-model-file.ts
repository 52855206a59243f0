/**
 * Where the engine benchmark gets a (model, dtype) GGUF: `loom model synth` writes it into a directory,
 * and with a kept directory (--model-dir) a file already there is reused, so a 1.1B shape (minutes to
 * synthesise on one thread) is written once, outside the quiet window a benchmark needs.
 *
 * Invariant: a reused file is byte-for-byte what synthesising now would write. The file name carries a
 * fingerprint of everything the bytes depend on: the synth arguments, the dtype, and the built code that
 * writes them (the CLI's synth modules and the whole @loom/gguf package, quantisers included), so a
 * change to any of these names a new file instead of reusing a stale one.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { BenchModel } from './engine-bench-models.js';

/** sha256 over the synth arguments and the built modules that turn them into bytes (first 12 hex digits). */
function fingerprint(repoRoot: string, model: BenchModel, dtype: string): string {
  const h = createHash('sha256').update(JSON.stringify([model.synth, dtype]));
  const cliDist = path.join(repoRoot, 'packages', 'cli', 'dist');
  const ggufDist = path.join(repoRoot, 'packages', 'gguf', 'dist');
  const code = [
    ...['model-synth.js', 'model-synth-shapes.js', 'model-synth-command.js', 'synth-vocab.js'].map((f) =>
      path.join(cliDist, f),
    ),
    ...readdirSync(ggufDist)
      .filter((f) => f.endsWith('.js'))
      .sort()
      .map((f) => path.join(ggufDist, f)),
  ];
  for (const f of code) h.update(f.slice(repoRoot.length)).update(readFileSync(f));
  return h.digest('hex').slice(0, 12);
}

/**
 * The GGUF of `model` in `dtype` under `dir`, synthesised unless a file with the same fingerprint is already
 * there. Written to a temporary name and renamed, so an interrupted synth never leaves a file that looks done.
 */
export function benchModelFile(
  repoRoot: string,
  dir: string,
  model: BenchModel,
  dtype: string,
  log: (s: string) => void,
): string {
  const file = path.join(dir, `${model.name}-${dtype}-${fingerprint(repoRoot, model, dtype)}.gguf`);
  if (existsSync(file)) {
    log(`reuse ${path.basename(file)}`);
    return file;
  }
  log(`synth ${model.name} ${dtype}`);
  const partial = `${file}.partial`;
  const cli = path.join(repoRoot, 'packages', 'cli', 'dist', 'main.js');
  execFileSync(process.execPath, [cli, 'model', 'synth', ...model.synth, '--dtype', dtype, '-o', partial, '--quiet'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  renameSync(partial, file);
  return file;
}
