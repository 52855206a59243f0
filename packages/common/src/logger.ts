import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Structured JSON logs on stdout, one line per event, tagged with the service name. Never log prompt or output text. */
export function createLogger(service: string, level = process.env.LOOM_LOG_LEVEL || 'info'): Logger {
  return pino({ level, base: { service, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
