import type { Redis } from 'ioredis';
import {
  at,
  GATEWAY_OUTPUT_MAXLEN,
  GATEWAY_OUTPUT_TTL_S,
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
 * Appends the events of one step for any number of requests, one output stream each, under explicit,
 * consecutive entry ids `<ms>-<k>` (ms 0 for a stream this writer started), and only for the current
 * leader: one script call per step, not one per request. Each entry added is also copied to its
 * request's gateway fan-in stream (gatewayOutputKey: one entry per gateway per call, JSON
 * `[[streamKey, firstId, [event, ...]], ...]`, a run of consecutive ids per item), so a gateway reads
 * one stream for all its requests. KEYS: the fence counter, the request streams, then the fan-in
 * streams. ARGV: fencing token ('' = unfenced), expiry in seconds of a finished stream, the stream
 * field, the number of request streams, the fan-in MAXLEN, the fan-in expiry, then per request
 * stream: ms, its first event's k, '1' if it is the request's last append, the event count, the
 * KEYS index of its fan-in stream (0: none), the events.
 * - An entry whose id is already in its stream is skipped, and not copied: that is a resend of the
 *   same append (ioredis resends commands whose reply a Redis restart lost), so delivery stays
 *   exactly-once.
 * - A term that is no longer the latest writes nothing (returns -1): a deposed leader's queued
 *   appends cannot interleave with its successor's, which continues from what the stream holds.
 * Returns the number of entries added.
 */
const APPEND = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local field = ARGV[3]
local a = 7
local added = 0
local fan = {}
for s = 2, tonumber(ARGV[4]) + 1 do
  local ms, first, final, n, f = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2], tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  a = a + 5
  local out, open = nil, false
  if f > 0 then
    out = fan[f]
    if out == nil then out = {}; fan[f] = out end
  end
  for i = 0, n - 1 do
    local id = ms .. '-' .. (first + i)
    local r = redis.pcall('XADD', KEYS[s], id, field, ARGV[a + i])
    if type(r) ~= 'table' or not r.err then
      added = added + 1
      if out ~= nil then
        if open then
          out[#out + 1] = ','
        else
          if #out > 0 then out[#out + 1] = ',' end
          out[#out + 1] = '[' .. cjson.encode(KEYS[s]) .. ',"' .. id .. '",['
          open = true
        end
        out[#out + 1] = ARGV[a + i]
      end
    elseif open then
      out[#out + 1] = ']]'
      open = false
    end
  end
  if open then out[#out + 1] = ']]' end
  a = a + n
  if final == '1' then redis.call('EXPIRE', KEYS[s], ARGV[2]) end
end
for f, out in pairs(fan) do
  if #out > 0 then
    redis.call('XADD', KEYS[f], 'MAXLEN', '~', ARGV[5], '*', field, '[' .. table.concat(out) .. ']')
    redis.call('EXPIRE', KEYS[f], ARGV[6])
  end
end
return added`;

function nothingStreamed(n: number): StreamedSoFar {
  return {
    tokenIds: Array.from({ length: n }, () => []),
    emittedChars: new Array<number>(n).fill(0),
    finished: new Array<boolean>(n).fill(false),
    promptLogprobs: new Array<boolean>(n).fill(false),
    errored: false,
  };
}

/** One request's events of a step; `final` when they are its last (the stream then expires). */
export interface AppendItem {
  requestId: string;
  events: OutputEvent[];
  final: boolean;
  /** The gateway fan-in stream the events are copied to (RequestJob.replyTo). */
  replyTo?: string;
}

/** The connection with APPEND defined on it (EVALSHA; EVAL once again after a Redis restart: NOSCRIPT). */
type WithAppend = Redis & { loomOutputAppend(...keysThenArgs: (string | number)[]): Promise<number> };

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
    // numberOfKeys varies with the batch: it is the call's first argument.
    redis.defineCommand('loomOutputAppend', { lua: APPEND });
    this.redis = redis as WithAppend;
  }

  /**
   * With `final`, the stream then expires, so finished requests do not pile up in Redis. Call
   * read() for the request first: it says where the stream stands.
   */
  append(requestId: string, events: OutputEvent[], final = false, replyTo?: string): Promise<void> {
    return this.appendMany([{ requestId, events, final, ...(replyTo !== undefined ? { replyTo } : {}) }]);
  }

  /** The events of several requests in one round trip (a step's outputs); see append(). */
  async appendMany(items: readonly AppendItem[]): Promise<void> {
    const live = items.filter((it) => it.events.length > 0);
    if (live.length === 0) return;
    // KEYS (1-based in Lua): the fence, the live.length request streams, then the fan-in streams.
    const fanIn = new Map<string, number>();
    for (const { replyTo } of live)
      if (replyTo !== undefined && !fanIn.has(replyTo)) fanIn.set(replyTo, 2 + live.length + fanIn.size);
    const keys: string[] = [SCHEDULER_FENCE_KEY];
    const args: string[] = [
      this.options.fencingToken === undefined ? '' : String(this.options.fencingToken),
      String(OUTPUT_STREAM_TTL_S),
      OUTPUT_STREAM_FIELD,
      String(live.length),
      String(GATEWAY_OUTPUT_MAXLEN),
      String(GATEWAY_OUTPUT_TTL_S),
    ];
    for (const { requestId, events, final, replyTo } of live) {
      const [ms, first] = this.nextEntry.get(requestId) ?? ['0', 1];
      if (final) this.nextEntry.delete(requestId);
      else this.nextEntry.set(requestId, [ms, first + events.length]);
      keys.push(outputStreamKey(requestId));
      const f = replyTo === undefined ? 0 : (fanIn.get(replyTo) ?? 0);
      args.push(ms, String(first), final ? '1' : '0', String(events.length), String(f));
      for (const e of events) args.push(JSON.stringify(e));
    }
    keys.push(...fanIn.keys());
    const added = await this.redis.loomOutputAppend(keys.length, ...keys, ...args);
    if (added === -1 && !this.warnedStale) {
      this.warnedStale = true;
      this.options.log?.warn(
        { fencingToken: this.options.fencingToken },
        'output appends refused: a newer leader term holds the fence',
      );
    }
  }

  /** Where a stream nobody has written to stands (nothing streamed); what read() returns for it, without reading. */
  start(requestId: string, n: number): StreamedSoFar {
    this.nextEntry.set(requestId, ['0', 1]);
    return nothingStreamed(n);
  }

  async read(requestId: string, n: number): Promise<StreamedSoFar> {
    const entries = await this.redis.xrange(outputStreamKey(requestId), '-', '+');
    // The next entry continues after the last (0-1, 0-2, ... for streams APPEND started; a stream
    // another writer started with time-based ids continues in that id's millisecond).
    const [ms = '0', k = '0'] = (entries.at(-1)?.[0] ?? '0-0').split('-');
    this.nextEntry.set(requestId, [ms, Number(k) + 1]);
    const out = nothingStreamed(n);
    for (const [, fields] of entries) {
      const value = fields[1];
      if (value === undefined) continue; // an entry without a value carries no event
      const e = JSON.parse(value) as OutputEvent;
      if (e.type === 'token') {
        at(out.tokenIds, e.index).push(...e.tokenIds);
        out.emittedChars[e.index] = at(out.emittedChars, e.index) + e.text.length;
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
