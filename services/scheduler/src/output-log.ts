import type { Redis } from 'ioredis';
import { OUTPUT_STREAM_FIELD, OUTPUT_STREAM_TTL_S, outputStreamKey, type OutputEvent } from '@loom/common';

/** What a request's output stream already holds, per choice: the basis of resuming after a failover. */
export interface StreamedSoFar {
  tokenIds: number[][];
  emittedChars: number[];
  finished: boolean[];
  /** Whether the choice's prompt_logprobs event is already written (a resume must not write it again). */
  promptLogprobs: boolean[];
  /** An error event ends the whole request. */
  errored: boolean;
}

/**
 * The only writer of request output streams. Appends are queued on one connection (ioredis keeps
 * order per connection), so events of one choice reach Redis in the order they were produced.
 */
export class OutputLog {
  constructor(private readonly redis: Redis) {}

  /** With `final`, the stream then expires, so finished requests do not pile up in Redis. */
  append(requestId: string, events: OutputEvent[], final = false): Promise<unknown> {
    const key = outputStreamKey(requestId);
    const p = this.redis.pipeline();
    for (const e of events) p.xadd(key, '*', OUTPUT_STREAM_FIELD, JSON.stringify(e));
    if (final) p.expire(key, OUTPUT_STREAM_TTL_S);
    return p.exec();
  }

  async read(requestId: string, n: number): Promise<StreamedSoFar> {
    const entries = await this.redis.xrange(outputStreamKey(requestId), '-', '+');
    const out: StreamedSoFar = {
      tokenIds: Array.from({ length: n }, () => []),
      emittedChars: new Array<number>(n).fill(0),
      finished: new Array<boolean>(n).fill(false),
      promptLogprobs: new Array<boolean>(n).fill(false),
      errored: false,
    };
    for (const [, fields] of entries) {
      const e = JSON.parse(fields[1]!) as OutputEvent;
      if (e.type === 'token') {
        out.tokenIds[e.index]!.push(...e.tokenIds);
        out.emittedChars[e.index]! += e.text.length;
      } else if (e.type === 'finish') {
        out.finished[e.index] = true;
      } else if (e.type === 'prompt_logprobs') {
        out.promptLogprobs[e.index] = true;
      } else {
        out.errored = true;
      }
    }
    return out;
  }
}
