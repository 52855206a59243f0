import type { FastifyRequest } from 'fastify';

/** Who sent a request, as far as the gateway cares: what its API key grants. */
export interface Principal {
  /** Rate-limit and log identity: a prefix of the key's sha256 (never the key), or 'anonymous'. */
  keyId: string;
  /** Absent when the gateway runs without keys. */
  tenant?: string;
  /** Best priority the key's requests get (lower = more important). */
  priority: number;
  cacheSalt?: string;
  /** Requests / tokens per minute; 0 = unlimited. */
  rpm: number;
  tpm: number;
}

/** Requests keyed by their raw request object, so nothing is bolted onto fastify's types. */
const principals = new WeakMap<object, Principal>();

export function setPrincipal(req: FastifyRequest, p: Principal): void {
  principals.set(req.raw, p);
}

/** Whether a principal was attached (by the API-key hook, before the guard runs). */
export function hasPrincipal(req: FastifyRequest): boolean {
  return principals.has(req.raw);
}

/** The principal the guard attached, or the anonymous one with the gateway's default limits. */
export function principalOf(req: FastifyRequest, defaults: { rpm: number; tpm: number }): Principal {
  return principals.get(req.raw) ?? { keyId: 'anonymous', priority: 0, ...defaults };
}

/**
 * The priority a request runs at: the client may ask for a worse (higher) one than its key's, never
 * a better one, so one tenant cannot jump every queue by sending `priority: -1000`.
 */
export function effectivePriority(p: Principal, requested: number | null | undefined): number {
  return Math.max(p.priority, requested ?? p.priority);
}

/**
 * The prefix-cache salt: the key's own salt is always part of it, so a client-chosen salt can only
 * split the tenant's cache further, never reach into another tenant's cached blocks.
 */
export function effectiveCacheSalt(p: Principal, requested: string | null | undefined): string | undefined {
  if (p.cacheSalt && requested) return `${p.cacheSalt}:${requested}`;
  return p.cacheSalt ?? requested ?? undefined;
}
