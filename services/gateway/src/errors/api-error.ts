/** OpenAI's error `type` values that Loom uses. */
export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'service_unavailable_error';

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export interface ErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null };
}

/**
 * An error that is the client's answer: status + OpenAI error body. Everything that can go wrong
 * is turned into one of these in exactly one place (the exception filter), so every endpoint
 * answers errors the same way.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ApiErrorType,
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Extra response headers (Retry-After, WWW-Authenticate). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  static invalid(message: string, param: string | null = null, code: string | null = 'invalid_value'): ApiError {
    return new ApiError(400, message, 'invalid_request_error', param, code);
  }

  static modelNotFound(model: string): ApiError {
    return new ApiError(
      404,
      `The model '${model}' does not exist.`,
      'invalid_request_error',
      'model',
      'model_not_found',
    );
  }

  static contextLengthExceeded(
    param: string,
    promptTokens: number,
    maxTokens: number,
    contextLength: number,
  ): ApiError {
    return new ApiError(
      400,
      `This model's maximum context length is ${contextLength} tokens. However, you requested ${promptTokens + maxTokens} tokens ` +
        `(${promptTokens} in the ${param}, ${maxTokens} for the completion). Please reduce the length of the ${param} or completion.`,
      'invalid_request_error',
      param,
      'context_length_exceeded',
    );
  }

  static unsupported(param: string, message: string): ApiError {
    return new ApiError(400, message, 'invalid_request_error', param, 'unsupported_parameter');
  }
}
