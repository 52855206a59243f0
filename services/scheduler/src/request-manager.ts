import { encodeEmbedding, type FinishReason, type OutputEvent, type RequestJob, at } from '@loom/common';
import type { PromptLogprobs } from '@loom/proto';
import { ChoiceOutput } from './choice-output.js';
import type { AppendItem, OutputLog } from './output-log.js';
import { PromptLogprobsCollector } from './prompt-logprobs-collector.js';
import type { SeqOutput } from './seq-output.js';
import { promptOf, seqIdOf, seqSpecOf, type SeqSpec } from './seq-spec.js';
import type { ServedModel } from './served-model.js';

interface Tracked {
  job: RequestJob;
  choices: ChoiceOutput[];
  specs: SeqSpec[];
  open: number;
  /** Settles once every choice's final event is in Redis. */
  done: Promise<void>;
  resolve: () => void;
}

/** Recently cancelled request ids kept, so that a cancel which overtakes its job still wins. */
const CANCELLED_MEMORY = 10_000;

/**
 * Owns every in-flight request of this scheduler: its choices' detokenizers and stop checkers, and
 * the appends to its output stream. Step loops hand it step outputs and learn which sequences a
 * stop string ended. Nothing here blocks or awaits except the Redis appends it issues.
 */
export class RequestManager {
  private readonly requests = new Map<string, Tracked>();
  /** Cancelled request ids, oldest first: a job opened after (or while) its cancel arrived does not run. */
  private readonly cancelled = new Set<string>();
  /** Requests whose open() is reading their output stream now. */
  private readonly opening = new Map<string, Promise<{ seqs: SeqSpec[]; done: Promise<void> } | null>>();
  /**
   * Open sequences. `cachedTokens` is the first admission's prefix-cache hit: a recompute after a preemption or
   * on another worker does not change what the client's prompt was first served with.
   */
  private readonly bySeq = new Map<
    string,
    { t: Tracked; choice: ChoiceOutput; prompt?: PromptLogprobsCollector; cachedTokens?: number }
  >();

  constructor(
    private readonly log: OutputLog,
    /** Told when a sequence is over for good (finished, aborted, failed): its per-sequence state elsewhere can go. */
    private readonly onSeqDone: (seqId: string) => void = () => {},
  ) {}

  get size(): number {
    return this.requests.size;
  }

  /**
   * Start (or resume, after a scheduler failover) a request. Returns the sequences still to run and
   * a promise that settles once every choice's final event is in Redis; null if nothing is left.
   * A job delivered again while this scheduler still runs it (BullMQ hands out a job whose lock
   * lapsed, e.g. when this process was starved of CPU for longer than the lock) gets no sequences,
   * only the running request's completion: it is never run twice, and both deliveries end with it.
   */
  async open(
    job: RequestJob,
    model: ServedModel,
    /**
     * The job's first delivery ever (BullMQ's attemptsStarted is 1): no scheduler has written to its
     * output stream, so there is nothing to resume and the stream is not read (a round trip in front
     * of every admission). Every later delivery (a failover, a lapsed lock) reads it.
     */
    firstDelivery = false,
  ): Promise<{ seqs: SeqSpec[]; done: Promise<void> } | null> {
    if (this.cancelled.has(job.requestId)) return null;
    const running = this.requests.get(job.requestId);
    if (running) return { seqs: [], done: running.done };
    const opening = this.opening.get(job.requestId);
    if (opening) {
      const first = await opening;
      return first && { seqs: [], done: first.done };
    }
    const p = this.openNew(job, model, firstDelivery);
    this.opening.set(job.requestId, p);
    try {
      return await p;
    } finally {
      this.opening.delete(job.requestId);
    }
  }

  private async openNew(
    job: RequestJob,
    model: ServedModel,
    firstDelivery: boolean,
  ): Promise<{ seqs: SeqSpec[]; done: Promise<void> } | null> {
    if (this.cancelled.has(job.requestId)) return null;
    const soFar = firstDelivery ? this.log.start(job.requestId, job.n) : await this.log.read(job.requestId, job.n);
    // A cancel that arrived during the read found nothing to cancel yet: it wins now.
    if (this.cancelled.has(job.requestId) || soFar.errored || soFar.finished.every(Boolean)) return null;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const t: Tracked = { job, choices: [], specs: [], open: 0, done, resolve };
    // Nothing streamed yet (not a resume after a scheduler failover): its queue time is still to be observed.
    const fresh = soFar.tokenIds.every((ids) => ids.length === 0);
    for (let i = 0; i < job.n; i++) {
      const prompt = promptOf(job, i);
      const choice = new ChoiceOutput(i, model.tokenizer, prompt, job.sampling.stop, job.sampling.skipSpecialTokens);
      choice.replay(at(soFar.tokenIds, i), at(soFar.emittedChars, i));
      t.choices.push(choice);
      if (soFar.finished[i]) {
        choice.finished = true;
        continue;
      }
      t.open += 1;
      // A resume whose prompt_logprobs event is already in the stream neither asks for them again nor writes them twice.
      const wantPrompt = job.sampling.promptLogprobs != null && !soFar.promptLogprobs[i];
      const spec = seqSpecOf(job, model, i, {
        outputTokenIds: at(soFar.tokenIds, i),
        wantPromptLogprobs: wantPrompt,
        fresh,
      });
      t.specs.push(spec);
      this.bySeq.set(spec.seqId, {
        t,
        choice,
        ...(wantPrompt ? { prompt: new PromptLogprobsCollector(prompt.length) } : {}),
      });
    }
    this.requests.set(job.requestId, t);
    return { seqs: t.specs, done };
  }

