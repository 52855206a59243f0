import { Redis } from 'ioredis';

/**
 * One ioredis connection. `maxRetriesPerRequest: null` is what BullMQ queue consumers require and what
 * we want everywhere: during a Redis restart commands wait for the reconnect instead of failing.
 */
export function createRedis(url: string, name?: string, opts: { lazy?: boolean } = {}): Redis {
  // lazy: connect at the first command (a connection only some requests need).
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: name, lazyConnect: opts.lazy ?? false });
}

/** Resolve once Redis answers PING, or reject with a message saying what to do. */
export async function waitForRedis(url: string, timeoutMs = 10_000): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await r.connect();
        await r.ping();
        return;
      } catch (err) {
        r.disconnect();
        if (Date.now() > deadline) {
          throw new Error(
            `Redis does not answer at ${url} (${(err as Error).message}). Start one (redis-server) or set REDIS_URL.`,
          );
        }
        await new Promise((res) => setTimeout(res, 200));
      }
    }
  } finally {
    r.disconnect();
  }
}
