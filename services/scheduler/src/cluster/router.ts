import { at } from '@loom/common';
import { type BlockHash, type BlockHashes, extendBlockHashes } from '../core/index.js';

export type RoutingPolicy = 'prefix' | 'round-robin' | 'least-loaded';

/** One worker the router may pick, as its step loop sees it right now. */
export interface RouteCandidate {
  readonly id: string;
  /** Sequences admitted and not finished on it (running + waiting). */
  readonly load: number;
  /** Fraction of its KV blocks not held by a request (0..1). */
  readonly freeBlockRatio: number;
  /** Tokens per KV block of its pool. */
  readonly blockSize: number;
  /**
   * Tokens of the longest prefix, given as full-block hashes, cached in its pool or being computed
   * there by a request it already holds (Scheduler.routablePrefixTokens).
   */
  cachedPrefixTokens(blockHashes: readonly BlockHash[]): number;
}

export interface RouteRequest {
  readonly promptTokenIds: readonly number[];
  /** Tenant isolation of the prefix cache: goes into the first block's hash, as in the core. */
  readonly cacheSalt?: string | null;
  readonly sessionId?: string;
  /** The prompt's full-block hashes if the caller has them already (same salt); used for candidates of that block size. */
  readonly blockHashes?: BlockHashes;
}

export interface RouteDecision {
  readonly workerId: string;
  /** Why this worker: its session's worker, the best prefix hit, or the policy's plain choice. */
  readonly reason: 'session' | 'prefix' | 'prefix-home' | 'least-loaded' | 'round-robin';
  /** Prompt tokens cached on the chosen worker (0 unless policy 'prefix' probed it). */
  readonly cachedTokens: number;
}

export interface RouterOptions {
  policy?: RoutingPolicy;
  /**
   * A worker counts as overloaded when its load exceeds the least loaded candidate's by more than
   * this many sequences: it then loses its prefix hit or session preference. Default 8.
   */
  maxLoadImbalance?: number;
  /** Sessions remembered (least recently routed are forgotten first). Default 10 000. */
  maxSessions?: number;
}

/**
 * Picks the worker for a new request. Synchronous and I/O-free; its only state is the round-robin
 * cursor and the bounded session map.
 *
 * Policy 'prefix' (the default; vLLM production-stack / llm-d style):
 *   eligible = { w : load(w) − min_v load(v) ≤ maxLoadImbalance }
 *   choose argmax over eligible of (hit(w), −load(w), freeBlockRatio(w), −id)   (lexicographic)
 * where hit(w) is the exact number of prompt tokens cached in w's block pool, or about to be (a
 * request queued or prefilling there shares them). So the longest hit wins unless its worker is overloaded, and with no hit anywhere this is least-loaded.
 * The prompt's block hashes are computed once per distinct block size (in practice once) and
 * capped like the core's own lookup: the last prompt token always runs, so it never counts as a hit.
 *
 * When no eligible worker holds any of the prefix (first request, or its blocks were evicted), the
 * worker that last took a prompt with the same first block (its prefix root, e.g. a tenant's system
 * prompt) is chosen if eligible ('prefix-home'), else the least loaded: a tenant whose prefix was
 * evicted under pressure comes back to its worker instead of being cached on a second one.
 *
 * Session affinity (any policy): a request with a session id goes to the worker that served that
 * session last while it is a candidate (alive) and not overloaded; otherwise it is routed by the
 * policy and the session moves to the new worker.
 */
export class Router {
  readonly policy: RoutingPolicy;
  private readonly maxLoadImbalance: number;
  private readonly maxSessions: number;
  /** session id → worker id, in least-recently-routed-first order (Map insertion order). */
  private readonly sessions = new Map<string, string>();
  /** prefix root (first block hash) → worker id of its last 'prefix' routing; bounded like sessions. */
  private readonly roots = new Map<BlockHash, string>();
  private lastRoundRobin: string | undefined;

  constructor(options: RouterOptions = {}) {
    this.policy = options.policy ?? 'prefix';
    this.maxLoadImbalance = options.maxLoadImbalance ?? 8;
    this.maxSessions = options.maxSessions ?? 10_000;
    if (!(this.maxLoadImbalance >= 0)) throw new Error(`bad maxLoadImbalance ${options.maxLoadImbalance}`);
    if (!Number.isInteger(this.maxSessions) || this.maxSessions < 1)
      throw new Error(`bad maxSessions ${options.maxSessions}`);
  }

