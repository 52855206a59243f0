import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.js';
import type { KeyStore } from './key-store.js';
import type { Principal } from './principal.js';
import { at } from '@loom/common';

/**
 * The principal of a request's `Authorization: Bearer <key>`, or a 401 ApiError in OpenAI's format
 * (missing or unknown key). Only for a gateway whose keys are required.
 */
export async function authenticate(keys: KeyStore, req: FastifyRequest): Promise<Principal> {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (m) {
    const principal = await keys.authenticate(at(m, 1).trim());
    if (principal) return principal;
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
