import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.js';
import { authenticate } from './authenticate.js';
import type { KeyStore } from './key-store.js';
import { setPrincipal } from './principal.js';

/** A POST with a body (the routes that take one; the public ones are GETs). */
const postsBody = (req: FastifyRequest) =>
  req.method === 'POST' &&
  ((req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') ||
    req.headers['transfer-encoding'] !== undefined);

/**
 * Checks the API key of a request with a body before fastify reads and parses that body: a
 * client without a valid key gets its 401 before the gateway spends memory and CPU on up to
 * bodyLimit bytes (and before a malformed body could answer 400/413 to someone unauthenticated).
 * The principal found is kept for ApiKeyGuard, which still covers the requests without a body
 * (and knows which routes are public: none of them takes a body).
 */
export function installApiKeyHook(fastify: FastifyInstance, keys: KeyStore): void {
  fastify.addHook('preParsing', async (req, reply, payload) => {
    if (!keys.required || !postsBody(req)) return payload;
    try {
      setPrincipal(req, await authenticate(keys, req));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      // The unread body is left to the server (drained, or the connection closed): not parsed.
      reply
        .code(err.status)
        .headers(err.headers)
        .header('connection', 'close')
        .type('application/json; charset=utf-8')
        .send(err.body());
    }
    return payload;
  });
}
