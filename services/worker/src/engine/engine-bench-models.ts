/**
 * The engine benchmark's model matrix. Each entry is a random-weight model that `loom model synth`
 * writes (a real model's shape and vocabulary, so it loads in both Loom and llama.cpp); the bench writes
 * one GGUF per (model, dtype) into a temp dir (or reuses one in --model-dir, bench-model-file.ts) and runs every B on it. Add a row for a new family or shape
 * here (an MoE, a sliding-window model, ...); `--models` picks by name, and entries marked `default`
 * run when no --models is given.
 */
export interface BenchModel {
  /** Name shown in the table and given to --models. */
  name: string;
  /** Arguments for `loom model synth` besides --dtype and -o (a named shape, or --arch with dims). */
  synth: string[];
  /** Weight types to run when --dtypes is not given. */
  dtypes: string[];
  /** Run without --models. */
  default?: boolean;
}

export const BENCH_MODELS: readonly BenchModel[] = [
  { name: 'stories15M', synth: ['--shape', 'stories15M'], dtypes: ['f32', 'q8_0'], default: true },
  { name: 'stories15M-gqa', synth: ['--shape', 'stories15M-gqa'], dtypes: ['f32', 'q8_0'] },
  { name: 'stories42M-k256', synth: ['--shape', 'stories42M-k256'], dtypes: ['q4_K', 'q8_0'] },
  { name: 'stories110M', synth: ['--shape', 'stories110M'], dtypes: ['f32', 'q8_0', 'q4_K'] },
  { name: 'tinyllama-1.1B', synth: ['--shape', 'tinyllama-1.1B'], dtypes: ['q4_K', 'q8_0'] },
  // Qwen3-30B-A3B's layer at half its width: 64 experts of 512 (it has 128 of 768 at 2048), 8 per token, q/k
  // norms, GQA 16/4; 8 layers and the 32000-token vocabulary keep the LM head's share of a token's work near the
  // real model's (~1/3 of this one's active 0.16B parameters, 0.9B in all).
  {
    name: 'qwen3moe-mini',
    synth: [
      '--arch',
      'qwen3moe',
      '--shape',
      'dim=1024,hidden=3072,layers=8,heads=16,kv_heads=4,head_dim=64,experts=64,experts_used=8,expert_hidden=512',
      '--vocab-from',
      'ggml-vocab-llama-spm.gguf',
    ],
    dtypes: ['q8_0', 'q4_K'],
  },
  // Gemma 3 270M's layer (640 wide, 4 query heads of 256 on 1 KV head, GELU FFN of 2048, q/k norms, tied embeddings)
  // in its pattern of 5 sliding-window layers to 1 global one, 6 layers; a 64-token window, so a B x (128 + 128) run
  // is past it from the prompt on, and sliding layers attend 64 positions while the global one attends them all.
  {
    name: 'gemma3-swa',
    synth: [
      '--arch',
      'gemma3',
      '--shape',
      'dim=640,hidden=2048,layers=6,heads=4,kv_heads=1,head_dim=256,window=64',
      '--vocab-from',
      'ggml-vocab-llama-spm.gguf',
    ],
    dtypes: ['q8_0', 'q4_K'],
  },
];

/** The entries named, in that order (names engine-bench.ts checked against BENCH_MODELS), or the default ones. */
export function pickModels(names: readonly string[] | undefined): BenchModel[] {
  if (names === undefined) return BENCH_MODELS.filter((m) => m.default);
  return names.flatMap((n) => BENCH_MODELS.filter((m) => m.name === n));
}
