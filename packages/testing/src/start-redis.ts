import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForRedis } from '@loom/common';
import { freePort } from '@loom/common';
import { spawnProcess, type ManagedProcess } from './spawn-process.js';

export interface RedisHandle {
  url: string;
  /** 'container' (testcontainers) or 'local' (a redis-server child process). */
  kind: 'container' | 'local';
  /** Kill the server (SIGKILL: no final save) and start it again on the same port and data dir. Local only. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** AOF on in a temp dir, so data survives restart() (always a local redis-server). */
  persistent?: boolean;
}

/** Whether a Docker engine answers /_ping on its socket within a moment. */
function dockerAnswers(): Promise<boolean> {
  const host = process.env.DOCKER_HOST;
  if (host && !host.startsWith('unix://')) return Promise.resolve(true); // remote engine: let testcontainers try
  const socketPath = host ? host.slice('unix://'.length) : '/var/run/docker.sock';
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

const hasRedisServer = () => spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;

async function startContainer(): Promise<RedisHandle> {
  // This VM looks like a container (/.dockerenv) and has no reaper image: tell testcontainers so.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
  const { RedisContainer } = await import('@testcontainers/redis');
  const c = await new RedisContainer(process.env.LOOM_TEST_REDIS_IMAGE ?? 'redis:7-alpine').start();
  const url = c.getConnectionUrl();
  await waitForRedis(url);
  return {
    url,
    kind: 'container',
    restart: () => Promise.reject(new Error('restart() needs startRedis({ persistent: true }) (a local redis-server)')),
    stop: async () => void (await c.stop()),
  };
}

async function startLocal(persistent: boolean): Promise<RedisHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'loom-redis-'));
  const args = (port: number) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--dir',
    dir,
    '--appendonly',
    persistent ? 'yes' : 'no',
    ...(persistent ? ['--appendfsync', 'always'] : []),
  ];
  let port = 0;
  let proc: ManagedProcess | undefined;
  const launch = async () => {
    proc = spawnProcess('redis-server', args(port), { name: `redis-server:${port}` });
    const url = `redis://127.0.0.1:${port}`;
    // Its own "ready" line first (waitForLog fails fast, with the output, if it exits: port taken),
    // so the PING check below succeeds at once instead of polling a closed port.
    await proc.waitForLog((r) => String(r.msg).includes('Ready to accept connections'), 10_000);
    await waitForRedis(url, 5_000);
  };
  let lastErr: unknown;
  // freePort has a small race with other processes taking the port: retry on a fresh one.
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    try {
      await launch();
      lastErr = undefined;
      break;
    } catch (err) {
      lastErr = err;
      await proc?.stop(1_000);
    }
  }
  if (lastErr) {
    rmSync(dir, { recursive: true, force: true });
    throw lastErr;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    kind: 'local',
    restart: async () => {
      proc?.kill('SIGKILL');
      await proc?.exited;
      await launch();
    },
    stop: async () => {
      await proc?.stop(2_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh, empty Redis for one test: a testcontainers RedisContainer when a Docker engine answers
 * (and the image can be had), else a local redis-server child on a free port. LOOM_TEST_REDIS=local
 * or =container forces one.
 */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisHandle> {
  const forced = process.env.LOOM_TEST_REDIS;
  const local = hasRedisServer();
  if (!opts.persistent && forced !== 'local' && (forced === 'container' || (await dockerAnswers()))) {
    try {
      return await startContainer();
    } catch (err) {
      if (forced === 'container' || !local)
        throw new Error(`could not start a Redis container: ${(err as Error).message}`);
      // e.g. no registry to pull the image from: the local binary does the same job.
    }
  }
  if (!local) {
    throw new Error(
      'no Redis for tests: redis-server is not on PATH and no Docker engine answers. ' +
        'Install Redis (Debian: apt-get install -y redis-server, or run node scripts/ensure.mjs --for test).',
    );
  }
  return startLocal(opts.persistent ?? false);
}
