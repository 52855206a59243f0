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
import { ggmlQuantLayout, type GgmlQuantType } from '@loom/gguf';

/** Worst to best; each needs what the previous one does (see services/worker/engine/src/kernels-dispatch.cpp). */
export const KERNEL_SETS = ['scalar', 'avx2', 'avx512', 'avx512vnni', 'avx512bf16'] as const;
export type KernelSetName = (typeof KERNEL_SETS)[number];

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
  /** Token texts by id: the GGUF's `tokenizer.ggml.tokens`, or a directory's tokenizer.json vocab + added tokens. */
  vocab(): string[];
  /**
   * [n][vocab] next-token logits after each of `tokens` (positions 0..n-1) from the reference forward pass:
   * scalar, float64, dequantised weights, no KV pool. For tests; slow.
   */
  referenceLogits(tokens: Int32Array): Float32Array;
  /** [n][dim] final-normed hidden state after each of `tokens` from the same reference forward (what embeddings pool). */
  referenceHidden(tokens: Int32Array): Float32Array;
  /** [nSampling][vocab] raw logits the last step sampled from, in seqs order (for tests). */
  lastLogits(): Float32Array;
}

/** GGML weight types the engine can quantise to, byte for byte as llama-quantize does (no importance matrix). */
export type QuantType = 'f32' | 'f16' | GgmlQuantType;

/** ggml type id and values per block of a weight type. */
export function weightTypeLayout(type: QuantType | 'bf16'): { id: number; blockSize: number } {
  if (type === 'f32') return { id: 0, blockSize: 1 };
  if (type === 'f16') return { id: 1, blockSize: 1 };
  if (type === 'bf16') return { id: 30, blockSize: 1 };
  return ggmlQuantLayout(type);
}

interface Addon {
  Engine: new (modelPath: string, opts: LoadEngineOptions) => LoadedEngine;
  supportedKernels(): string;
  quantize(type: QuantType, values: Float32Array): Uint8Array;
  dequantize(type: QuantType | 'bf16', bytes: Uint8Array): Float32Array;
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
 * Maps the model at `modelPath` (a GGUF file, or a Hugging Face directory: config.json + *.safetensors,
 * sharded or not, f32/f16/bf16) and returns an engine for it. Throws an Error naming the file when it is
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

/**
 * The engine's C++ port of ggml's quantisation of `values` (a whole number of blocks: 32 values for the
 * 32-value types, 256 for the K-quants and iq4_xs) into the type's GGUF bytes, the same bytes llama-quantize
 * writes for those f32 rows without an importance matrix.
 */
export function quantize(type: QuantType, values: Float32Array): Uint8Array {
  return loadAddon().quantize(type, values);
}

/** The values that `bytes` of a GGML type encode (exactly what the engine computes with). */
export function dequantize(type: QuantType | 'bf16', bytes: Uint8Array): Float32Array {
  return loadAddon().dequantize(type, bytes);
}
