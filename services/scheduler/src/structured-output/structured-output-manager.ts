import { structuredOutputKey, type ModelCard, type StructuredOutputSpec, at } from '@loom/common';
import { bitmaskWords } from '@loom/structured-output';
import type { GrammarReply, MatcherInit, SeqError } from './grammar-protocol.js';
import { GrammarShard, GrammarThreadLost } from './grammar-shard.js';

/** What the manager keeps per constrained sequence (the grammar state itself lives in its shard's thread). */
interface Tracked {
  shard: number;
  vocabKey: string;
  spec: StructuredOutputSpec;
  specKey: string;
  stopIds: readonly number[];
  words: number;
  /** Output tokens the shard's matcher has accepted (or will have, once the messages sent are served). */
  accepted: number[];
  /** Rebuild from the output tokens at the next fill (its thread lost it, or it was re-admitted). */
  rebuild: boolean;
  /** Re-admitted (failover): compare the output with `accepted` in full at the next fill. */
  verify: boolean;
}

/** One constrained sequence that samples this step, and every token it has generated so far. */
export interface FillItem {
  seqId: string;
  output: ArrayLike<number>;
}

export interface FillResult {
  /** The allowed-token mask of each sequence asked for, as the step message carries it. */
  masks: Map<string, Uint8Array>;
  /** Sequences whose grammar state broke (the output left the grammar): fail them. */
  errors: SeqError[];
  /** Wall milliseconds of the fill, round trip to the grammar threads included. */
  ms: number;
}

/**
 * vLLM's StructuredOutputManager for Loom: beside the scheduler core, never inside it. It owns each
 * constrained sequence's grammar matcher (in grammar threads: compiles never block the event loop, and a
 * step's masks are filled by every thread at once),
 * computes the allowed-token masks of the sequences that sample in a step (fill, called by the step
 * loop after schedule()), and advances matchers by the tokens update() appended, sent with the next fill.
 *
 * Invariant (recompute): a matcher's state is a function of the sequence's output tokens alone. The
 * manager tracks the tokens each matcher accepted; when a sequence comes back with output that does not
 * extend them (failover re-admission, a scheduler that resumed the request from Redis, a grammar thread
 * that was lost), the matcher is rebuilt by replaying the output, so a recomputed stream stays inside
 * the grammar. Preemption keeps the output, hence the matcher.
 */
export class StructuredOutputManager {
  private readonly shards: GrammarShard[];
  private readonly seqs = new Map<string, Tracked>();
  private readonly vocabs = new Map<string, { words: number; stopIds: readonly number[] }>();

  constructor(threads: number) {
    this.shards = Array.from({ length: Math.max(1, threads) }, (_, i) => new GrammarShard(() => this.lost(i)));
  }

  has(seqId: string): boolean {
    return this.seqs.has(seqId);
  }

  get size(): number {
    return this.seqs.size;
  }

  /**
   * Compiles the constraint (cached per shard) and creates the matchers of a request's sequences,
   * replaying the output each already has (a resumed request); call before the sequences are routed
   * (vLLM's WAITING_FOR_FSM). Returns why it failed, or null.
   */
  async open(
    card: ModelCard,
    spec: StructuredOutputSpec,
    seqs: readonly { seqId: string; outputTokenIds: readonly number[] }[],
  ): Promise<{ error: string | null; compileMs: number[] }> {
    const vocabKey = `${card.modelId}@${card.createdAt}`;
    const vocab = this.addModel(vocabKey, card);
    const specKey = structuredOutputKey(spec);
    const shard = this.leastLoadedShard();
    const inits: MatcherInit[] = seqs.map((s) => ({
      seqId: s.seqId,
      vocabKey,
      spec,
      specKey,
      tokens: [...s.outputTokenIds],
    }));
    for (const s of seqs) {
      this.seqs.set(s.seqId, {
        shard,
        vocabKey,
        spec,
        specKey,
        stopIds: vocab.stopIds,
        words: vocab.words,
        accepted: [...s.outputTokenIds],
        rebuild: false,
        verify: false,
      });
    }
    let reply: GrammarReply;
    try {
      reply = await at(this.shards, shard).request((id) => ({ op: 'open', id, seqs: inits }), [vocabKey]);
    } catch (err) {
      for (const s of seqs) this.seqs.delete(s.seqId);
      return { error: `the grammar could not be compiled: ${(err as Error).message}`, compileMs: [] };
    }
    if (reply.op !== 'open') throw new Error('grammar thread answered out of order');
    if (reply.lost) this.lost(shard);
    const [firstError] = reply.errors;
    if (firstError !== undefined) {
      for (const s of seqs) this.close(s.seqId);
      return { error: firstError.message, compileMs: reply.compileMs };
    }
    return { error: null, compileMs: reply.compileMs };
  }

  /** The sequence was (re)admitted to a worker's core: check its output against the matcher's at the next fill. */
  admitted(seqId: string): void {
    const t = this.seqs.get(seqId);
    if (t) t.verify = true;
  }

