import type { Redis } from 'ioredis';
import { ApiError } from '../errors/api-error.js';
import { withTimeout } from '../http/with-timeout.js';
import type { ConversationItem } from './response-items.js';

/** What `store: true` keeps of one response. */
export interface StoredResponse {
  /** The Response object as the client received it. */
  response: Record<string, unknown> & { output: ConversationItem[] };
  /** The conversation before this response's output: earlier turns (previous_response_id), then `input`. */
  conversation: ConversationItem[];
  /** How many of `conversation`'s items came with this response's own request (its input_items). */
  inputCount: number;
}

/** Stored responses, each visible only to the API key that created it. */
export interface ResponseStore {
  put(owner: string, id: string, record: StoredResponse): Promise<void>;
  get(owner: string, id: string): Promise<StoredResponse | undefined>;
  /** Whether there was one to delete. */
  delete(owner: string, id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Redis waits (queues commands) while it is down; a request must get its 503 in bounded time. */
const REDIS_TIMEOUT_MS = 5000;

/**
 * Responses in Redis as JSON strings under `loom:response:<owner>:<id>` with a TTL (`--responses-ttl`).
 * The owner (the API key's id) is part of the key, so another key's id is simply not found: nothing
 * tells a client whether a response it does not own exists.
 */
export class RedisResponseStore implements ResponseStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  async put(owner: string, id: string, record: StoredResponse): Promise<void> {
    await this.call(() => this.redis.set(keyOf(owner, id), JSON.stringify(record), 'EX', this.ttlSeconds));
  }

  async get(owner: string, id: string): Promise<StoredResponse | undefined> {
    const raw = await this.call(() => this.redis.get(keyOf(owner, id)));
    return raw === null ? undefined : (JSON.parse(raw) as StoredResponse);
  }

  async delete(owner: string, id: string): Promise<boolean> {
    return (await this.call(() => this.redis.del(keyOf(owner, id)))) > 0;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private async call<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(op(), REDIS_TIMEOUT_MS);
    } catch (err) {
      throw new ApiError(
        503,
        `The response store (Redis) did not answer: ${(err as Error).message}. Retry later.`,
        'service_unavailable_error',
        null,
        'store_unavailable',
        { 'retry-after': '1' },
      );
    }
  }
}

const keyOf = (owner: string, id: string) => `loom:response:${owner}:${id}`;
