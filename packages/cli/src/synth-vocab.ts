/**
 * Where `loom model synth` finds a real vocabulary for each family: the shared models and tokenizer test
 * vectors (../shared/models), or llama.cpp's vocab-only GGUFs (models/ggml-vocab-*.gguf), which
 * node-llama-cpp ships inside its git bundle of llama.cpp's source: extracted once with `git` into
 * .loom/vocab (ignored by git), then reused.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import type { ModelArch } from '@loom/tokenizer';
import { REPO_ROOT } from './repo-paths.js';

const SHARED_MODELS = join(REPO_ROOT, '..', 'shared', 'models');

/**
 * Each family's vocabulary: its own where llama.cpp ships it, else the closest one Loom's tokenizer reads
 * (gemma: Gemma's own vocabulary needs the gemma4 tokenizer model, so the Llama SentencePiece one stands in).
 */
export const FAMILY_VOCAB: Readonly<Record<ModelArch, string>> = Object.freeze({
  llama: 'llama-2-tiny-random.gguf',
  mistral: 'llama-2-tiny-random.gguf',
  qwen2: 'ggml-vocab-qwen2.gguf',
  qwen3: 'ggml-vocab-qwen2.gguf',
  gemma2: 'ggml-vocab-llama-spm.gguf',
  gemma3: 'ggml-vocab-llama-spm.gguf',
  phi3: 'ggml-vocab-phi-3.gguf',
  smollm3: 'ggml-vocab-llama-bpe.rebuilt.gguf',
  granite: 'ggml-vocab-starcoder.gguf',
});

/** node-llama-cpp's bundle of llama.cpp's source, or undefined when node-llama-cpp is not installed. */
function llamaCppBundle(): string | undefined {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('node-llama-cpp')); // <package>/dist
  } catch {
    return undefined;
  }
  for (; dirname(dir) !== dir; dir = dirname(dir)) {
    const bundle = join(dir, 'llama', 'gitRelease.bundle');
    if (existsSync(bundle)) return bundle;
  }
  return undefined;
}

/** llama.cpp's models/<name> written to `dst` from the bundle (a few seconds: the bundle is unpacked once). */
function extractFromBundle(bundle: string, name: string, dst: string): void {
  const git = mkdtempSync(join(os.tmpdir(), 'loom-llama-src-'));
  try {
    execFileSync('git', ['init', '-q', '--bare', git]);
    execFileSync('git', ['-C', git, 'fetch', '-q', bundle, 'HEAD'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const bytes = execFileSync('git', ['-C', git, 'show', `FETCH_HEAD:models/${name}`], {
      maxBuffer: 256 << 20,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    mkdirSync(dirname(dst), { recursive: true });
    const tmp = `${dst}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, dst); // whole or absent, even with concurrent extractions
  } finally {
    rmSync(git, { recursive: true, force: true });
  }
}

/** A vocabulary GGUF by file name; throws saying where it looked and what to pass instead. */
export function vocabPath(name: string): string {
  const candidates = [join(SHARED_MODELS, name), join(SHARED_MODELS, 'tokenizer-vectors', name)];
  for (const c of candidates) if (existsSync(c)) return c;
  const cached = join(REPO_ROOT, '.loom', 'vocab', name);
  if (existsSync(cached)) return cached;
  const bundle = llamaCppBundle();
  if (bundle && name.startsWith('ggml-vocab-')) {
    try {
      extractFromBundle(bundle, name, cached);
      return cached;
    } catch (e) {
      throw new Error(
        `could not extract models/${name} from ${bundle}: ${(e as Error).message}; pass --vocab-from FILE`,
      );
    }
  }
  throw new Error(
    `vocabulary ${name} not found in ${candidates.join(' or ')}${bundle ? '' : ' (and node-llama-cpp, which ships llama.cpp vocabularies, is not installed)'}; pass --vocab-from FILE`,
  );
}
