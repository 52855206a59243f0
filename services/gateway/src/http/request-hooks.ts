import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';

/** A client's X-Request-Id is echoed back only when it is a sane token (no header injection, bounded size). */
const REQUEST_ID_RE = /^[\w.:@/+=-]{1,200}$/;

/**
 * Fastify hooks for every request, matched or not: echo X-Request-Id, and count the answer by
 * route template and status when the response closes (streams and hijacked replies included,
 * which fastify's onResponse would miss).
 */
export function installRequestHooks(fastify: FastifyInstance, metrics: GatewayMetrics): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    const id = req.headers['x-request-id'];
    if (typeof id === 'string' && REQUEST_ID_RE.test(id)) reply.header('x-request-id', id);
    reply.raw.once('close', () => {
      const route = req.routeOptions.url ?? 'unmatched';
      metrics.httpRequests.inc({ method: req.method, route, status: String(reply.raw.statusCode) });
    });
    done();
  });
}
