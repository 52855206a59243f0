import { timingSafeEqual } from 'node:crypto';
import { API_KEYS_KEY, type ApiKeyRecord } from '@loom/common';
import type { Redis } from 'ioredis';
import type { Principal } from './principal.js';
import { keyDigestHex, parseKeyRecord, type StaticKey } from './api-key-records.js';

export interface KeyStoreOptions {
  /** Keys from --api-keys and --api-keys-file. */
  staticKeys: StaticKey[];
  /** Set when keys stored in Redis (API_KEYS_KEY) are accepted too. */
  redis?: Redis;
  /** Limits of keys whose record sets none (--rate-limit-rpm / --rate-limit-tpm). */
  defaults: { rpm: number; tpm: number };
  /** How long a Redis lookup (hit or miss) is reused: also how long a revoked key keeps working. */
  cacheTtlMs?: number;
}

/** Bound on cached Redis lookups, so a flood of random keys cannot grow memory without limit. */
const MAX_CACHED = 10_000;

/**
 * API keys → principals. Keys are only ever held as sha256 digests. Static digests are compared
 * with timingSafeEqual against every entry without early exit, so timing says nothing about which
 * key (or prefix) matched; Redis is asked by digest, which reveals nothing about the key either.
 */
export class KeyStore {
  private readonly digests: { digest: Buffer; record: ApiKeyRecord }[];
  private readonly cache = new Map<string, { at: number; record: ApiKeyRecord | undefined }>();
  private readonly ttlMs: number;

  constructor(private readonly opts: KeyStoreOptions) {
    this.digests = opts.staticKeys.map((k) => ({ digest: Buffer.from(k.digestHex, 'hex'), record: k.record }));
    this.ttlMs = opts.cacheTtlMs ?? 5000;
  }

  /** Whether requests must carry a key at all. */
  get required(): boolean {
    return this.digests.length > 0 || this.opts.redis !== undefined;
  }

  async authenticate(key: string): Promise<Principal | undefined> {
    const hex = keyDigestHex(key);
    const record = this.matchStatic(Buffer.from(hex, 'hex')) ?? (await this.lookupRedis(hex));
    if (!record) return undefined;
    return {
      keyId: hex.slice(0, 16),
      tenant: record.tenant,
      priority: record.priority ?? 0,
      ...(record.cacheSalt ? { cacheSalt: record.cacheSalt } : {}),
      rpm: record.rpm || this.opts.defaults.rpm,
      tpm: record.tpm || this.opts.defaults.tpm,
    };
  }

  private matchStatic(presented: Buffer): ApiKeyRecord | undefined {
    let found: ApiKeyRecord | undefined;
    for (const d of this.digests) {
      const eq = timingSafeEqual(d.digest, presented);
      found = eq ? d.record : found;
    }
    return found;
  }

  private async lookupRedis(hex: string): Promise<ApiKeyRecord | undefined> {
    if (!this.opts.redis) return undefined;
    const hit = this.cache.get(hex);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.record;
    const raw = await this.opts.redis.hget(API_KEYS_KEY, hex);
    const record = raw ? parseKeyRecord(raw) : undefined;
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(hex, { at: Date.now(), record });
    return record;
  }
}
