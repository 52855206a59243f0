import { readFileSync } from 'node:fs';
import { Controller, Get, Inject } from '@nestjs/common';
import type { InferenceBackend } from '../backend/inference-backend.js';
import { Public } from '../auth/public.decorator.js';
import { ApiError } from '../errors/api-error.js';
import { BACKEND } from '../tokens.js';

const VERSION = (
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
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.backend.ping(), timeout]);
    } catch {
      throw new ApiError(
        503,
        'The gateway cannot reach Redis.',
        'service_unavailable_error',
        null,
        'backend_unavailable',
      );
    } finally {
      clearTimeout(timer);
    }
    return { status: 'ok' };
  }

  @Public()
  @Get('version')
  version() {
    return { version: VERSION };
  }
}
