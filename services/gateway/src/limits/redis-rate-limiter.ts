import { rateLimitKey } from '@loom/common';
import type { Redis } from 'ioredis';

export type RateDecision = { allowed: true } | { allowed: false; limit: 'rpm' | 'tpm'; retryAfterMs: number };

/** Per-identity request and token budgets shared by every gateway replica. */
export interface RateLimiter {
  /** Count one request of `tokens` tokens against `identity`'s minute, unless that would pass a limit (0 = unlimited). */
  take(identity: string, limits: { rpm: number; tpm: number }, tokens: number): Promise<RateDecision>;
}

/**
 * FIXED one-minute windows, on Redis's clock (TIME), so every replica agrees on the window
 * whatever its own clock says. Check and count happen in one Lua script: two replicas can never
 * both admit the last slot. A rejected request counts nothing. Fixed windows let a client spend
 * up to twice a limit across a window boundary; in exchange Retry-After is exact (the window's end)
 * and the state is one small hash per identity.
 */
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = math.floor(now / 60000)
local rpm, tpm, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cur = redis.call('HMGET', KEYS[1], 'w', 'r', 't')
local r, used = 0, 0
if tonumber(cur[1]) == window then r = tonumber(cur[2]) or 0; used = tonumber(cur[3]) or 0 end
local retry = (window + 1) * 60000 - now
if rpm > 0 and r + 1 > rpm then return {0, retry, 'rpm'} end
if tpm > 0 and used + tokens > tpm then return {0, retry, 'tpm'} end
redis.call('HSET', KEYS[1], 'w', window, 'r', r + 1, 't', used + tokens)
redis.call('PEXPIRE', KEYS[1], 120000)
return {1, 0, ''}
`;

type WithTake = Redis & {
  loomRateTake(key: string, rpm: number, tpm: number, tokens: number): Promise<[number, number, string]>;
};

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: WithTake;

  constructor(redis: Redis) {
    // defineCommand sends EVALSHA and falls back to EVAL once after a Redis restart (NOSCRIPT).
    redis.defineCommand('loomRateTake', { numberOfKeys: 1, lua: SCRIPT });
    this.redis = redis as WithTake;
  }

  async take(identity: string, limits: { rpm: number; tpm: number }, tokens: number): Promise<RateDecision> {
    const [ok, retryAfterMs, limit] = await this.redis.loomRateTake(
      rateLimitKey(identity),
      limits.rpm,
      limits.tpm,
      tokens,
    );
    return ok === 1 ? { allowed: true } : { allowed: false, limit: limit as 'rpm' | 'tpm', retryAfterMs };
  }
}
