/**
 * Loads the native engine (services/worker/engine/build/loom_engine.node, built by `npm run build:native`).
 * The addon exports `class Engine(modelPath, opts)` implementing NativeEngine plus `vocab()`, and
 * `supportedKernels()`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeEngine } from './engine-api.js';

export type KernelSetName = 'scalar' | 'avx2' | 'avx512';

export interface LoadEngineOptions {
  /** Worker threads for the forward pass; 0 = hardware concurrency. */
  threads: number;
  /** KV pool element type; default "f16" (half the memory, what llama.cpp uses). */
  kvType?: 'f16' | 'f32';
  /** Force a kernel set; default: the LOOM_KERNELS env var, else the best this CPU supports. */
  kernels?: KernelSetName | 'auto';
}

/** The native engine: NativeEngine plus what the addon offers beyond the shared interface. */
export interface LoadedEngine extends NativeEngine {
  /** The GGUF vocabulary (`tokenizer.ggml.tokens`), indexed by token id. */
  vocab(): string[];
}

interface Addon {
  Engine: new (modelPath: string, opts: LoadEngineOptions) => LoadedEngine;
  supportedKernels(): string;
}

/** Absolute path of the built addon (it may not exist yet). */
export function engineBuildPath(): string {
  // This file runs from services/worker/dist/engine/ (or src/engine/ under a TS loader): two levels up is the package.
  const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  return path.join(pkgDir, 'engine', 'build', 'loom_engine.node');
}

let addon: Addon | undefined;
function loadAddon(): Addon {
  if (addon) return addon;
  const file = engineBuildPath();
  if (!existsSync(file)) throw new Error(`native engine not built: run \`npm run build:native\` (missing ${file})`);
  addon = createRequire(import.meta.url)(file) as Addon;
  return addon;
}

/**
 * Maps the GGUF at `modelPath` and returns an engine for it. Throws an Error naming the file when it is
 * missing, truncated, corrupt or of an unsupported architecture / tensor type.
 */
export function loadEngine(modelPath: string, opts: LoadEngineOptions): LoadedEngine {
  const { Engine } = loadAddon();
  return new Engine(modelPath, opts);
}

/** Kernel sets this CPU can run, worst to best, e.g. ["scalar", "avx2"]. */
export function supportedKernels(): KernelSetName[] {
  return loadAddon().supportedKernels().split(',') as KernelSetName[];
}
