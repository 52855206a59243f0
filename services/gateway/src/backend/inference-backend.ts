import type { ModelCard, OutputEvent, RequestJob } from '@loom/common';

/**
 * Everything the HTTP layer needs from the rest of the cluster, and nothing more (TGI's router
 * idea): controllers never touch Redis, so they can be tested against a fake and the transport can
 * change without touching the API code.
 */
export interface InferenceBackend {
  /** Models some worker currently serves (may be cached for a few seconds). */
  listModels(): Promise<ModelCard[]>;
  /** One model's card, or undefined when no worker serves it. */
  getModel(id: string): Promise<ModelCard | undefined>;
  /** Accept one request. Rejects with QueueFullError when the model's queue is at its bound. */
  submit(job: RequestJob): Promise<void>;
  /**
   * The request's output events in order, from the first one (so a late reader misses nothing), in
   * bursts: each item holds the events that arrived together (never empty), so a response writes
   * them in one go. Ends after every one of the `n` choices has a 'finish' event, after an 'error'
   * event (each the last of its burst), or when `signal` aborts (then it just returns).
   */
  events(requestId: string, signal: AbortSignal, n?: number): AsyncIterable<OutputEvent[]>;
  /** Ask the scheduler to stop a request everywhere (idempotent, fire-and-forget). */
  cancel(requestId: string, reason: string): Promise<void>;
  /** How output streams are being read now (for /metrics), where the backend reads them itself. */
  streamStats?(): StreamStats;
  /** Resolves when the backing store answers; rejects otherwise (drives /health). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The backend's output stream reading: blocking Redis connections, and events held for clients. */
export interface StreamStats {
  connections: number;
  bufferedEvents: number;
}

/** The model's queue already holds `limit` waiting requests: the client should retry later (429). */
export class QueueFullError extends Error {
  constructor(
    readonly model: string,
    readonly limit: number,
    /** Seconds the client should wait before retrying (the Retry-After header). */
    readonly retryAfterS = 1,
  ) {
    super(`The queue for model '${model}' is full (${limit} requests waiting); retry later.`);
    this.name = 'QueueFullError';
  }
}
