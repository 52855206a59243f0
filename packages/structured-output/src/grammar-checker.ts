import { Worker } from 'node:worker_threads';
import { structuredOutputKey, type StructuredOutputSpec } from '@loom/common';
import type { VocabCard } from './grammar-compilers.js';
import { STRUCTURED_OUTPUT_LIMITS } from './limits.js';

/** @internal The checker's message to its thread: the card travels with the first spec of each vocabulary. */
export interface CheckRequest {
  id: number;
  vocabKey: string;
  card?: VocabCard;
  spec: StructuredOutputSpec;
}

/** @internal */
export type CheckReply = { id: number; ok: true; compileMs: number } | { id: number; ok: false; message: string };

export type CheckResult =
  | {
      ok: true;
      /** Milliseconds the compile took in the checker's thread; 0 when the spec was already known good. */
      compileMs: number;
    }
  /** `busy`: refused unchecked, MAX_QUEUED checks were waiting (not the spec's fault: retry later). */
  | { ok: false; message: string; busy?: true };

/** Checks waiting at most: a flood of new specs is refused (busy) instead of queueing unbounded compiles. */
export const MAX_QUEUED = 64;

/** Known-good (vocabulary, spec) pairs remembered: a client repeating its schema pays no compile here. */
const KNOWN_GOOD = 1024;

/**
 * Compiles a spec for a model's vocabulary exactly as the scheduler will, in a worker thread of its own,
 * so that a spec that xgrammar rejects, or that takes longer than the limit to compile, is refused
 * when the request arrives (a 400) instead of failing later in the scheduler. Checks run one at a time;
 * a compile past `timeoutMs` is stopped by terminating the thread (a fresh one takes the next check),
 * which is also what happens after any xgrammar error inside the thread (its instance is replaced).
 */
export class GrammarChecker {
  private worker: Worker | undefined;
  /** Vocabularies the current thread has been sent. */
  private sent = new Set<string>();
  private readonly queue: { req: CheckRequest; card: VocabCard; resolve: (r: CheckResult) => void }[] = [];
  private inFlight: { req: CheckRequest; resolve: (r: CheckResult) => void; timer: NodeJS.Timeout } | undefined;
  private readonly good = new Map<string, true>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly timeoutMs: number = STRUCTURED_OUTPUT_LIMITS.compileTimeoutMs) {}

  /** `vocabKey` names the card's vocabulary (e.g. `${modelId}@${createdAt}`); the card is read only when new. */
  check(vocabKey: string, card: VocabCard, spec: StructuredOutputSpec): Promise<CheckResult> {
    if (this.closed) return Promise.reject(new Error('grammar checker is closed'));
    const goodKey = `${vocabKey}\n${structuredOutputKey(spec)}`;
    if (this.good.has(goodKey)) {
      this.good.delete(goodKey);
      this.good.set(goodKey, true);
      return Promise.resolve({ ok: true, compileMs: 0 });
    }
    if (this.queue.length >= MAX_QUEUED)
      return Promise.resolve({ ok: false, busy: true, message: `${MAX_QUEUED} grammar checks are already waiting` });
    return new Promise<CheckResult>((resolve) => {
      const req: CheckRequest = { id: this.nextId++, vocabKey, spec };
      this.queue.push({
        req,
        card,
        resolve: (r) => {
          if (r.ok) {
            this.good.set(goodKey, true);
            if (this.good.size > KNOWN_GOOD) this.good.delete(this.good.keys().next().value!);
          }
          resolve(r);
        },
      });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    if (this.inFlight) {
      clearTimeout(this.inFlight.timer);
      this.inFlight.resolve({ ok: false, message: 'the grammar checker closed' });
      this.inFlight = undefined;
    }
    for (const q of this.queue.splice(0)) q.resolve({ ok: false, message: 'the grammar checker closed' });
    await w?.terminate();
  }

  private pump(): void {
    if (this.inFlight || this.closed) return;
    const next = this.queue.shift();
    if (!next) return;
    const w = this.thread();
    // The card travels only with the first spec of its vocabulary the current thread sees.
    const req: CheckRequest = this.sent.has(next.req.vocabKey) ? next.req : { ...next.req, card: next.card };
    this.sent.add(next.req.vocabKey);
    const timer = setTimeout(() => {
      this.finish({
        ok: false,
        message: `did not compile within ${this.timeoutMs / 1000} s; simplify it`,
      });
      this.restart();
    }, this.timeoutMs);
    this.inFlight = { req: next.req, resolve: next.resolve, timer };
    w.postMessage(req);
  }

  private finish(r: CheckResult): void {
    const f = this.inFlight;
    if (!f) return;
    clearTimeout(f.timer);
    this.inFlight = undefined;
    f.resolve(r);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./check-thread.js', import.meta.url));
    w.unref();
    w.on('message', (reply: CheckReply) => {
      if (this.worker !== w || this.inFlight?.req.id !== reply.id) return;
      this.finish(reply.ok ? { ok: true, compileMs: reply.compileMs } : { ok: false, message: reply.message });
      this.pump();
    });
    w.on('error', (err) => {
      if (this.worker !== w) return;
      this.finish({ ok: false, message: `the grammar compiler failed: ${err.message}` });
      this.restart();
    });
    this.worker = w;
    this.sent = new Set();
    return w;
  }

  /** Drop the thread (stuck or broken); the next check starts a new one. */
  private restart(): void {
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
    this.pump();
  }
}
