import { at } from '@loom/common';
import type { ModelCard, OutputEvent, RequestJob } from '@loom/common';
import { QueueFullError, type InferenceBackend } from '../backend/inference-backend.js';

/** One scripted output event, sent `delayMs` after the previous one. */
export interface ScriptStep {
  event: OutputEvent;
  delayMs?: number;
}

/**
 * TEST-ONLY stand-in for the cluster behind the gateway: serves the model cards it is given,
 * records submitted jobs and cancellations, and answers each job with the events its script
 * returns. It never generates anything itself, so tests state exactly what the "model" says.
 */
export class FakeBackend implements InferenceBackend {
  readonly submitted: RequestJob[] = [];
  readonly cancels: { requestId: string; reason: string }[] = [];
  queueFull = false;
  pingFails = false;
  /** How long submit() takes (a slow queue): a client can hang up before its job is queued. */
  submitDelayMs = 0;
  private readonly streams = new Map<string, { events: OutputEvent[]; wake?: () => void }>();
  private readonly cancelWaiters: (() => void)[] = [];

  constructor(
    private readonly cards: ModelCard[],
    public script: (job: RequestJob) => ScriptStep[] = () => [],
  ) {}

  async listModels(): Promise<ModelCard[]> {
    return this.cards;
  }

  async getModel(id: string): Promise<ModelCard | undefined> {
    return this.cards.find((c) => c.modelId === id);
  }

  async submit(job: RequestJob): Promise<void> {
    if (this.queueFull) throw new QueueFullError(job.model, 0, 2);
    if (this.submitDelayMs) await new Promise((r) => setTimeout(r, this.submitDelayMs));
    this.submitted.push(job);
    const stream = { events: [] as OutputEvent[], wake: undefined as (() => void) | undefined };
    this.streams.set(job.requestId, stream);
    void (async () => {
      for (const step of this.script(job)) {
        // unref: a long scripted delay must not keep a finished test process alive.
        if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs).unref());
        stream.events.push(step.event);
        stream.wake?.();
      }
    })();
  }

  /** Bursts as the Redis backend gives them: each holds the scripted events there when it is pulled. */
  async *events(requestId: string, signal: AbortSignal, n = 1): AsyncIterable<OutputEvent[]> {
    const stream = this.streams.get(requestId);
    if (!stream) return;
    const finished = new Set<number>();
    let i = 0;
    while (!signal.aborted) {
      if (i >= stream.events.length) {
        await new Promise<void>((resolve) => {
          stream.wake = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        continue;
      }
      const burst: OutputEvent[] = [];
      let last = false;
      while (i < stream.events.length && !last) {
        const ev = at(stream.events, i++);
        burst.push(ev);
        last = ev.type === 'error' || (ev.type === 'finish' && finished.add(ev.index).size >= n);
      }
      yield burst;
      if (last) return;
    }
  }

  async cancel(requestId: string, reason: string): Promise<void> {
    this.cancels.push({ requestId, reason });
    for (const w of this.cancelWaiters.splice(0)) w();
  }

  /** Resolves at the next cancel() (or at once if one already happened). */
  waitForCancel(timeoutMs = 5000): Promise<void> {
    if (this.cancels.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no cancel within timeout')), timeoutMs);
      this.cancelWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async ping(): Promise<void> {
    if (this.pingFails) throw new Error('fake backend is down');
  }

  async close(): Promise<void> {}
}

/** A script that answers every choice with `pieces` as token events, then a finish. */
export function scriptedText(
  pieces: string[],
  finishReason: 'stop' | 'length' = 'stop',
  delayMs = 0,
): (job: RequestJob) => ScriptStep[] {
  return (job) => {
    const steps: ScriptStep[] = [];
    for (let index = 0; index < job.n; index++) {
      pieces.forEach((text, k) => steps.push({ event: { type: 'token', index, tokenIds: [100 + k], text }, delayMs }));
      steps.push({
        event: {
          type: 'finish',
          index,
          finishReason,
          promptTokens: job.promptTokenIds.length,
          completionTokens: pieces.length,
        },
      });
    }
    return steps;
  };
}
