import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { at, readerWakeKey, type Logger } from '@loom/common';

/** One stream entry as XREAD returns it: [entry id, [field, value, ...]]. */
export type StreamEntry = [string, string[]];

export interface OutputStreamReaderOptions {
  /** XREAD BLOCK timeout (ms); only bounds how long an idle read lasts. */
  blockMs?: number;
  /** Streams one blocking connection reads at once; more subscriptions open more connections. */
  maxKeysPerConnection?: number;
  /**
   * Entries held for a subscriber that has not taken them yet (one read may add up to this many
   * more). Past this its stream is left out of the reads, its entries waiting in Redis, until the
   * subscriber catches up: a slow client's backlog stays in Redis, not in the gateway's heap.
   */
  maxBuffered?: number;
  log?: Logger;
}

/** A subscription's state; owned by its lane. */
interface Sub {
  readonly key: string;
  /** The id after which the next read starts ('0': from the beginning). */
  lastId: string;
  readonly buffer: StreamEntry[];
  /** Wakes the consumer waiting in next(), if any. */
  notify: (() => void) | null;
  ended: boolean;
}

/**
 * One blocking connection and the streams it reads. XREAD BLOCK only sees the keys it was given,
 * so a lane also reads a private wake stream: adding a subscription (or letting a backpressured one
 * back in) XADDs to it, which ends the blocked read at once and the next read includes the change.
 */
class Lane {
  readonly subs = new Map<string, Sub>();
  readonly wakeKey = readerWakeKey(randomUUID());
  /** Not '$': a wake added before the first read reached Redis must still end that read. */
  private wakeLastId = '0';
  /** Whether the last read failed (a Redis outage is logged once, not every retry). */
  private failing = false;
  private blocked = false;
  private closed = false;
  private idle: (() => void) | null = null;

  constructor(
    private readonly conn: Redis,
    private readonly commands: Redis,
    private readonly o: Required<Omit<OutputStreamReaderOptions, 'log'>> & { log?: Logger },
  ) {
    void this.loop();
  }

  add(sub: Sub): void {
    this.subs.set(sub.key, sub);
    this.wake();
  }

  remove(sub: Sub): void {
    sub.ended = true;
    this.subs.delete(sub.key);
    sub.notify?.();
  }

  /** Ends the blocked read so the next one sees the current subscriptions (no-op when not blocked). */
  wake(): void {
    if (this.idle !== null) {
      const resume = this.idle;
      this.idle = null;
      resume();
    }
    if (!this.blocked) return;
    // MAXLEN keeps the wake stream a few entries long; the expiry removes it if this process dies.
    this.commands
      .multi()
      .xadd(this.wakeKey, 'MAXLEN', '~', 16, '*', 'w', '1')
      .expire(this.wakeKey, 3600)
      .exec()
      .catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    for (const sub of this.subs.values()) this.remove(sub);
    this.conn.disconnect();
    this.idle?.();
    this.commands.del(this.wakeKey).catch(() => undefined);
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      const reading: Sub[] = [];
      for (const sub of this.subs.values()) if (sub.buffer.length < this.o.maxBuffered) reading.push(sub);
      if (this.subs.size === 0) {
        // Nothing to read: wait for a subscription instead of holding a read open.
        await new Promise<void>((resolve) => (this.idle = resolve));
        continue;
      }
      const args: (string | number)[] = ['COUNT', this.o.maxBuffered, 'BLOCK', this.o.blockMs, 'STREAMS', this.wakeKey];
      for (const sub of reading) args.push(sub.key);
      args.push(this.wakeLastId);
      for (const sub of reading) args.push(sub.lastId);
      let res: [string, StreamEntry[]][] | null;
      this.blocked = true;
      try {
        res = (await this.conn.call('XREAD', ...args)) as typeof res;
        this.failing = false;
      } catch (err) {
        if (this.closed) return;
        if (!this.failing) this.o.log?.warn({ err: (err as Error).message }, 'output stream read failed; retrying');
        this.failing = true;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      } finally {
        this.blocked = false;
      }
      if (res === null) continue;
      for (const [key, entries] of res) {
        if (entries.length === 0) continue;
        const last = at(entries, entries.length - 1)[0];
        if (key === this.wakeKey) {
          this.wakeLastId = last;
          continue;
        }
        const sub = this.subs.get(key);
        if (sub === undefined) continue; // unsubscribed while the read was in flight
        sub.lastId = last;
        for (const e of entries) sub.buffer.push(e);
        sub.notify?.();
      }
    }
  }
}

