import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { OUTPUT_STREAM_FIELD, gatewayOutputKey, type Logger } from '@loom/common';

/** One stream entry as XREAD returns it: [entry id, [field, value, ...]]. */
type StreamEntry = [string, string[]];

export interface OutputStreamReaderOptions {
  /** XREAD BLOCK timeout of the fan-in read (ms); only bounds how long an idle read lasts. */
  blockMs?: number;
  /**
   * Events held for a subscriber that has not taken them yet (a catch-up read may add up to this
   * many more). Past this its copies in the fan-in stream are dropped and its entries wait in its
   * own stream until the subscriber catches up: a slow client's backlog stays in Redis.
   */
  maxBuffered?: number;
  /**
   * A subscription that got nothing for this long reads its own stream (ms): what a writer that does
   * not fan in wrote, or a fan-in entry trimmed away before it was read, arrives late but arrives.
   */
  pollMs?: number;
  /** Streams one catch-up XREAD reads at most (more are read in further commands). */
  maxKeysPerRead?: number;
  log?: Logger;
}

/** An entry id `<ms>-<k>` as numbers. */
type Id = [number, number];

const parseId = (id: string): Id => {
  const dash = id.indexOf('-');
  return [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
};
const after = (a: Id, b: Id): boolean => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/** A run of consecutive entries of one stream: ids first, first + 1, ... in first's millisecond. */
interface Piece {
  first: Id;
  values: unknown[];
}

interface Sub {
  readonly key: string;
  /** The id of the last entry put in the buffer ([0, 0]: none; APPEND's first entry is 0-1). */
  last: Id;
  readonly buffer: unknown[];
  /** Wakes the consumer waiting in subscribe(), if any. */
  notify: (() => void) | null;
  ended: boolean;
  /**
   * live: fan-in pieces go to the buffer when they continue it; due: a catch-up read of its own
   * stream is queued (pieces are dropped: that read, issued later, returns them); reading: that read
   * is in flight (pieces are held, then offered again); behind: the buffer is full (pieces are
   * dropped; a catch-up read follows once the consumer takes the buffer).
   */
  state: 'live' | 'due' | 'reading' | 'behind';
  held: Piece[];
  /** performance.now() of the last entry buffered, or of the last catch-up read. */
  heardAt: number;
}

/**
 * Reads the output of every in-flight request of this gateway from one stream: the scheduler copies
 * each output append to the fan-in stream the request's job names (RequestJob.replyTo, this
 * reader's `replyTo`), one entry per append holding the events of all this gateway's requests in it
 * (see the scheduler's OutputLog). One blocking XREAD of one key per step, fanned out here, instead
 * of an XREAD over every open request's stream. Each request's own stream stays the record: a
 * subscription reads it (catch-up) when it starts, when a piece does not continue what it has (a gap:
 * a fan-in entry trimmed away, a writer that does not fan in), when its consumer drained a full
 * buffer, and when it heard nothing for `pollMs`. Entry ids order everything: each entry is buffered
 * once, in stream order, whichever way it came.
 */
export class OutputStreamReader {
  /** The stream a job's `replyTo` names so that its output reaches this reader. */
  readonly replyTo = gatewayOutputKey(randomUUID());
  private readonly subs = new Map<string, Sub>();
  private readonly due = new Set<Sub>();
  private catchUpQueued = false;
  private readonly conn: Redis;
  private readonly o: Required<Omit<OutputStreamReaderOptions, 'log'>> & { log?: Logger };
  private readonly poll: NodeJS.Timeout;
  private closed = false;
  /** Whether the last read failed (a Redis outage is logged once, not every retry). */
  private failing = false;

  /** `commands` is a non-blocking connection (catch-up reads); the blocking one is duplicated from it. */
  constructor(
    private readonly commands: Redis,
    options: OutputStreamReaderOptions = {},
  ) {
    this.o = {
      blockMs: options.blockMs ?? 5000,
      maxBuffered: options.maxBuffered ?? 256,
      pollMs: options.pollMs ?? 1000,
      maxKeysPerRead: options.maxKeysPerRead ?? 256,
      log: options.log,
    };
    // XREAD BLOCK holds its connection for the whole wait: it never shares one with other commands.
    this.conn = commands.duplicate({ connectionName: 'loom-gateway-xread' });
    this.conn.on('error', () => undefined); // the loop logs failed reads; ioredis reconnects by itself
    this.poll = setInterval(() => this.pollQuiet(), this.o.pollMs);
    this.poll.unref();
    void this.readFanIn();
  }

  /** Blocking connections open. */
  get connections(): number {
    return this.closed ? 0 : 1;
  }

  /** Events read from Redis that no subscriber has taken yet (bounded by maxBuffered each, see there). */
  get bufferedEntries(): number {
    let n = 0;
    for (const sub of this.subs.values()) n += sub.buffer.length;
    return n;
  }

  /**
   * The values (field OUTPUT_STREAM_FIELD, parsed JSON) of stream `key` from its first entry, in
   * order, until `signal` aborts or the loop is left; each item is every value buffered and not yet
   * taken (a burst: usually one step's, more when the consumer fell behind). With `isLast`, the
   * subscription ends after the first value it holds true for (that value closes its burst); it is
   * called once per value, in order, so it may keep state.
   */
  async *subscribe(key: string, signal: AbortSignal, isLast?: (value: unknown) => boolean): AsyncGenerator<unknown[]> {
    if (this.closed || signal.aborted) return;
    const sub: Sub = {
      key,
      last: [0, 0],
      buffer: [],
      notify: null,
      ended: false,
      state: 'live',
      held: [],
      heardAt: performance.now(),
    };
    this.subs.set(key, sub);
    // What was written before this subscription existed never reaches it through the fan-in.
    this.markDue(sub);
    const onAbort = () => this.remove(sub);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        if (sub.buffer.length === 0) {
          if (sub.ended) return;
          await new Promise<void>((resolve) => (sub.notify = resolve));
          sub.notify = null;
          continue;
        }
        const burst = sub.buffer.splice(0);
        const end = isLast ? burst.findIndex(isLast) : -1;
        if (end >= 0) {
          burst.length = end + 1;
          yield burst;
          return;
        }
        // Drained: what was dropped while it was full is read from its stream.
        if (sub.state === 'behind') this.markDue(sub);
        yield burst;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.remove(sub);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poll);
    for (const sub of this.subs.values()) this.remove(sub);
    this.conn.disconnect();
    this.commands.del(this.replyTo).catch(() => undefined);
  }

  private remove(sub: Sub): void {
    sub.ended = true;
    if (this.subs.get(sub.key) === sub) this.subs.delete(sub.key);
    this.due.delete(sub);
    sub.notify?.();
  }

  private async readFanIn(): Promise<void> {
    // The stream is this process's own (a fresh id): all of it is for us, from the start.
    let lastId = '0';
    while (!this.closed) {
      let res: [string, StreamEntry[]][] | null;
      try {
        res = (await this.conn.call(
          'XREAD',
          'COUNT',
          64,
          'BLOCK',
          this.o.blockMs,
          'STREAMS',
          this.replyTo,
          lastId,
        )) as typeof res;
        this.failing = false;
      } catch (err) {
        if (this.closed) return;
        if (!this.failing) this.o.log?.warn({ err: (err as Error).message }, 'output stream read failed; retrying');
        this.failing = true;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      for (const [, entries] of res ?? [])
        for (const [id, fields] of entries) {
          lastId = id;
          this.route(fields);
        }
    }
  }

  /** One fan-in entry: `[[streamKey, firstId, [value, ...]], ...]`; each piece to its subscription. */
  private route(fields: string[]): void {
    let pieces: [string, string, unknown[]][];
    try {
      pieces = JSON.parse(valueOf(fields) ?? '[]') as typeof pieces;
    } catch {
      // Unreadable copy: every subscription reads its own stream instead.
      for (const sub of this.subs.values()) this.markDue(sub);
      return;
    }
    for (const [key, first, values] of pieces) {
      const sub = this.subs.get(key);
      if (sub) this.offer(sub, { first: parseId(first), values });
    }
  }

  private offer(sub: Sub, piece: Piece): void {
    if (sub.state === 'reading') sub.held.push(piece);
    else if (sub.state === 'live') this.take(sub, piece);
    // due, behind: the catch-up read, sent after this entry was written, returns it.
  }

  /** Buffers what of `piece` follows the last entry; a piece that skips entries is a gap: catch up. */
  private take(sub: Sub, { first, values }: Piece): void {
    if (first[0] !== sub.last[0]) {
      // Another millisecond: an older run (already read) or one whose predecessor is unknown.
      if (after(first, sub.last)) this.markDue(sub);
      return;
    }
    const skip = sub.last[1] + 1 - first[1];
    if (skip < 0) {
      this.markDue(sub);
      return;
    }
    if (skip >= values.length) return;
    for (let i = skip; i < values.length; i++) sub.buffer.push(values[i]);
    sub.last = [first[0], first[1] + values.length - 1];
    this.heard(sub);
  }

  private heard(sub: Sub): void {
    sub.heardAt = performance.now();
    if (sub.buffer.length >= this.o.maxBuffered) sub.state = 'behind';
    sub.notify?.();
  }

  private markDue(sub: Sub): void {
    if (sub.ended || sub.state === 'reading') return;
    sub.state = 'due';
    this.due.add(sub);
    if (this.catchUpQueued) return;
    this.catchUpQueued = true;
    // Subscriptions made in the same tick (a burst of requests) share one read.
    setImmediate(() => {
      this.catchUpQueued = false;
      void this.catchUp();
    });
  }

  private pollQuiet(): void {
    const quietSince = performance.now() - this.o.pollMs;
    for (const sub of this.subs.values()) if (sub.state === 'live' && sub.heardAt < quietSince) this.markDue(sub);
  }

  /** Reads the due subscriptions' own streams after what each has (non-blocking XREAD, batched). */
  private async catchUp(): Promise<void> {
    const subs = [...this.due];
    this.due.clear();
    for (let i = 0; i < subs.length && !this.closed; i += this.o.maxKeysPerRead) {
      const batch = subs.slice(i, i + this.o.maxKeysPerRead).filter((s) => !s.ended);
      if (batch.length === 0) continue;
      for (const sub of batch) sub.state = 'reading';
      const args: (string | number)[] = ['COUNT', this.o.maxBuffered, 'STREAMS'];
      for (const sub of batch) args.push(sub.key);
      for (const sub of batch) args.push(`${sub.last[0]}-${sub.last[1]}`);
      let res: [string, StreamEntry[]][] | null;
      try {
        res = (await this.commands.call('XREAD', ...args)) as typeof res;
      } catch (err) {
        if (this.closed) return;
        if (!this.failing) this.o.log?.warn({ err: (err as Error).message }, 'output stream read failed; retrying');
        this.failing = true;
        await new Promise((r) => setTimeout(r, 200));
        for (const sub of batch) {
          sub.state = 'live';
          sub.held.length = 0; // the retried read returns them
          this.markDue(sub);
        }
        continue;
      }
      const got = new Map(res ?? []);
      for (const sub of batch) this.caughtUp(sub, got.get(sub.key) ?? []);
    }
  }

  private caughtUp(sub: Sub, entries: StreamEntry[]): void {
    sub.state = 'live';
    const held = sub.held.splice(0);
    if (sub.ended) return;
    for (const [id, fields] of entries) {
      const at = parseId(id);
      if (!after(at, sub.last)) continue;
      sub.last = at;
      const value = parseValue(fields);
      if (value !== undefined) sub.buffer.push(value);
    }
    this.heard(sub);
    if (sub.buffer.length >= this.o.maxBuffered) return; // behind: read again once drained
    // A full read may have left more behind it.
    if (entries.length >= this.o.maxBuffered) this.markDue(sub);
    else for (const p of held) this.offer(sub, p);
  }
}

function valueOf(fields: string[]): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === OUTPUT_STREAM_FIELD) return fields[i + 1];
  return undefined;
}

/** An entry's value, parsed; undefined for an entry without one or with malformed JSON (skipped). */
function parseValue(fields: string[]): unknown {
  const value = valueOf(fields);
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}
