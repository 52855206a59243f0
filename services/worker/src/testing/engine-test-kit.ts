/**
 * Shared helpers for the engine tests (not a test file itself): model paths, a step builder and a
 * generation loop that drives the real engine step by step like the worker does.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { at } from '@loom/common';
import type { EngineSeq, EngineStepResult, NativeEngine } from '../engine/engine-api.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
export const storiesPath = (type: 'f32' | 'f16'): string =>
  path.join(sharedDir, 'models', 'stories260K', `stories260K-${type}.gguf`);

/** "Once upon a time" with BOS, as llama.cpp tokenizes it for stories260K. */
export const ONCE_UPON_A_TIME = [1, 403, 407, 261, 378];

export type Sampling = Pick<EngineSeq, 'temperature' | 'topP' | 'topK' | 'minP' | 'seed' | 'logprobs'>;
export const GREEDY: Sampling = { temperature: 0, topP: 1, topK: 0, minP: 0, seed: 0 };

/** One sequence's part of a step. */
export function seq(
  tokens: number[],
  startPos: number,
  blockTable: number[],
  sample: boolean,
  s: Sampling,
  rngCounter: number,
): EngineSeq {
  return {
    tokens: Int32Array.from(tokens),
    startPos,
    blockTable: Int32Array.from(blockTable),
    sample,
    rngCounter,
    ...s,
  };
}

/** A sequence being generated: its prompt is fed in chunks of `chunk` tokens, then one token per step. */
/**
 * One sequence's block table for `blocks` token blocks, the engine's G KV cache groups interleaved (entry
 * i * G + g; see EngineSeq.blockTable): block ids first, first + 1, ... in order, blocks * G of them.
 */
export function contiguousTable(engine: NativeEngine, blocks: number, first = 0): number[] {
  const groups = engine.info().kvCacheGroups?.length ?? 1;
  return Array.from({ length: blocks * groups }, (_, i) => first + i);
}

export class SeqRun {
  readonly generated: number[] = [];
  readonly logprobs: number[] = [];
  private fed = 0;
  constructor(
    readonly prompt: number[],
    readonly blockTable: number[],
    readonly sampling: Sampling,
    readonly maxNew: number,
    readonly chunk = Infinity,
  ) {}
  get done(): boolean {
    return this.generated.length >= this.maxNew;
  }
  /** This step's EngineSeq. */
  next(): EngineSeq {
    const all = [...this.prompt, ...this.generated];
    const end = Math.min(all.length, this.fed + this.chunk);
    return seq(
      all.slice(this.fed, end),
      this.fed,
      this.blockTable,
      end === all.length,
      this.sampling,
      this.generated.length,
    );
  }
  /** Applies the step's result at index i. */
  apply(s: EngineSeq, r: EngineStepResult, i: number): void {
    this.fed += s.tokens.length;
    if (s.sample) {
      this.generated.push(at(r.tokens, i));
      this.logprobs.push(at(r.logprobs, i));
    }
  }
}

/** Steps every unfinished run together until all are done (continuous batching in miniature). */
export async function runAll(engine: NativeEngine, runs: SeqRun[]): Promise<void> {
  for (;;) {
    const active = runs.filter((r) => !r.done);
    if (active.length === 0) return;
    const seqs = active.map((r) => r.next());
    const res = await engine.step(seqs);
    active.forEach((r, i) => r.apply(at(seqs, i), res, i));
  }
}

/** Decodes SentencePiece pieces: '▁' is a space, <0xNN> a byte. */
export function decode(vocab: string[], ids: number[]): string {
  const bytes: number[] = [];
  for (const id of ids) {
    const piece = at(vocab, id);
    const hex = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece)?.[1];
    if (hex !== undefined) bytes.push(parseInt(hex, 16));
    else bytes.push(...Buffer.from(piece.replace(/\u2581/g, ' '), 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

export { relErr } from '@loom/testing';
