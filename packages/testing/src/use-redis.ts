import { after, before } from 'node:test';
import type { Redis } from 'ioredis';
import { createRedis, InvariantError } from '@loom/common';
import { startRedis, type RedisHandle } from './start-redis.js';

export interface TestRedis {
  /** The server's URL; read it inside tests and hooks (the server starts in a before() hook). */
  readonly url: string;
  /** A new connection (createRedis), closed in the after() hook before the server stops. */
  connect(name?: string): Redis;
}

/**
 * A redis-server (startRedis) for the tests of the enclosing describe, or of the file at top level: it
 * starts in a before() hook and stops in an after() hook registered by this call, which first closes
 * every connection connect() opened. node:test runs after() hooks in the order they were registered, so
 * one that still needs the server (stopping a lease) is registered before this call. At a file's top level
 * node:test starts before() hooks as they are registered, without waiting for the one before, so there
 * connect() belongs inside the tests.
 */
export function useRedis(): TestRedis {
  let server: RedisHandle | undefined;
  const connections: Redis[] = [];
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    for (const c of connections.splice(0)) c.disconnect();
    await server?.stop();
  });
  const url = (): string => {
    if (!server) throw new InvariantError('useRedis(): the server starts in before(); read url inside a test or hook');
    return server.url;
  };
  return {
    get url() {
      return url();
    },
    connect(name?: string) {
      const c = createRedis(url(), name);
      connections.push(c);
      return c;
    },
  };
}