/**
 * Reads the output streams of many in-flight requests over a few blocking Redis connections: one per
 * `maxKeysPerConnection` subscriptions, not one per request (a thousand open streams held a thousand
 * connections). Each subscription yields its stream's entries in order from the start, pulls at its
 * consumer's pace (see maxBuffered) and ends when closed or when its signal aborts.
 */
export class OutputStreamReader {
  private readonly lanes: Lane[] = [];
  private readonly o: Required<Omit<OutputStreamReaderOptions, 'log'>> & { log?: Logger };
  private closed = false;

  /** `commands` is a non-blocking connection (wake-ups); blocking ones are duplicated from it. */
  constructor(
    private readonly commands: Redis,
    options: OutputStreamReaderOptions = {},
  ) {
    this.o = {
      blockMs: options.blockMs ?? 5000,
      maxKeysPerConnection: options.maxKeysPerConnection ?? 256,
      maxBuffered: options.maxBuffered ?? 256,
      log: options.log,
    };
  }

  /** Blocking connections open now. */
  get connections(): number {
    return this.lanes.length;
  }

  /** Entries read from Redis that no subscriber has taken yet (bounded by maxBuffered each, see there). */
  get bufferedEntries(): number {
    let n = 0;
    for (const lane of this.lanes) for (const sub of lane.subs.values()) n += sub.buffer.length;
    return n;
  }

  /**
   * The entries of `key` from its first one, in order, until `signal` aborts or the loop is left;
   * each item is every entry read and not yet taken (a burst: usually one step's entry, more when
   * the consumer fell behind), so a consumer handles a burst in one pass.
   */
  async *subscribe(key: string, signal: AbortSignal): AsyncGenerator<StreamEntry[]> {
    if (this.closed || signal.aborted) return;
    const lane = this.laneWithRoom();
    const sub: Sub = { key, lastId: '0', buffer: [], notify: null, ended: false };
    const onAbort = () => lane.remove(sub);
    signal.addEventListener('abort', onAbort, { once: true });
    lane.add(sub);
    try {
      for (;;) {
        if (sub.buffer.length === 0) {
          if (sub.ended) return;
          await new Promise<void>((resolve) => (sub.notify = resolve));
          sub.notify = null;
          continue;
        }
        const wasFull = sub.buffer.length >= this.o.maxBuffered;
        const burst = sub.buffer.splice(0);
        // Back below the bound: let the lane read this stream again.
        if (wasFull && !sub.ended) lane.wake();
        yield burst;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      lane.remove(sub);
      this.retireIfEmpty(lane);
    }
  }

  close(): void {
    this.closed = true;
    for (const lane of this.lanes) lane.close();
    this.lanes.length = 0;
  }

  private laneWithRoom(): Lane {
    const open = this.lanes.find((l) => l.subs.size < this.o.maxKeysPerConnection);
    if (open !== undefined) return open;
    // XREAD BLOCK holds its connection for the whole wait: it never shares one with other commands.
    const conn = this.commands.duplicate({ connectionName: 'loom-gateway-xread' });
    conn.on('error', () => undefined); // the lane logs failed reads; ioredis reconnects by itself
    const lane = new Lane(conn, this.commands, this.o);
    this.lanes.push(lane);
    return lane;
  }

  /** Lanes beyond the first close when their last subscription ends (load came and went). */
  private retireIfEmpty(lane: Lane): void {
    if (lane.subs.size > 0 || this.lanes.length <= 1) return;
    const i = this.lanes.indexOf(lane);
    if (i > 0) {
      this.lanes.splice(i, 1);
      lane.close();
    }
  }
}
