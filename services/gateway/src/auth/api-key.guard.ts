import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.js';
import { KEY_STORE } from '../tokens.js';
import type { KeyStore } from './key-store.js';
import { setPrincipal } from './principal.js';
import { IS_PUBLIC } from './public.decorator.js';

/**
 * `Authorization: Bearer <key>` whenever the gateway has keys (list, file or Redis). The matching
 * key's principal (tenant, priority, cache salt, limits) is attached to the request for the
 * generation path.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(KEY_STORE) private readonly keys: KeyStore,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (!this.keys.required) return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (m) {
      const principal = await this.keys.authenticate(m[1]!.trim());
      if (principal) {
        setPrincipal(req, principal);
        return true;
      }
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
