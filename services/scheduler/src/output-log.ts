import type { Redis } from 'ioredis';
import {
  OUTPUT_STREAM_FIELD,
  OUTPUT_STREAM_TTL_S,
  SCHEDULER_FENCE_KEY,
  outputStreamKey,
  type Logger,
  type OutputEvent,
} from '@loom/common';

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
 * Appends a request's events under explicit, consecutive entry ids `<ms>-<k>` (ms 0 for a stream
 * this writer started), and only for the current leader. KEYS: stream, fence counter. ARGV: fencing
 * token ('' = unfenced), expiry in seconds ('0' = none), ms, the first event's k, the stream field,
 * then the events.
 * - An entry whose id is already in the stream is skipped: that is a resend of the same append
 *   (ioredis resends commands whose reply a Redis restart lost), so delivery stays exactly-once.
 * - A term that is no longer the latest writes nothing (returns -1): a deposed leader's queued
 *   appends cannot interleave with its successor's, which continues from what the stream holds.
 * Returns the number of entries added.
 */
const APPEND = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local first = tonumber(ARGV[4])
local added = 0
for i = 6, #ARGV do
  local r = redis.pcall('XADD', KEYS[1], ARGV[3] .. '-' .. (first + i - 6), ARGV[5], ARGV[i])
  if type(r) ~= 'table' or not r.err then added = added + 1 end
end
if ARGV[2] ~= '0' then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return added`;

/** The connection with APPEND defined on it (EVALSHA; EVAL once again after a Redis restart: NOSCRIPT). */
type WithAppend = Redis & { loomOutputAppend(stream: string, fenceKey: string, ...args: string[]): Promise<number> };

export interface OutputLogOptions {
  /** The leader term's fencing token: appends of an older term are refused in Redis. */
  fencingToken?: number;
  log?: Logger;
}

/**
 * The only writer of request output streams. Appends are queued on one connection (ioredis keeps
 * order per connection), so events of one choice reach Redis in the order they were produced; each
 * entry's id is its position in the stream, which makes a resent append harmless (see APPEND).
 */
export class OutputLog {
  /** Per open request: the id of its next entry, [ms, k] of `<ms>-<k>`. */
  private readonly nextEntry = new Map<string, [string, number]>();
  private warnedStale = false;

  private readonly redis: WithAppend;

  constructor(
    redis: Redis,
    private readonly options: OutputLogOptions = {},
  ) {
    // Sent for every step's events: by SHA, not as script text each time.
    redis.defineCommand('loomOutputAppend', { numberOfKeys: 2, lua: APPEND });
    this.redis = redis as WithAppend;
  }

  /**
   * With `final`, the stream then expires, so finished requests do not pile up in Redis. Call
   * read() for the request first: it says where the stream stands.
   */
  async append(requestId: string, events: OutputEvent[], final = false): Promise<void> {
    const [ms, first] = this.nextEntry.get(requestId) ?? ['0', 1];
    if (final) this.nextEntry.delete(requestId);
    else this.nextEntry.set(requestId, [ms, first + events.length]);
    const token = this.options.fencingToken === undefined ? '' : String(this.options.fencingToken);
    const args = [
      token,
      final ? String(OUTPUT_STREAM_TTL_S) : '0',
      ms,
      String(first),
      OUTPUT_STREAM_FIELD,
      ...events.map((e) => JSON.stringify(e)),
    ];
    const added = await this.redis.loomOutputAppend(outputStreamKey(requestId), SCHEDULER_FENCE_KEY, ...args);
    if (added === -1 && !this.warnedStale) {
      this.warnedStale = true;
      this.options.log?.warn(
        { fencingToken: this.options.fencingToken },
        'output appends refused: a newer leader term holds the fence',
      );
    }
  }

  async read(requestId: string, n: number): Promise<StreamedSoFar> {
    const entries = await this.redis.xrange(outputStreamKey(requestId), '-', '+');
    // The next entry continues after the last (0-1, 0-2, ... for streams APPEND started; a stream
    // another writer started with time-based ids continues in that id's millisecond).
    const [ms, k] = entries.length === 0 ? ['0', '0'] : entries[entries.length - 1]![0].split('-');
    this.nextEntry.set(requestId, [ms!, Number(k) + 1]);
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
