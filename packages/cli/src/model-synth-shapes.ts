/**
 * Model shapes for `loom model synth`: named shapes of real Llama models, and the `key=value,...` dims
 * syntax for any other. Only the shape matters for speed (vLLM's "dummy" load format), so weights are random.
 */

import type { LlamaShape } from '@loom/tokenizer';

/** A model's shape: the Llama GGUF hyper-parameters (dims, context, RoPE base, norm epsilon). */
export type ModelShape = LlamaShape;

const LLAMA2_BASE = { vocab: 32000, ropeTheta: 10000, normEps: 1e-5 };

/** Named shapes. stories15M is Karpathy's llama2.c TinyStories 15M model; the -gqa twin has 2 KV heads. */
export const NAMED_SHAPES: Readonly<Record<string, ModelShape>> = Object.freeze({
  stories15M: { ...LLAMA2_BASE, dim: 288, hidden: 768, layers: 6, heads: 6, kvHeads: 6, ctx: 256 },
  'stories15M-gqa': { ...LLAMA2_BASE, dim: 288, hidden: 768, layers: 6, heads: 6, kvHeads: 2, ctx: 256 },
  stories42M: { ...LLAMA2_BASE, dim: 512, hidden: 1376, layers: 8, heads: 8, kvHeads: 8, ctx: 1024 },
  stories110M: { ...LLAMA2_BASE, dim: 768, hidden: 2048, layers: 12, heads: 12, kvHeads: 12, ctx: 1024 },
  'tinyllama-1.1B': { ...LLAMA2_BASE, dim: 2048, hidden: 5632, layers: 22, heads: 32, kvHeads: 4, ctx: 2048 },
  'llama2-7B': { ...LLAMA2_BASE, dim: 4096, hidden: 11008, layers: 32, heads: 32, kvHeads: 32, ctx: 4096 },
});

const DIM_KEYS: Record<string, keyof ModelShape> = {
  dim: 'dim',
  hidden: 'hidden',
  layers: 'layers',
  heads: 'heads',
  kv_heads: 'kvHeads',
  vocab: 'vocab',
  ctx: 'ctx',
  rope_theta: 'ropeTheta',
  norm_eps: 'normEps',
};

/**
 * A named shape, or dims like `dim=288,hidden=768,layers=6,heads=6,kv_heads=2,vocab=32000,ctx=256`
 * (missing keys: kv_heads = heads, vocab 32000, ctx 256, Llama-2 rope theta and epsilon). Throws naming
 * the bad key or value.
 */
export function parseShape(spec: string): ModelShape {
  const named = NAMED_SHAPES[spec];
  if (named) return { ...named };
  if (!spec.includes('='))
    throw new Error(
      `unknown shape '${spec}': use one of ${Object.keys(NAMED_SHAPES).join(', ')} or dims like dim=288,hidden=768,layers=6,heads=6,kv_heads=2,vocab=32000,ctx=256`,
    );
  const got: Partial<Record<keyof ModelShape, number>> = {};
  for (const part of spec.split(',')) {
    const [k, v, extra] = part.split('=').map((s) => s.trim());
    const key = DIM_KEYS[k ?? ''];
    if (!key || v === undefined || extra !== undefined)
      throw new Error(`bad shape part '${part}': keys are ${Object.keys(DIM_KEYS).join(', ')}`);
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`shape ${k}=${v}: not a positive number`);
    got[key] = n;
  }
  for (const k of ['dim', 'hidden', 'layers', 'heads'] as const)
    if (got[k] === undefined) throw new Error(`shape '${spec}' lacks ${k}=`);
  const s: ModelShape = {
    ...LLAMA2_BASE,
    ctx: 256,
    kvHeads: got.heads!,
    ...got,
  } as ModelShape;
  for (const k of ['dim', 'hidden', 'layers', 'heads', 'kvHeads', 'vocab', 'ctx'] as const)
    if (!Number.isInteger(s[k])) throw new Error(`shape ${k}=${s[k]}: not an integer`);
  if (s.dim % s.heads !== 0) throw new Error(`shape: dim ${s.dim} is not a multiple of heads ${s.heads}`);
  if (s.heads % s.kvHeads !== 0) throw new Error(`shape: heads ${s.heads} is not a multiple of kv_heads ${s.kvHeads}`);
  if ((s.dim / s.heads) % 2 !== 0) throw new Error(`shape: head size ${s.dim / s.heads} is odd (RoPE rotates pairs)`);
  return s;
}

/** Parameter count of the shape (untied output), for messages. */
export function parameterCount(s: ModelShape): number {
  const hd = s.dim / s.heads;
  const perLayer = 2 * s.dim + s.dim * s.dim * 2 + 2 * s.kvHeads * hd * s.dim + 3 * s.dim * s.hidden;
  return 2 * s.vocab * s.dim + s.dim + s.layers * perLayer;
}
