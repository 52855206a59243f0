import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { SCHEDULER_FENCE_KEY, SCHEDULER_LEASE_KEY, waitAtMost } from '@loom/common';

export interface LeaderLeaseOptions {
  /** Lifetime of the lease key in Redis; a crashed leader is replaced about this long after its last renewal. Default 3000. */
  ttlMs?: number;
  /** Renewal period of the leader, and longest poll period of a standby. Default 1000. */
  renewMs?: number;
  /**
   * The leader deposes itself this long before the lease could lapse in Redis (covers timer lateness
   * and clock-rate drift). Default ttlMs / 6.
   */
  marginMs?: number;
  /** Defaults: SCHEDULER_LEASE_KEY / SCHEDULER_FENCE_KEY. */
  leaseKey?: string;
  fenceKey?: string;
}

/** Why a leader stopped leading: its key is someone else's, it could not renew in time, or stop(). */
export type DeposedReason = 'lost' | 'expired' | 'stopped';

interface LeaseEvents {
  elected: [fencingToken: number];
  deposed: [reason: DeposedReason];
}

// Acquire = SET NX PX and INCR of the fence counter in one atomic step, so tokens are ordered like
// terms. A key already holding OUR id (a term we gave up on after a lost reply or a missed deadline)
// is taken again as a new term, with a new token. Otherwise returns -(ms until the key lapses).
const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return redis.call('INCR', KEYS[2])
end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then t = tonumber(ARGV[3]) end
return -t`;
// Extend only while the value is still ours.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
// Compare-and-delete: never delete a successor's lease.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Active/standby leadership over one Redis key. Every process runs one; the holder of the key is
 * the leader and steps workers with `fencingToken` (workers refuse older tokens).
 *
 * Safety invariant: a leader considers itself deposed at lastRenewSent + ttl − margin, where
 * lastRenewSent is when the last successful SET/renewal was SENT. Redis set the key's expiry no
 * earlier than that, at ≥ lastRenewSent + ttl on its clock, and nobody else can acquire before
 * the key lapses; so the old leader stops before a new one starts (up to clock-rate drift, which
 * the margin covers, and an event loop blocked longer than the margin, which fencing covers).
 * `isLeader` also checks the deadline itself, so it turns false on time even if the 'deposed'
 * timer runs late. A standby polls every renewMs, or sooner when the current key lapses sooner,
 * so take-over happens within ttl + a few ms after a crash, and within one poll after stop().
 */
export class LeaderLease extends EventEmitter<LeaseEvents> {
  readonly ttlMs: number;
  readonly renewMs: number;
  readonly marginMs: number;
  private readonly leaseKey: string;
  private readonly fenceKey: string;
  private running = false;
  private leading = false;
  private token: number | undefined;
  /** performance.now() past which we must not act as leader. */
  private deadline = 0;
  private tickTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  /** The last Redis error (diagnostics; errors are retried, never thrown). */
  lastError: Error | undefined;

  constructor(
    private readonly redis: Redis,
    readonly holderId: string,
    options: LeaderLeaseOptions = {},
  ) {
    super();
    this.ttlMs = options.ttlMs ?? 3000;
    this.renewMs = options.renewMs ?? 1000;
    this.marginMs = options.marginMs ?? Math.round(this.ttlMs / 6);
    this.leaseKey = options.leaseKey ?? SCHEDULER_LEASE_KEY;
    this.fenceKey = options.fenceKey ?? SCHEDULER_FENCE_KEY;
    if (!(this.renewMs > 0 && this.marginMs >= 0 && this.renewMs < this.ttlMs - this.marginMs)) {
      throw new Error(
        `lease timing needs 0 < renewMs < ttlMs - marginMs (ttl ${this.ttlMs}, renew ${this.renewMs}, margin ${this.marginMs})`,
      );
    }
  }

  /** True while we hold the lease and its deadline has not passed. */
  get isLeader(): boolean {
    return this.leading && performance.now() < this.deadline;
  }

  /** Token of the current term while leader, else undefined. */
  get fencingToken(): number | undefined {
    return this.isLeader ? this.token : undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops campaigning; a leader emits 'deposed' ('stopped') and releases the key for a fast hand-over. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.tickTimer);
    if (this.leading) this.depose('stopped');
    // Redis may be unreachable (commands queue until it is back): give each wait at most one ttl.
    await waitAtMost(this.inFlight, this.ttlMs);
    // Also when a term lapsed locally or was won by the tick that was in flight: the key may hold our id.
    await waitAtMost(
      this.redis.eval(RELEASE, 1, this.leaseKey, this.holderId).catch((err: Error) => (this.lastError = err)),
      this.ttlMs,
    );
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.tickTimer = setTimeout(
      () => {
        this.inFlight = this.tick();
      },
      Math.max(0, delayMs),
    );
    this.tickTimer.unref();
  }

  private async tick(): Promise<void> {
    const sentAt = performance.now();
    let next = this.renewMs;
    try {
      if (this.leading) {
        const ok = Number(await this.redis.eval(RENEW, 1, this.leaseKey, this.holderId, this.ttlMs));
        if (!this.leading) return void (next = 0); // deposed while waiting (deadline): campaign again
        if (ok === 1) this.extend(sentAt);
        else {
          this.depose('lost');
          next = 0;
        }
      } else {
        const r = Number(
          await this.redis.eval(ACQUIRE, 2, this.leaseKey, this.fenceKey, this.holderId, this.ttlMs, this.renewMs),
        );
        if (r > 0) {
          if (!this.running) return; // stop() came meanwhile: it releases the key after this tick
          this.leading = true;
          this.token = r;
          this.extend(sentAt);
          this.emit('elected', r);
        } else {
          next = Math.min(this.renewMs, -r + 2);
        }
      }
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err as Error;
    } finally {
      this.schedule(this.leading ? sentAt + this.renewMs - performance.now() : next);
    }
  }

  /** A successful SET/renewal sent at `sentAt`: the key lives until at least sentAt + ttl. */
  private extend(sentAt: number): void {
    this.deadline = sentAt + this.ttlMs - this.marginMs;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => this.leading && this.depose('expired'), this.deadline - performance.now());
    this.deadlineTimer.unref();
  }

  private depose(reason: DeposedReason): void {
    clearTimeout(this.deadlineTimer);
    this.leading = false;
    this.token = undefined;
    this.emit('deposed', reason);
  }
}
