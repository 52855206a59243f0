export { repoRoot, sharedDir, cliMain } from './paths.js';
export { freePort, waitFor, waitForHttp, startRedis, spawnProcess } from '@loom/testing';
export type {
  WaitOptions,
  RedisHandle,
  StartRedisOptions,
  ExitInfo,
  LogRecord,
  ManagedProcess,
  SpawnOptions,
} from '@loom/testing';
export { spawnService, type ServiceKind, type ServiceProcess, type SpawnServiceOptions } from './spawn-service.js';
