import { HttpException } from '@nestjs/common';
import { z } from 'zod';
import { QueueFullError } from '../backend/inference-backend.js';
import { ApiError, type ApiErrorType } from './api-error.js';
import { apiErrorFromZod } from './zod-error.js';

/** Fastify's own client-error codes, answered with messages a client can act on. */
const FASTIFY_ERRORS: Record<string, { status: number; message: string; code: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    message:
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
    code: 'invalid_json',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    message: 'The request body is empty; expected a JSON object.',
    code: 'invalid_json',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, message: 'The request body is too large.', code: 'request_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    message: 'Unsupported Content-Type; send application/json.',
    code: 'unsupported_media_type',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    message: 'The Content-Length header does not match the body.',
    code: 'invalid_content_length',
  },
};

function typeForStatus(status: number): ApiErrorType {
  if (status === 401 || status === 403) return 'authentication_error';
  if (status === 404) return 'invalid_request_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 503) return 'service_unavailable_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

/**
 * Anything thrown while serving a request → the ApiError the client gets. Unknown errors become a
 * 500 with a generic message (the details go to the log, not to the client).
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof QueueFullError) {
    return new ApiError(429, err.message, 'rate_limit_error', null, 'queue_full', {
      'retry-after': String(err.retryAfterS),
    });
  }
  if (err instanceof z.ZodError) return apiErrorFromZod(err);
  // Nest's fastify adapter wraps fastify's own 4xx errors (bad JSON, body too large) as the cause.
  if (err instanceof HttpException && err.cause && typeof (err.cause as { code?: unknown }).code === 'string')
    return toApiError(err.cause);
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const message =
      status === 404
        ? 'Not found. Check the URL and method (see /v1/models, /v1/completions, /v1/chat/completions).'
        : err.message;
    return new ApiError(status, message, typeForStatus(status), null, status === 404 ? 'not_found' : null);
  }
  const e = err as { code?: string; statusCode?: number; message?: string };
  const known = e.code ? FASTIFY_ERRORS[e.code] : undefined;
  if (known) return new ApiError(known.status, known.message, typeForStatus(known.status), null, known.code);
  // Other fastify client errors (4xx with a statusCode) keep their status: never a 5xx for client input.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError(e.statusCode, e.message ?? 'Bad request.', typeForStatus(e.statusCode), null, e.code ?? null);
  }
  return new ApiError(
    500,
    'The server had an error while processing your request.',
    'server_error',
    null,
    'internal_error',
  );
}
