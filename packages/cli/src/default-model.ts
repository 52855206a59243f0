import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './repo-paths.js';

/** The model served when LOOM_MODEL / --model is not given: the shared stories260K checkpoint next to the repo. */
export const DEFAULT_MODEL = join(REPO_ROOT, '..', 'shared', 'models', 'stories260K', 'stories260K-f32.gguf');

export const DEFAULT_MODEL_NOTICE =
  "LOOM_MODEL not set: serving the bundled demo model stories260K (a 260K-parameter TinyStories Llama; it writes children's stories, nothing else)";

export interface ResolvedModel {
  /** Absolute path of an existing model file, or '' when none could be found. */
  path: string;
  isDefault: boolean;
  /** Why `path` is empty, saying what to do. */
  problem: string;
}

/**
 * The model file to serve: the given path (relative to the current directory) when set, else the
 * bundled demo model when it exists. Used by `loom` and by scripts/ensure.mjs so both agree.
 */
export function resolveModel(given: string): ResolvedModel {
  if (given) {
    const path = resolve(given);
    if (!existsSync(path))
      return {
        path: '',
        isDefault: false,
        problem: `model file not found: ${path} (from LOOM_MODEL / --model). Point it at a GGUF file.`,
      };
    // A directory is a Hugging Face safetensors model (config.json + *.safetensors), e.g. an hf:// snapshot.
    const ok = statSync(path).isFile() || existsSync(join(path, 'config.json'));
    if (!ok)
      return {
        path: '',
        isDefault: false,
        problem:
          `model path is neither a file nor a folder with config.json: ${path}. Point LOOM_MODEL / --model at a ` +
          `GGUF file or a Hugging Face safetensors folder.`,
      };
    return { path, isDefault: false, problem: '' };
  }
  if (existsSync(DEFAULT_MODEL)) return { path: DEFAULT_MODEL, isDefault: true, problem: '' };
  return {
    path: '',
    isDefault: false,
    problem:
      `no model: set LOOM_MODEL (or --model) to a GGUF file, e.g. LOOM_MODEL=/path/to/model.gguf npm start. ` +
      `The demo model ${DEFAULT_MODEL} is not there either.`,
  };
}
