import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@loom/common';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../errors/api-error.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { LOGGER, RATE_LIMITER } from '../di-tokens.js';
import type { RateLimiter } from './redis-rate-limiter.js';

/** Admission against the principal's per-minute budgets: a 429 with Retry-After past either one. */
@Injectable()
export class RateLimits {
  constructor(
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter | null,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** `tokens`: prompt tokens plus the most the request may generate (OpenAI counts max_tokens up front too). */
  async admit(p: Principal, tokens: number): Promise<void> {
    if (!this.limiter || (p.rpm <= 0 && p.tpm <= 0)) return;
    const d = await this.limiter.take(p.keyId, { rpm: p.rpm, tpm: p.tpm }, tokens);
    if (d.allowed) return;
    this.metrics.rateLimited.inc({ limit: d.limit });
    this.log.info({ keyId: p.keyId, tenant: p.tenant, limit: d.limit }, 'rate limited');
    const retryAfterS = Math.max(1, Math.ceil(d.retryAfterMs / 1000));
    const message =
      d.limit === 'rpm'
        ? `Rate limit reached: ${p.rpm} requests per minute. Retry after ${retryAfterS} s.`
        : tokens > p.tpm
          ? `Request too large: it may use ${tokens} tokens (prompt + max_tokens × n), more than the limit of ${p.tpm} tokens per minute.`
          : `Rate limit reached: ${p.tpm} tokens per minute. Retry after ${retryAfterS} s.`;
    throw new ApiError(429, message, 'rate_limit_error', null, 'rate_limit_exceeded', {
      'retry-after': String(retryAfterS),
    });
  }
}
