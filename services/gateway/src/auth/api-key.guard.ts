import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { LoomConfig } from '@loom/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.js';
import { CONFIG } from '../tokens.js';
import { IS_PUBLIC } from './public.decorator.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * `Authorization: Bearer <key>` when config.apiKeys is set. Keys are compared as SHA-256 digests
 * with timingSafeEqual (equal lengths, constant time), against every key without early exit, so
 * timing says nothing about which key or prefix matched.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly digests: Buffer[];

  constructor(
    @Inject(CONFIG) config: LoomConfig,
    private readonly reflector: Reflector,
  ) {
    this.digests = config.apiKeys
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean)
      .map(sha256);
  }

  canActivate(ctx: ExecutionContext): boolean {
    if (this.digests.length === 0) return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const header = ctx.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (m) {
      const presented = sha256(m[1]!.trim());
      let ok = false;
      for (const d of this.digests) ok = timingSafeEqual(d, presented) || ok;
      if (ok) return true;
    }
    throw new ApiError(
      401,
      m ? 'Incorrect API key provided.' : "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
      'invalid_request_error',
      null,
      'invalid_api_key',
      { 'www-authenticate': 'Bearer' },
    );
  }
}
