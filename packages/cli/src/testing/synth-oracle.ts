/**
 * llama.cpp (node-llama-cpp's prebuilt CPU build) and Loom's engine run on the same GGUF, token ids in and
 * out, for the family tests (not a test file itself): greedy continuations by plain argmax (the sequence
 * API at temperature 0; no repeat penalty), and teacher-forced logits at every position.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cpuLlama, relErr } from '@loom/testing';
import type { ModelArch } from '@loom/gguf';
import { loadEngine } from '@loom/worker';
import type { Llama, LlamaModel, Token } from 'node-llama-cpp';
import { parseShape, type ModelShape } from '../model-synth-shapes.js';
import { synthModel, type SynthDtype } from '../model-synth.js';
import { FAMILY_VOCAB, vocabPath } from '../synth-vocab.js';
import { at } from '@loom/common';

type LoadedEngine = ReturnType<typeof loadEngine>;

/**
 * llama.cpp's model and context on `file`, with `contextSize` cells (one sequence); f16 K/V unless `f32Kv` (then
 * also no flash attention, which would round Q and the softmax weights to f16).
 */
export async function openLlamaCpp(llama: Llama, file: string, contextSize: number, f32Kv = false) {
  const model: LlamaModel = await llama.loadModel({ modelPath: file });
  const kv = f32Kv
    ? ({ flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' } as const)
    : {};
  // One thread: llama.cpp's default spins a thread per core, which crawls on a loaded shared box.
  const context = await model.createContext({ contextSize, threads: 1, ...kv });
  return {
    model,
    /** n greedy ids after `prompt`, in a fresh sequence. */
    async greedy(prompt: number[], n: number): Promise<number[]> {
      const seq = context.getSequence();
      try {
        const out: number[] = [];
        for await (const t of seq.evaluate(prompt as Token[], { temperature: 0 })) {
          out.push(t);
          if (out.length >= n) break;
        }
        return out;
      } finally {
        seq.dispose();
      }
    },
    /** Raw logits [vocab] after each of tokens[from..], in a fresh sequence. */
    async logits(tokens: number[], from: number, vocab: number): Promise<Float32Array[]> {
      const seq = context.getSequence();
      try {
        const res = await seq.controlledEvaluate(
          tokens.map((t, i) => (i >= from ? [t as Token, { generateNext: { logits: true } }] : (t as Token))),
        );
        return res.slice(from).map((r) => {
          const row = new Float32Array(vocab);
          for (const [id, v] of r!.next.logits!) row[id] = v;
          return row;
        });
      } finally {
        seq.dispose();
      }
    },
    async close(): Promise<void> {
      await context.dispose();
      await model.dispose();
    },
  };
}

const GREEDY = { temperature: 0, topP: 1, topK: 0, minP: 0, seed: 0 } as const;

/**
 * A pool of `blocks` token blocks for each of the engine's KV cache groups, and one sequence's block table
 * over all of it (the G groups' tables interleaved, entry i * G + g) in a scattered order, so that a wrong
 * block or group index reads other KV. Calls initKv(blocks * G, blockSize, 64, 1).
 */
export function scatteredTable(engine: LoadedEngine, blocks: number, blockSize: number): number[] {
  const n = blocks * (engine.info().kvCacheGroups?.length ?? 1);
  engine.initKv(n, blockSize, 64, 1);
  // A fixed permutation: i -> (5i + 3) mod n, 5 made coprime with n.
  let m = 5;
  while (gcd(m, n) !== 1) m++;
  return Array.from({ length: n }, (_, i) => (m * i + 3) % n);
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Loom's n greedy ids after `prompt`: a 7-token-chunked prefill, then one token per step (initKv done). */
export async function loomGreedy(
  engine: LoadedEngine,
  prompt: number[],
  n: number,
  table: number[],
): Promise<number[]> {
  const all = [...prompt];
  let fed = 0;
  const out: number[] = [];
  while (out.length < n) {
    const end = Math.min(all.length, fed + 7);
    const r = await engine.step([
      {
        tokens: Int32Array.from(all.slice(fed, end)),
        startPos: fed,
        blockTable: Int32Array.from(table),
        sample: end === all.length,
        rngCounter: out.length,
        ...GREEDY,
      },
    ]);
    fed = end;
    if (end === all.length) {
      out.push(at(r.tokens, 0));
      all.push(at(r.tokens, 0));
    }
  }
  return out;
}

/** Loom's raw logits after each of tokens[from..]: a prefill of tokens[0..from], then one token per step. */
export async function loomLogits(
  engine: LoadedEngine,
  tokens: number[],
  from: number,
  table: number[],
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const step = async (a: number, b: number) => {
    await engine.step([
      {
        tokens: Int32Array.from(tokens.slice(a, b)),
        startPos: a,
        blockTable: Int32Array.from(table),
        sample: true,
        rngCounter: 0,
        ...GREEDY,
      },
    ]);
    out.push(engine.lastLogits().slice());
  };
  await step(0, from + 1);
  for (let p = from + 1; p < tokens.length; p++) await step(p, p + 1);
  return out;
}

/**
 * The vocabulary of a family check's file: the ids only have to be valid, so the families whose own vocabulary
 * is large (>100k tokens) take the shared 32000-token one to keep the files small (the served end-to-end test
 * uses each family's own).
 */
export const familyTestVocab = (arch: ModelArch): string =>
  vocabPath(
    ['qwen2', 'qwen3', 'qwen3moe', 'gemma2', 'gemma3', 'smollm3'].includes(arch)
      ? 'ggml-vocab-llama-spm.gguf'
      : FAMILY_VOCAB[arch],
  );

/** Registers a family test file's hooks: llama.cpp's CPU backend and a temp dir, handed to `set` before the tests. */
export function familyTestSetup(set: (llama: Llama, dir: string) => void): void {
  let llama: Llama | undefined, dir: string | undefined;
  before(async () => {
    llama = await cpuLlama();
    dir = mkdtempSync(path.join(os.tmpdir(), 'loom-families-'));
    set(llama, dir);
  });
  after(async () => {
    await llama?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}

/** A family's tiny shape at width 64 with `over` on top: head size 32 where the family sets one (unlike 64 / 4). */
export function familyTestShape(arch: ModelArch, over: Partial<ModelShape> = {}): ModelShape {
  const shape = { ...parseShape(undefined, arch), dim: 64, hidden: 128, heads: 4, kvHeads: 2, ...over };
  if (shape.headDim !== undefined) shape.headDim = 32;
  if (shape.ropeDims !== undefined) shape.ropeDims = 12; // phi: 3/4 of the head rotates
  return shape;
}

/** Greedy tokens per prompt in the family checks. */
export const N = 16;
/** The family checks' prompts (token ids valid in every vocabulary they use): 12 tokens, and 21 that reach past
 * the 16-token sliding windows of the tiny shapes. */
export const FAMILY_PROMPTS = [
  [1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203],
  Array.from({ length: 21 }, (_, i) => 1 + ((i * 7919) % 31999)),
];

/**
 * How a family check runs besides its file: prompts (default FAMILY_PROMPTS), f32 K/V on both sides, and whether
 * the float64 reference's logits are held to the tolerance (default) or only printed: a router's top-k over int8
 * activations (as Loom and llama.cpp both compute it) flips near-tied experts against an unrounded forward, so
 * a quantised MoE is held to llama.cpp alone.
 */
export interface CheckOptions {
  prompts?: number[][];
  f32Kv?: boolean;
  holdReference?: boolean;
}

/**
 * The family check on a synth `file`: for each prompt, Loom's N greedy ids equal llama.cpp's, and Loom's
 * teacher-forced logits along llama.cpp's continuation lie within the dtype's tolerance of llama.cpp's and of
 * the float64 reference's.
 */
export async function checkAgainstLlamaCpp(
  llama: Llama,
  file: string,
  c: { name: string; arch: ModelArch; ctx: number; dtype: SynthDtype } & CheckOptions,
): Promise<void> {
  const { name, arch, dtype } = c;
  const engine = loadEngine(file, { threads: 2, ...(c.f32Kv ? { kvType: 'f32' as const } : {}) });
  const cpp = await openLlamaCpp(llama, file, c.ctx, c.f32Kv).catch((e: Error) => {
    engine.close();
    throw e;
  });
  try {
    assert.equal(engine.info().architecture, arch === 'mixtral' ? 'llama' : arch);
    const table = scatteredTable(engine, 8, 16);
    for (const prompt of c.prompts ?? FAMILY_PROMPTS) {
      const expected = await cpp.greedy(prompt, N);
      const got = await loomGreedy(engine, prompt, N, table);
      const all = [...prompt, ...expected];
      const from = prompt.length - 1;
      const V = engine.info().vocabSize;
      const ref = await cpp.logits(all, from, V);
      const fast = await loomLogits(engine, all, from, table);
      const f64 = engine.referenceLogits(Int32Array.from(all));
      let vsCpp = 0,
        vsRef = 0;
      fast.forEach((row, k) => {
        vsCpp = Math.max(vsCpp, relErr(row, at(ref, k)));
        const p = from + k;
        vsRef = Math.max(vsRef, relErr(row, f64.subarray(p * V, (p + 1) * V)));
      });
      console.log(
        `# ${name} prompt ${prompt.length}: vs llama.cpp ${vsCpp.toExponential(2)}, vs f64 ${vsRef.toExponential(2)}`,
      );
      assert.deepEqual(got, expected, `${arch}: greedy ids after a ${prompt.length}-token prompt`);
      // Measured (f32 weights): <= 8e-4 of the logit scale vs llama.cpp and <= 3e-4 vs float64, both with f16 KV
      // caches; f16 weights 1.4e-3 / 8e-4. q8_0 rounds activations to int8 as llama.cpp does, so a last-bit
      // difference before the rounding can move one by a whole step: ~1.5e-2, as engine-reference allows.
      // A wrong scale, norm, rope pairing or window is O(1).
      const [tolCpp, tolRef] = dtype === 'f32' ? [5e-3, 2e-3] : dtype === 'f16' ? [5e-3, 5e-3] : [5e-2, 5e-2];
      assert.ok(vsCpp < tolCpp, `${name}: logits vs llama.cpp ${vsCpp}`);
      if (c.holdReference !== false) assert.ok(vsRef < tolRef, `${name}: logits vs float64 reference ${vsRef}`);
    }
  } finally {
    engine.close();
    await cpp.close();
  }
}

/** One family case: name, family, shape changes over its width-64 tiny shape, dtype, seed. */
export type FamilyCase = [string, ModelArch, Partial<ModelShape>, SynthDtype, number];

/**
 * A describe() of family cases, each synthesised at width 64 (unless the case says) and held to
 * checkAgainstLlamaCpp with `o`; `o.vocab` replaces the family's test vocabulary (then o.prompts must be ids it holds).
 */
export function describeFamilyCases(
  title: string,
  cases: FamilyCase[],
  o: CheckOptions & { vocab?: string } = {},
): void {
  describe(title, () => {
    let llama: Llama;
    let dir: string;
    familyTestSetup((l, d) => ([llama, dir] = [l, d]));
    for (const [name, arch, over, dtype, seed] of cases) {
      it(`${name}: ${N} greedy ids on 2 prompts; teacher-forced logits vs llama.cpp and the float64 reference`, async () => {
        const shape = familyTestShape(arch, over);
        const file = path.join(dir, `${name.replace(/\W+/g, '-')}.gguf`);
        synthModel({ shape, dtype, out: file, seed, vocabFrom: o.vocab ?? familyTestVocab(arch) });
        await checkAgainstLlamaCpp(llama, file, { ...o, name, arch, ctx: shape.ctx, dtype });
      });
    }
  });
}
