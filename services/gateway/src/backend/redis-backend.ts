import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  BULLMQ_PREFIX,
  CANCEL_STREAM_KEY,
  MODELS_KEY,
  OUTPUT_STREAM_FIELD,
  createRedis,
  modelCardKey,
  outputStreamKey,
  requestQueueName,
  type CancelEvent,
  type Logger,
  type ModelCard,
  type OutputEvent,
  type RequestJob,
} from '@loom/common';
import { QueueFullError, type InferenceBackend, type StreamStats } from './inference-backend.js';
import { OutputStreamReader } from './output-stream-reader.js';

export interface RedisBackendOptions {
  redisUrl: string;
  /** Waiting requests per model before submit() rejects with QueueFullError. */
  maxQueueLength: number;
  /** How long model cards are cached (ms). Workers publish rarely; the hot path must not GET per request. */
  cardTtlMs?: number;
  /** How long a count of a model's waiting jobs stands for the queue bound (ms); see waitingDepth. */
  queueDepthTtlMs?: number;
  /** XREAD BLOCK timeout; only bounds how long an idle read lasts. */
  blockMs?: number;
  /** A request that heard nothing for this long reads its own output stream (see OutputStreamReader). */
  outputPollMs?: number;
  /** Where connection errors go (ioredis prints them to stderr when nobody listens). */
  log?: Logger;
}

/** BullMQ job name of a generation request (the scheduler reads job.data, not the name). */
export const REQUEST_JOB_NAME = 'generate';

/** The cancel stream is a log, not a store: keep roughly the last 10k cancellations. */
const CANCEL_STREAM_MAXLEN = 10_000;

/** InferenceBackend over Redis: BullMQ for intake, Redis Streams for output and cancellation. */
export class RedisBackend implements InferenceBackend {
  private readonly redis: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly cardTtlMs: number;
  private readonly reader: OutputStreamReader;
  private listCache?: { at: number; cards: ModelCard[] };
  private readonly depthTtlMs: number;
  /** Per model: its waiting jobs at the last count (`at`, ms epoch) plus this gateway's adds since. */
  private readonly depth = new Map<string, { at: number; n: number }>();
  private readonly depthCounts = new Map<string, Promise<{ at: number; n: number }>>();
  /**
   * Parsed model cards by id, with the raw JSON they came from. A card holds the whole tokenizer
   * (a 32k vocabulary is ~1 MB of JSON): a refresh whose raw text is unchanged keeps the parsed card,
   * and concurrent requests share one refresh (`pending`), instead of each parsing its own copy.
   */
  private readonly cardCache = new Map<
    string,
    { at: number; card: ModelCard | undefined; raw?: string; pending?: Promise<ModelCard | undefined> }
  >();

  constructor(private readonly opts: RedisBackendOptions) {
    this.redis = createRedis(opts.redisUrl, 'loom-gateway');
    this.watchErrors(this.redis);
    this.cardTtlMs = opts.cardTtlMs ?? 3000;
    this.depthTtlMs = opts.queueDepthTtlMs ?? 100;
    this.reader = new OutputStreamReader(this.redis, {
      blockMs: opts.blockMs,
      pollMs: opts.outputPollMs,
      log: opts.log,
    });
  }

  async listModels(): Promise<ModelCard[]> {
    if (this.listCache && Date.now() - this.listCache.at < this.cardTtlMs) return this.listCache.cards;
    const ids = (await this.redis.smembers(MODELS_KEY)).sort();
    const raw = ids.length ? await this.redis.mget(ids.map(modelCardKey)) : [];
    const now = Date.now();
    const cards = ids.flatMap((id, i) => {
      const r = raw[i];
      return r ? [this.parseCard(id, r, now)] : [];
    });
    this.listCache = { at: now, cards };
    return cards;
  }

  getModel(id: string): Promise<ModelCard | undefined> {
    const hit = this.cardCache.get(id);
    if (hit && Date.now() - hit.at < this.cardTtlMs) return Promise.resolve(hit.card);
    if (hit?.pending) return hit.pending;
    const pending = this.fetchCard(id).finally(() => {
      const entry = this.cardCache.get(id);
      if (entry?.pending === pending) delete entry.pending;
    });
    this.cardCache.set(id, { ...(hit ?? { at: 0, card: undefined }), pending });
    return pending;
  }