  /** Whether `tokenId` completes the sequence's grammar (a stop token its grammar allowed): it must finish. */
  endsGrammar(seqId: string, tokenId: number): boolean {
    return this.seqs.get(seqId)?.stopIds.includes(tokenId) ?? false;
  }

  /**
   * Advances the matchers of `items` to their output so far and returns each one's mask for this step.
   * One round trip per shard involved, all shards in parallel.
   */
  async fill(items: readonly FillItem[]): Promise<FillResult> {
    const t0 = performance.now();
    const masks = new Map<string, Uint8Array>();
    const errors: SeqError[] = [];
    let todo = items.filter((it) => this.seqs.has(it.seqId));
    // A shard lost mid-fill leaves its sequences to be rebuilt: one more round for them, then give up.
    for (let round = 0; round < 2 && todo.length > 0; round++) {
      const retry: FillItem[] = [];
      const byShard = new Map<number, FillItem[]>();
      for (const it of todo) {
        const s = this.seqs.get(it.seqId)!.shard;
        byShard.set(s, [...(byShard.get(s) ?? []), it]);
      }
      await Promise.all(
        [...byShard].map(async ([shard, group]) => {
          const { vocabKeys, ...msg } = this.fillMessage(group);
          let reply: GrammarReply;
          try {
            reply = await at(this.shards, shard).request((id) => ({ op: 'fill', id, ...msg }), vocabKeys);
          } catch (err) {
            if (!(err instanceof GrammarThreadLost)) throw err;
            retry.push(...group);
            return;
          }
          if (reply.op !== 'fill') throw new Error('grammar thread answered out of order');
          if (reply.lost) {
            this.lost(shard);
            retry.push(...group.filter((it) => !reply.errors.some((e) => e.seqId === it.seqId)));
            return;
          }
          errors.push(...reply.errors);
          const bytes = msg.words * 4;
          group.forEach((it, i) => masks.set(it.seqId, new Uint8Array(reply.words, i * bytes, bytes)));
        }),
      );
      todo = retry;
    }
    for (const it of todo) errors.push({ seqId: it.seqId, message: 'the grammar thread was lost twice in one step' });
    return { masks, errors, ms: performance.now() - t0 };
  }

  /** Forget a sequence (finished, aborted, failed). */
  close(seqId: string): void {
    const t = this.seqs.get(seqId);
    if (!t) return;
    this.seqs.delete(seqId);
    at(this.shards, t.shard).post({ op: 'close', seqIds: [seqId] });
  }

  async shutdown(): Promise<void> {
    this.seqs.clear();
    await Promise.all(this.shards.map((s) => s.close()));
  }

  private addModel(vocabKey: string, card: ModelCard): { words: number; stopIds: readonly number[] } {
    let v = this.vocabs.get(vocabKey);
    if (!v) {
      v = {
        words: bitmaskWords(Math.max(card.vocabSize, card.tokenizer.tokens.length)),
        stopIds: [...card.eosTokenIds],
      };
      this.vocabs.set(vocabKey, v);
      for (const s of this.shards) s.addModel(vocabKey, card);
    }
    return v;
  }

  /** What one shard needs for `group`: tokens to accept since last time, or a rebuild from the whole output. */
  private fillMessage(group: FillItem[]) {
    const advance: { seqId: string; tokens: number[] }[] = [];
    const init: MatcherInit[] = [];
    const vocabKeys = new Set<string>();
    let words = 0;
    for (const it of group) {
      const t = this.seqs.get(it.seqId)!;
      vocabKeys.add(t.vocabKey);
      words = t.words;
      const out = it.output;
      const n = t.accepted.length;
      const extends_ =
        out.length >= n && (t.verify ? isPrefix(t.accepted, out) : n === 0 || out[n - 1] === t.accepted[n - 1]);
      if (t.rebuild || !extends_) {
        t.accepted = Array.from(out);
        init.push({ seqId: it.seqId, vocabKey: t.vocabKey, spec: t.spec, specKey: t.specKey, tokens: t.accepted });
      } else if (out.length > n) {
        const tokens = Array.prototype.slice.call(out, n) as number[];
        for (const x of tokens) t.accepted.push(x);
        advance.push({ seqId: it.seqId, tokens });
      }
      t.rebuild = false;
      t.verify = false;
    }
    return { advance, init, seqIds: group.map((it) => it.seqId), words, vocabKeys };
  }

  /**
   * Where a new request's sequences go: the shard holding the fewest, so a step's masks are filled by all
   * threads in parallel. Each shard compiles a spec the first time one of its sequences needs it.
   */
  private leastLoadedShard(): number {
    const load = this.shards.map(() => 0);
    for (const t of this.seqs.values()) load[t.shard] = at(load, t.shard) + 1;
    return load.indexOf(Math.min(...load));
  }

  /** A shard's thread lost every matcher: rebuild each of its sequences at its next fill. */
  private lost(shard: number): void {
    for (const t of this.seqs.values()) if (t.shard === shard) t.rebuild = true;
  }
}

function isPrefix(a: readonly number[], b: ArrayLike<number>): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
