import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Logger } from '@loom/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { toApiError } from './to-api-error.js';

/**
 * The one place errors become responses: Nest routes controller errors, unknown routes and
 * fastify's own errors (bad JSON, body too large) through here, so every error body has
 * OpenAI's shape.
 */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const req = host.switchToHttp().getRequest<FastifyRequest>();
    const err = toApiError(exception);
    this.metrics.requestErrors.inc({ status: String(err.status), code: err.code ?? err.type });
    if (err.status >= 500) this.log.error({ err: exception, url: req?.url }, 'request failed');
    else this.log.debug({ status: err.status, code: err.code, param: err.param, url: req?.url }, 'client error');
    if (reply.sent || reply.raw.headersSent) {
      // Mid-stream errors are written by the SSE path itself; nothing more can be said here.
      if (!reply.raw.writableEnded) reply.raw.end();
      return;
    }
    reply.status(err.status).headers(err.headers).type('application/json').send(err.body());
  }
}