  private async fetchCard(id: string): Promise<ModelCard | undefined> {
    const [member, raw] = await Promise.all([this.redis.sismember(MODELS_KEY, id), this.redis.get(modelCardKey(id))]);
    if (member && raw) return this.parseCard(id, raw, Date.now());
    this.cardCache.set(id, { at: Date.now(), card: undefined });
    return undefined;
  }

  /** The card of this raw JSON: the cached one when the text is the same, else parsed and cached. */
  private parseCard(id: string, raw: string, at: number): ModelCard {
    const hit = this.cardCache.get(id);
    const card = hit?.raw === raw && hit.card ? hit.card : (JSON.parse(raw) as ModelCard);
    this.cardCache.set(id, { at, card, raw });
    return card;
  }

  async submit(job: RequestJob): Promise<void> {
    const queue = this.queueFor(job.model);
    const depth = await this.waitingDepth(job.model, queue);
    if (depth.n >= this.opts.maxQueueLength) throw new QueueFullError(job.model, this.opts.maxQueueLength);
    // Counted until the next refresh, so a burst between two counts still meets the bound.
    depth.n += 1;
    // Its output is copied to this gateway's fan-in stream, which the reader reads for every request.
    const data: RequestJob = { ...job, replyTo: this.reader.replyTo };
    await queue.add(REQUEST_JOB_NAME, data, { jobId: job.requestId, removeOnComplete: true, removeOnFail: 1000 });
  }

  /**
   * The model's waiting jobs as last counted (at most `depthTtlMs` ago, one count in flight at a
   * time) plus this gateway's adds since: the queue bound costs a Redis round trip per `depthTtlMs`,
   * not one per request in front of every admission. A soft bound: other gateways' adds since the
   * count, and concurrent submits, may overshoot it by a few, which is fine for back-pressure.
   */
  private async waitingDepth(model: string, queue: Queue): Promise<{ at: number; n: number }> {
    const hit = this.depth.get(model);
    if (hit && Date.now() - hit.at < this.depthTtlMs) return hit;
    let pending = this.depthCounts.get(model);
    if (!pending) {
      pending = queue
        .getJobCountByTypes('wait', 'prioritized', 'delayed')
        .then((n) => {
          const d = { at: Date.now(), n };
          this.depth.set(model, d);
          return d;
        })
        .finally(() => this.depthCounts.delete(model));
      this.depthCounts.set(model, pending);
    }
    return pending;
  }

  events(requestId: string, signal: AbortSignal, n = 1): AsyncIterable<OutputEvent[]> {
    // The reader's own generator, not one more layer around it: each layer costs every stream a
    // few promises per step. It ends after the error event or the n-th choice's finish.
    const finished = new Set<number>();
    const isLast = (value: unknown) => {
      const event = value as OutputEvent;
      return event.type === 'error' || (event.type === 'finish' && finished.add(event.index).size >= n);
    };
    return this.reader.subscribe(outputStreamKey(requestId), signal, isLast) as AsyncIterable<OutputEvent[]>;
  }

  streamStats(): StreamStats {
    return { connections: this.reader.connections, bufferedEvents: this.reader.bufferedEntries };
  }

  async cancel(requestId: string, reason: string): Promise<void> {
    const event: CancelEvent = { requestId, reason };
    await this.redis.xadd(
      CANCEL_STREAM_KEY,
      'MAXLEN',
      '~',
      CANCEL_STREAM_MAXLEN,
      '*',
      OUTPUT_STREAM_FIELD,
      JSON.stringify(event),
    );
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.reader.close();
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.redis.disconnect();
  }

  /** Commands wait through a Redis outage (maxRetriesPerRequest: null); log the outage at most every few seconds. */
  private lastErrorLog = 0;
  private watchErrors(conn: Redis): void {
    conn.on('error', (err: Error) => {
      if (Date.now() - this.lastErrorLog < 5000) return;
      this.lastErrorLog = Date.now();
      this.opts.log?.warn({ err: err.message }, 'redis connection error; retrying');
    });
  }

  private queueFor(model: string): Queue {
    let q = this.queues.get(model);
    if (!q) {
      // BullMQ shares our connection for non-blocking commands (a Queue never blocks).
      q = new Queue(requestQueueName(model), { connection: this.redis, prefix: BULLMQ_PREFIX });
      this.queues.set(model, q);
    }
    return q;
  }
}
