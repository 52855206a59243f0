import type { Llama } from 'node-llama-cpp';

/**
 * node-llama-cpp as the llama.cpp oracle tests use it: its prebuilt CPU backend (no GPU, never a source build),
 * no progress output, errors only. Imported on call, so tests that never ask for it do not load the package.
 */
export async function cpuLlama(): Promise<Llama> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  return getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: LlamaLogLevel.error });
}
