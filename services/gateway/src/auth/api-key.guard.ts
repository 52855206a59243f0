import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { KEY_STORE } from '../di-tokens.js';
import { authenticate } from './authenticate.js';
import type { KeyStore } from './key-store.js';
import { hasPrincipal, setPrincipal } from './principal.js';
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
    // Requests with a body were authenticated before it was parsed (installApiKeyHook).
    if (hasPrincipal(req)) return true;
    setPrincipal(req, await authenticate(this.keys, req));
    return true;
  }
}
