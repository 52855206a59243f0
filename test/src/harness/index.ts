export { repoRoot, sharedDir, cliMain } from './paths.js';
export { freePort } from './free-port.js';
export { waitFor, waitForHttp, type WaitOptions } from './wait-for.js';
export { startRedis, type RedisHandle, type StartRedisOptions } from './start-redis.js';
export { spawnProcess, type ExitInfo, type LogRecord, type ManagedProcess, type SpawnOptions } from './spawn-process.js';
export { spawnService, type ServiceKind, type ServiceProcess, type SpawnServiceOptions } from './spawn-service.js';