  /** The chosen worker, or undefined when there is no candidate. Records the session's worker. */
  route(request: RouteRequest, candidates: readonly RouteCandidate[]): RouteDecision | undefined {
    if (candidates.length === 0) return undefined;
    const minLoad = Math.min(...candidates.map((c) => c.load));
    const overloaded = (c: RouteCandidate) => c.load - minLoad > this.maxLoadImbalance;
    let decision: RouteDecision | undefined;
    const sessionWorker = request.sessionId === undefined ? undefined : this.sessions.get(request.sessionId);
    if (sessionWorker !== undefined) {
      const c = candidates.find((w) => w.id === sessionWorker);
      if (c !== undefined && !overloaded(c)) decision = { workerId: c.id, reason: 'session', cachedTokens: 0 };
    }
    decision ??= this.byPolicy(request, candidates, overloaded);
    if (request.sessionId !== undefined)
      remember(this.sessions, request.sessionId, decision.workerId, this.maxSessions);
    return decision;
  }

  /** Number of sessions remembered (bounded by maxSessions). */
  get numSessions(): number {
    return this.sessions.size;
  }

  private byPolicy(
    request: RouteRequest,
    candidates: readonly RouteCandidate[],
    overloaded: (c: RouteCandidate) => boolean,
  ): RouteDecision {
    switch (this.policy) {
      case 'round-robin':
        return { workerId: this.nextRoundRobin(candidates), reason: 'round-robin', cachedTokens: 0 };
      case 'least-loaded':
        return { workerId: best(candidates, () => 0).id, reason: 'least-loaded', cachedTokens: 0 };
      case 'prefix': {
        const { hits, root } = prefixHits(request, candidates);
        const eligible = candidates.filter((c) => !overloaded(c));
        const chosen = best(eligible, (c) => hits.get(c)!);
        const cachedTokens = hits.get(chosen)!;
        if (root === undefined)
          return { workerId: chosen.id, reason: cachedTokens > 0 ? 'prefix' : 'least-loaded', cachedTokens };
        const home = cachedTokens > 0 ? undefined : eligible.find((c) => c.id === this.roots.get(root));
        remember(this.roots, root, (home ?? chosen).id, this.maxSessions);
        if (home !== undefined) return { workerId: home.id, reason: 'prefix-home', cachedTokens: 0 };
        return { workerId: chosen.id, reason: cachedTokens > 0 ? 'prefix' : 'least-loaded', cachedTokens };
      }
    }
  }

  /** The next worker id after the last one chosen, in id order: a stable cycle while workers come and go. */
  private nextRoundRobin(candidates: readonly RouteCandidate[]): string {
    const ids = candidates.map((c) => c.id).sort();
    const last = this.lastRoundRobin;
    const next = (last === undefined ? undefined : ids.find((id) => id > last)) ?? at(ids, 0);
    this.lastRoundRobin = next;
    return next;
  }
}

/** Sets key → workerId as the most recent entry of a bounded, least-recently-set-first map. */
function remember<K>(map: Map<K, string>, key: K, workerId: string, max: number): void {
  map.delete(key);
  map.set(key, workerId);
  if (map.size > max) map.delete(map.keys().next().value!);
}

/** Cached prompt tokens per candidate, and the prompt's first block hash (none if it has no full block before its last token). */
function prefixHits(
  request: RouteRequest,
  candidates: readonly RouteCandidate[],
): { hits: Map<RouteCandidate, number>; root: BlockHash | undefined } {
  const hashesBySize = new Map<number, BlockHash[]>();
  const hits = new Map<RouteCandidate, number>();
  const n = request.promptTokenIds.length;
  const salt = request.cacheSalt ?? null;
  const given = request.blockHashes;
  let root: BlockHash | undefined;
  for (const c of candidates) {
    let hashes = hashesBySize.get(c.blockSize);
    if (hashes === undefined) {
      // Same cap as KVCacheManager.getComputedBlocks: only blocks entirely before the last token.
      const maxHitBlocks = Math.max(0, Math.floor((n - 1) / c.blockSize));
      if (
        given !== undefined &&
        given.blockSize === c.blockSize &&
        given.cacheSalt === salt &&
        given.hashes.length >= maxHitBlocks
      ) {
        hashes = given.hashes.slice(0, maxHitBlocks);
      } else {
        hashes = [];
        extendBlockHashes(hashes, request.promptTokenIds, c.blockSize, maxHitBlocks, salt);
      }
      hashesBySize.set(c.blockSize, hashes);
      root ??= hashes[0];
    }
    hits.set(c, hashes.length === 0 ? 0 : c.cachedPrefixTokens(hashes));
  }
  return { hits, root };
}

/** argmax of (score, −load, freeBlockRatio, −id) over a non-empty list. */
function best(candidates: readonly RouteCandidate[], score: (c: RouteCandidate) => number): RouteCandidate {
  let top = at(candidates, 0);
  for (const c of candidates.slice(1)) {
    const d =
      score(c) - score(top) || top.load - c.load || c.freeBlockRatio - top.freeBlockRatio || (c.id < top.id ? 1 : -1);
    if (d > 0) top = c;
  }
  return top;
}
