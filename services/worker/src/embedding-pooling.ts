import { InvariantError } from '@loom/common';
import type { NewRequest, ProtoPoolingType } from '@loom/proto';
import type { EngineSeq } from './engine/engine-api.js';
import { StepRejected } from './step-rejected.js';

type PoolingType = 'last' | 'mean' | 'cls';

const POOLING_TYPE: Record<ProtoPoolingType, PoolingType | undefined> = {
  POOLING_NONE: undefined,
  POOLING_LAST: 'last',
  POOLING_MEAN: 'mean',
  POOLING_CLS: 'cls',
};

const EMPTY = new Float64Array(0);

/**
 * An embedding request's pooling (vLLM's pooler) and what its chunks contributed so far: each chunk asks
 * the engine for the final-normed rows its pooling needs (rowsOf), add() takes them in, and finish()
 * makes the vector once the request's last token is computed.
 */
export class EmbeddingPooling {
  /** [dim] sum of the rows so far (mean), or the row (cls, last); empty until the engine sends one. */
  private acc = EMPTY;
  /** Rows summed into acc (mean's divisor). */
  private rows = 0;

  private constructor(
    readonly type: PoolingType,
    private readonly normalize: boolean,
    /** 0 = all. */
    private readonly dimensions: number,
  ) {}

  /** The pooling a new request asks for; undefined for a generation request. */
  static of(r: NewRequest): EmbeddingPooling | undefined {
    const type = r.pooling ? POOLING_TYPE[r.pooling.type] : undefined;
    if (!r.pooling || !type) return undefined;
    // Cached tokens' hidden states are not recomputed: only last pooling may start past position 0.
    if (type !== 'last' && r.numComputedTokens > 0)
      throw new StepRejected(
        `request ${r.requestId}: ${type} pooling needs every token computed, but ${r.numComputedTokens} are cached`,
      );
    return new EmbeddingPooling(type, r.pooling.normalize, r.pooling.dimensions);
  }

  /** The rows a chunk [start, ...) contributes: every row (mean), row 0 (cls), the final row (last). */
  rowsOf(start: number, endsPrompt: boolean): EngineSeq['pool'] {
    if (this.type === 'mean') return 'sum';
    if (this.type === 'cls') return start === 0 ? 'first' : undefined;
    return endsPrompt ? 'last' : undefined;
  }

  /** Takes in the engine's row for a chunk of `tokens` tokens that asked for `how`. */
  add(how: NonNullable<EngineSeq['pool']>, row: Float32Array, tokens: number): void {
    if (this.acc.length === 0) this.acc = new Float64Array(row.length);
    if (how !== 'sum') {
      this.acc.set(row);
      this.rows = 1;
      return;
    }
    const acc = this.acc;
    if (acc.length !== row.length) throw new InvariantError(`pooled row of ${row.length}, sum of ${acc.length}`);
    for (let j = 0; j < row.length; j++) acc[j] = (acc[j] ?? 0) + (row[j] ?? 0); // in range: checked above
    this.rows += tokens;
  }

  /** The finished vector of what the chunks gave. */
  finish(): number[] {
    return finishPooled(this.acc, this.rows, this.type, this.dimensions, this.normalize);
  }
}

/**
 * The finished vector of an embedding request (vLLM's pooler tail): mean = acc / rows, then the first
 * `dimensions` values (0 = all, more than there are = all), then L2-normalised when asked (a zero vector stays zero).
 */
export function finishPooled(
  acc: Float64Array,
  rows: number,
  type: PoolingType,
  dimensions: number,
  normalize: boolean,
): number[] {
  const d = dimensions > 0 ? Math.min(dimensions, acc.length) : acc.length;
  const scale = type === 'mean' ? 1 / rows : 1;
  const v = Array.from(acc.subarray(0, d), (x) => x * scale);
  if (!normalize) return v;
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm > 0 ? v.map((x) => x / norm) : v;
}
