export { freePort } from '@loom/common';
export { waitFor, waitForHttp, type WaitOptions } from './wait-for.js';
export { startRedis, type RedisHandle, type StartRedisOptions } from './start-redis.js';
export { useRedis, type TestRedis } from './use-redis.js';
export {
  spawnProcess,
  type ExitInfo,
  type LogRecord,
  type ManagedProcess,
  type SpawnOptions,
} from './spawn-process.js';
export { seededRandom } from '@loom/common';
export { SHARED_DIR } from './shared-dir.js';
export { relErr } from './rel-err.js';
export { cpuLlama } from './cpu-llama.js';
