/**
 * llama.cpp (node-llama-cpp's prebuilt CPU build) and Loom's engine run on the same GGUF, token ids in and
 * out, for the family tests (not a test file itself): greedy continuations by plain argmax (the sequence
 * API at temperature 0; no repeat penalty), and teacher-forced logits at every position.
 */
import type { loadEngine } from '@loom/worker';

type LoadedEngine = ReturnType<typeof loadEngine>;
import type { Llama, LlamaModel, Token } from 'node-llama-cpp';

/** llama.cpp's model and context on `file`, with `contextSize` cells (one sequence). */
export async function openLlamaCpp(llama: Llama, file: string, contextSize: number) {
  const model: LlamaModel = await llama.loadModel({ modelPath: file });
  // One thread: llama.cpp's default spins a thread per core, which crawls on a loaded shared box.
  const context = await model.createContext({ contextSize, threads: 1 });
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

const GREEDY = { temperature: 0, topP: 1, topK: 0, minP: 0, seed: 0, logprobs: -1 } as const;

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
      out.push(r.tokens[0]!);
      all.push(r.tokens[0]!);
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
