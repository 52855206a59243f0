import { Worker } from 'node:worker_threads';
import type { VocabCard } from '@loom/structured-output';
import type { GrammarReply, GrammarRequest } from './grammar-protocol.js';

type Pending = { resolve: (r: GrammarReply) => void; reject: (e: Error) => void };

/** Thrown for requests in flight when a grammar thread died: every matcher it held is gone. */
export class GrammarThreadLost extends Error {}

/**
 * The main-thread end of one grammar thread: numbered requests answered in order, model vocabularies
 * sent once per thread. A thread that dies (an uncaught error) is replaced on the next request; what
 * was in flight rejects with GrammarThreadLost and `onLost` runs, so the manager rebuilds its matchers.
 */
export class GrammarShard {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly cards = new Map<string, VocabCard>();
  private sent = new Set<string>();
  private nextId = 1;

  constructor(private readonly onLost: () => void) {}

  /** Makes `card` known to this shard (sent to the thread before the next request that needs it). */
  addModel(vocabKey: string, card: VocabCard): void {
    this.cards.set(vocabKey, card);
  }

  request(
    make: (id: number) => Extract<GrammarRequest, { id: number }>,
    vocabKeys: Iterable<string>,
  ): Promise<GrammarReply> {
    const w = this.thread();
    this.sendModels(w, vocabKeys);
    const m = make(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(m.id, { resolve, reject });
      w.postMessage(m);
    });
  }

  /** A message without an answer (close). */
  post(m: Extract<GrammarRequest, { op: 'close' }>): void {
    this.worker?.postMessage(m);
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.failPending(new GrammarThreadLost('the grammar thread was closed'));
    await w?.terminate();
  }

  private sendModels(w: Worker, vocabKeys: Iterable<string>): void {
    for (const key of vocabKeys) {
      if (this.sent.has(key)) continue;
      const card = this.cards.get(key);
      if (!card) throw new Error(`no model card registered for ${key}`);
      w.postMessage({ op: 'model', vocabKey: key, card } satisfies GrammarRequest);
      this.sent.add(key);
    }
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./grammar-thread.js', import.meta.url));
    w.unref();
    w.on('message', (r: GrammarReply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      p?.resolve(r);
    });
    w.on('error', (err) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.failPending(new GrammarThreadLost(`the grammar thread failed: ${err.message}`));
      this.onLost();
    });
    this.worker = w;
    this.sent = new Set();
    return w;
  }

  private failPending(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}
