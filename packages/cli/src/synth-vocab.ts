/**
 * Where `loom model synth` finds a real vocabulary for each family: the shared models and tokenizer test
 * vectors (../shared/models), or llama.cpp's vocab-only GGUFs (models/ggml-vocab-*.gguf), which
 * node-llama-cpp ships inside its git bundle of llama.cpp's source (checked out once by
 * @loom/tokenizer's llama-cpp-source, the tokenizer tests' source of the same files).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelArch } from '@loom/gguf';
import { llamaCppFile } from '@loom/tokenizer/llama-cpp-source';
import { REPO_ROOT } from './repo-paths.js';

const SHARED_MODELS = join(REPO_ROOT, '..', 'shared', 'models');

/**
 * Each family's vocabulary: its own where llama.cpp ships it, else its closest (granite: StarCoder's, as Granite 3's;
 * gpt-oss: GPT-2's byte-level BPE, as llama.cpp ships no o200k vocabulary and it keeps the files small).
 */
export const FAMILY_VOCAB: Readonly<Record<ModelArch, string>> = Object.freeze({
  llama: 'llama-2-tiny-random.gguf',
  mistral: 'llama-2-tiny-random.gguf',
  qwen2: 'ggml-vocab-qwen2.gguf',
  qwen3: 'ggml-vocab-qwen2.gguf',
  gemma2: 'ggml-vocab-gemma-4.gguf',
  gemma3: 'ggml-vocab-gemma-4.gguf',
  phi3: 'ggml-vocab-phi-3.gguf',
  smollm3: 'ggml-vocab-llama-bpe.rebuilt.gguf',
  granite: 'ggml-vocab-starcoder.gguf',
  qwen3moe: 'ggml-vocab-qwen2.gguf',
  mixtral: 'llama-2-tiny-random.gguf',
  'gpt-oss': 'ggml-vocab-gpt-2.gguf',
});

/** A vocabulary GGUF by file name; throws saying where it looked and what to pass instead. */
export function vocabPath(name: string): string {
  const candidates = [join(SHARED_MODELS, name), join(SHARED_MODELS, 'tokenizer-vectors', name)];
  for (const c of candidates) if (existsSync(c)) return c;
  let fromLlamaCpp: string | undefined;
  if (name.startsWith('ggml-vocab-')) {
    try {
      fromLlamaCpp = llamaCppFile(`models/${name}`);
    } catch (e) {
      throw new Error(`could not get models/${name} of llama.cpp: ${(e as Error).message}; pass --vocab-from FILE`);
    }
    if (existsSync(fromLlamaCpp)) return fromLlamaCpp;
  }
  const where = [...candidates, ...(fromLlamaCpp ? [fromLlamaCpp] : [])];
  throw new Error(`vocabulary ${name} not found in ${where.join(' or ')}; pass --vocab-from FILE`);
}