  /**
   * Apply one step's outputs (and the prompt logprobs it scored, keyed by seq id); returns the
   * sequences a stop string ended (their core must finish them).
   */
  apply(outputs: SeqOutput[], promptLogprobs: readonly PromptLogprobs[] = []): { seqId: string; stop: string }[] {
    const stopped: { seqId: string; stop: string }[] = [];
    const events = new Map<Tracked, OutputEvent[]>();
    const listOf = (t: Tracked) => events.get(t) ?? events.set(t, []).get(t)!;
    for (const p of promptLogprobs) {
      const entry = this.bySeq.get(p.requestId);
      if (!entry?.prompt) continue;
      entry.prompt.add(p);
      const logprobs = entry.prompt.take();
      if (logprobs) listOf(entry.t).push({ type: 'prompt_logprobs', index: entry.choice.index, logprobs });
    }
    for (const o of outputs) {
      const entry = this.bySeq.get(o.seqId);
      if (!entry) continue;
      const { t, choice } = entry;
      entry.cachedTokens ??= o.cachedTokens;
      const list = listOf(t);
      // The prompt's event precedes the choice's first token event, whatever positions it still lacks.
      const prompt = entry.prompt?.take(true);
      if (prompt) list.push({ type: 'prompt_logprobs', index: choice.index, logprobs: prompt });
      let finished = o.finished;
      let byStopString = false;
      if (o.newTokenIds.length > 0) {
        // Ended by a token (EOS: no stop reason; a stop id: the id): its text is not output, as in
        // vLLM V1 (which matters when special tokens are kept: the EOS text would show).
        const byStopToken = finished?.reason === 'stop' && typeof finished.stopReason !== 'string';
        const step = choice.push(o.newTokenIds, o.logprobs, byStopToken);
        list.push(step.event);
        if (step.stop !== undefined) {
          stopped.push({ seqId: o.seqId, stop: step.stop });
          finished = { reason: 'stop', stopReason: step.stop };
          byStopString = true;
        }
      }
      if (finished) {
        const tail = byStopString ? '' : choice.flush();
        if (tail) list.push({ type: 'token', index: choice.index, tokenIds: [], text: tail });
        list.push(this.finishEvent(t, choice, finished.reason, finished.stopReason, o.pooled));
      }
    }
    this.writeAll([...events]);
    return stopped;
  }

  /** End a request everywhere with an error event (the gateway turns it into an HTTP error or an SSE error). */
  fail(requestId: string, status: number, code: string, message: string): string[] {
    const t = this.requests.get(requestId);
    if (!t) return [];
    const seqIds = this.openSeqs(t);
    for (const c of t.choices) c.finished = true;
    for (const id of seqIds) this.onSeqDone(id);
    t.open = 0;
    this.write(t, [{ type: 'error', status, code, message }]);
    return seqIds;
  }

  /**
   * Mark a request aborted (client went away); returns the sequences the cores must abort. A request
   * not open yet (its job still queued, or being opened) is remembered and never runs.
   */
  cancel(requestId: string): string[] {
    this.cancelled.add(requestId);
    if (this.cancelled.size > CANCELLED_MEMORY) this.cancelled.delete(this.cancelled.values().next().value!);
    const t = this.requests.get(requestId);
    if (!t) return [];
    const seqIds = this.openSeqs(t);
    this.write(
      t,
      t.choices.filter((c) => !c.finished).map((c) => this.finishEvent(t, c, 'abort', null)),
    );
    return seqIds;
  }

  has(requestId: string): boolean {
    return this.requests.has(requestId);
  }

  private openSeqs(t: Tracked): string[] {
    return t.choices.filter((c) => !c.finished).map((c) => seqIdOf(t.job.requestId, c.index));
  }

  private finishEvent(
    t: Tracked,
    choice: ChoiceOutput,
    reason: FinishReason,
    stopReason: string | number | null | undefined,
    pooled?: readonly number[],
  ): OutputEvent {
    choice.finished = true;
    t.open -= 1;
    const seqId = seqIdOf(t.job.requestId, choice.index);
    const cached = this.bySeq.get(seqId)?.cachedTokens;
    this.bySeq.delete(seqId);
    this.onSeqDone(seqId);
    const promptTokens = promptOf(t.job, choice.index).length;
    return {
      type: 'finish',
      index: choice.index,
      finishReason: reason,
      stopReason: stopReason ?? null,
      promptTokens,
      completionTokens: choice.numTokens,
      // A recompute's hit may reach into output tokens: only the prompt's part counts.
      ...(cached !== undefined ? { cachedTokens: Math.min(cached, promptTokens) } : {}),
      ...(pooled ? { embedding: encodeEmbedding(pooled) } : {}),
    };
  }

  private write(t: Tracked, events: OutputEvent[]): void {
    this.writeAll([[t, events]]);
  }

  /** One append for all the requests' events (a step's: one round trip, not one per request). */
  private writeAll(writes: [Tracked, OutputEvent[]][]): void {
    const items: AppendItem[] = [];
    const finished: Tracked[] = [];
    for (const [t, events] of writes) {
      if (events.length === 0) continue;
      const final = t.open <= 0;
      items.push({
        requestId: t.job.requestId,
        events,
        final,
        ...(t.job.replyTo !== undefined ? { replyTo: t.job.replyTo } : {}),
      });
      if (final) {
        this.requests.delete(t.job.requestId);
        for (const s of t.specs) this.bySeq.delete(s.seqId);
        finished.push(t);
      }
    }
    if (items.length === 0) return;
    const written = this.log.appendMany(items);

    // A job completes only once its last event is durable in Redis.
    const resolve = () => finished.forEach((t) => t.resolve());
    if (finished.length) written.then(resolve, resolve);
  }
}
