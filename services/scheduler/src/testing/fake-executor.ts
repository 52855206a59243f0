import assert from 'node:assert/strict';
import { at } from '@loom/common';
import type { PoolingParams } from '@loom/common';
import { FULL_ATTENTION_ONLY, type KVCacheGroupSpec, numSkippedTokens } from '../core/kv-cache-group.js';
import type { PooledVector, SampledToken, SchedulerOutput } from '../core/scheduler-output.js';

/** The token a FakeExecutor samples for a request at a position (= number of tokens before it). */
export type FakeTokenFn = (requestId: string, position: number) => number;

/** Default: a token that depends on the position only, far from small test EOS/stop ids. */
export const positionToken: FakeTokenFn = (_id, position) => 1000 + position;

interface FakeRequestState {
  tokenIds: number[];
  blockIds: number[];
  numComputed: number;
  pooling?: PoolingParams;
  /** Tokens computed at admission (prefix-cache hit) of an embedding request. */
  cachedAtAdmission?: number;
}

/** What the fake "pools" for an embedding request: [tokens, tokens the cache supplied, first token, last token]. */
export const fakeEmbedding = (tokenIds: readonly number[], cached: number): number[] => [
  tokenIds.length,
  cached,
  at(tokenIds, 0),
  at(tokenIds, tokenIds.length - 1),
];

/**
 * A FAKE worker for unit tests of the scheduler core; it never stands in for the engine elsewhere.
 * It keeps a persistent batch like a real worker and a fake KV pool (one token id per slot), and it
 * asserts the step protocol: ids known/unknown as they should be, numComputedTokens in sync, only
 * known tokens scheduled, block tables covering every slot, no block written while another live
 * request holds it, and every token the step attends to (all earlier positions, prefix hits
 * included) present in the request's blocks. KV reads are checked before any write of the step, so
 * sharing a block that the same step fills is caught. With KV cache groups it checks each group's
 * table (blockIds[i * numGroups + g]): a sliding-window group must hold the window of every query
 * of the step, and its entries before that window are dead (the scheduler may have reused those
 * blocks: the worker keeps stale ids there and never reads them). Samples tokenFn(id, position).
 */
export class FakeExecutor {
  /** kv[blockId][slot] = token id whose KV the slot holds, -1 = never written. */
  readonly kv: Int32Array[];
  readonly states = new Map<string, FakeRequestState>();
  numSteps = 0;
  /** The embedding vectors of the last execute(), for update()'s third argument. */
  pooled: PooledVector[] = [];

  constructor(
    readonly blockSize: number,
    numBlocks: number,
    readonly tokenFn: FakeTokenFn = positionToken,
    readonly groups: readonly KVCacheGroupSpec[] = FULL_ATTENTION_ONLY,
  ) {
    this.kv = Array.from({ length: numBlocks }, () => new Int32Array(blockSize).fill(-1));
  }

  /** First position whose KV group g still needs when `numComputed` tokens are computed. */
  private firstLive(g: number, numComputed: number): number {
    return numSkippedTokens(at(this.groups, g), numComputed);
  }

  /** Group g's block of `position` in the request's table (-1: null). */
  private blockOf(state: FakeRequestState, g: number, position: number): number {
    return at(state.blockIds, Math.floor(position / this.blockSize) * this.groups.length + g);
  }

  execute(step: SchedulerOutput): SampledToken[] {
    this.numSteps++;
    for (const id of step.finishedIds) assert.ok(this.states.delete(id), `finished ${id} unknown to the worker`);
    for (const id of step.preemptedIds) assert.ok(this.states.delete(id), `preempted ${id} unknown to the worker`);
    const work: [string, FakeRequestState, number][] = [];
    for (const r of step.newRequests) {
      assert.ok(!this.states.has(r.requestId), `new request ${r.requestId} already held`);
      const state: FakeRequestState = {
        tokenIds: Array.from(r.tokenIds),
        blockIds: r.blockIds.slice(),
        numComputed: r.numComputedTokens,
      };
      if (r.pooling) {
        // As the real worker refuses: mean / CLS pooling needs every hidden state computed here.
        assert.ok(
          r.pooling.type === 'last' || r.numComputedTokens === 0,
          `${r.requestId}: ${r.pooling.type} from a cache hit`,
        );
        state.pooling = r.pooling;
        state.cachedAtAdmission = r.numComputedTokens;
      }
      this.states.set(r.requestId, state);
      work.push([r.requestId, state, r.numScheduledTokens]);
    }
    for (const r of step.cachedRequests) {
      const state = this.states.get(r.requestId);
      assert.ok(state, `cached request ${r.requestId} unknown`);
      assert.equal(r.numComputedTokens, state.numComputed, `${r.requestId}: numComputedTokens out of sync`);
      state.blockIds.push(...r.newBlockIds);
      work.push([r.requestId, state, r.numScheduledTokens]);
    }
    assert.equal(
      work.reduce((n, [, , k]) => n + k, 0),
      step.numScheduledTokens,
    );

    const G = this.groups.length;
    const holders = new Map<number, number>();
    for (const state of this.states.values()) {
      const live = new Set<number>();
      for (let g = 0; g < G; g++) {
        const first = Math.floor(this.firstLive(g, state.numComputed) / this.blockSize);
        for (let i = first; i * G + g < state.blockIds.length; i++) live.add(at(state.blockIds, i * G + g));
      }
      live.delete(-1);
      for (const b of live) holders.set(b, (holders.get(b) ?? 0) + 1);
    }
    for (const [id, state, n] of work) {
      assert.ok(n > 0, `${id}: scheduled with 0 tokens`);
      const end = state.numComputed + n;
      assert.ok(end <= state.tokenIds.length, `${id}: scheduled past its known tokens`);
      assert.equal(state.blockIds.length % G, 0, `${id}: tables of unequal length`);
      assert.ok(Math.ceil(end / this.blockSize) * G <= state.blockIds.length, `${id}: block table too short`);
      for (let g = 0; g < G; g++) {
        for (let p = this.firstLive(g, state.numComputed); p < state.numComputed; p++) {
          assert.equal(this.slot(state, g, p), state.tokenIds[p], `${id}: KV of position ${p} missing in group ${g}`);
        }
        for (let p = state.numComputed; p < end; p++) {
          const b = this.blockOf(state, g, p);
          assert.ok(b >= 0, `${id}: writes position ${p} of group ${g} into the null block`);
          assert.equal(holders.get(b), 1, `${id}: writes into a shared block at ${p} (group ${g})`);
        }
      }
    }
    const sampled: SampledToken[] = [];
    this.pooled = [];
    for (const [id, state, n] of work) {
      for (let p = state.numComputed; p < state.numComputed + n; p++) {
        for (let g = 0; g < G; g++) at(this.kv, this.blockOf(state, g, p))[p % this.blockSize] = at(state.tokenIds, p);
      }
      state.numComputed += n;
      if (state.numComputed === state.tokenIds.length && state.pooling) {
        this.pooled.push({ requestId: id, embedding: fakeEmbedding(state.tokenIds, state.cachedAtAdmission!) });
      } else if (state.numComputed === state.tokenIds.length) {
        const tokenId = this.tokenFn(id, state.tokenIds.length);
        state.tokenIds.push(tokenId);
        sampled.push({ requestId: id, tokenId, logprob: -0.25, top: [{ tokenId, logprob: -0.25 }] });
      }
    }
    return sampled;
  }

  private slot(state: FakeRequestState, g: number, position: number): number {
    const b = this.blockOf(state, g, position);
    return b < 0 ? -1 : at(at(this.kv, b), position % this.blockSize);
  }
}
