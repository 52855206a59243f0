import { readFileSync } from 'node:fs';
import { Controller, Get, Inject } from '@nestjs/common';
import type { InferenceBackend } from '../backend/inference-backend.js';
import { Public } from '../auth/public.decorator.js';
import { ApiError } from '../errors/api-error.js';
import { withTimeout } from '../http/with-timeout.js';
import { BACKEND } from '../di-tokens.js';

export const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** How long /health waits for Redis: commands queue (not fail) while Redis is down, so bound it. */
const PING_TIMEOUT_MS = 2000;

@Controller()
export class HealthController {
  constructor(@Inject(BACKEND) private readonly backend: InferenceBackend) {}

  @Public()
  @Get('health')
  async health() {
    try {
      await withTimeout(this.backend.ping(), PING_TIMEOUT_MS);
    } catch {
      throw new ApiError(
        503,
        'The gateway cannot reach Redis.',
        'service_unavailable_error',
        null,
        'backend_unavailable',
      );
    }
    return { status: 'ok' };
  }

  @Public()
  @Get('version')
  version() {
    return { version: VERSION };
  }
}
