import type { ScenarioResult } from './chaos-report.js';
import { abandonedStreamsScenario } from './abandoned-streams.js';
import { fuzzScenario } from './fuzz-requests.js';
import { overloadScenario } from './overload.js';
import { redisRestartScenario } from './redis-restart.js';
import { schedulerKillScenario } from './scheduler-kill.js';
import { workerKillScenario } from './worker-kill.js';

/** A chaos scenario at full size (`npm run chaos`) and reduced (the form `npm test` runs). */
export interface Scenario {
  name: string;
  full: () => Promise<ScenarioResult>;
  reduced: () => Promise<ScenarioResult>;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'worker-kill',
    full: () => workerKillScenario({ streams: 200, maxTokens: 128, signal: 'SIGKILL' }),
    reduced: () => workerKillScenario({ streams: 8, maxTokens: 300, signal: 'SIGKILL' }),
  },
  {
    name: 'worker-stall',
    full: () => workerKillScenario({ streams: 200, maxTokens: 128, signal: 'SIGSTOP' }),
    reduced: () => workerKillScenario({ streams: 8, maxTokens: 300, signal: 'SIGSTOP' }),
  },
  {
    name: 'worker-drain',
    full: () => workerKillScenario({ streams: 200, maxTokens: 128, signal: 'SIGTERM' }),
    reduced: () => workerKillScenario({ streams: 8, maxTokens: 300, signal: 'SIGTERM' }),
  },
  {
    name: 'scheduler-kill',
    full: () => schedulerKillScenario({ streams: 64, maxTokens: 256, workers: 2 }),
    reduced: () => schedulerKillScenario({ streams: 4, maxTokens: 400, workers: 1 }),
  },
  {
    name: 'redis-restart',
    full: () => redisRestartScenario({ streams: 64, maxTokens: 256, workers: 2, arrivals: 32 }),
    reduced: () => redisRestartScenario({ streams: 6, maxTokens: 300, workers: 1, arrivals: 4 }),
  },
  {
    name: 'abandon',
    full: () => abandonedStreamsScenario({ clients: 1000, workers: 2 }),
    reduced: () => abandonedStreamsScenario({ clients: 100, workers: 1 }),
  },
  {
    name: 'overload',
    full: () =>
      overloadScenario({ workers: 2, maxQueueLength: 128, calibrateSeconds: 10, overloadSeconds: 10, factor: 10 }),
    reduced: () =>
      overloadScenario({ workers: 1, maxQueueLength: 32, calibrateSeconds: 3, overloadSeconds: 3, factor: 10 }),
  },
  {
    name: 'fuzz',
    full: () => fuzzScenario({ count: 10_000, concurrency: 32, seed: 1 }),
    reduced: () => fuzzScenario({ count: 1_000, concurrency: 16, seed: 2 }),
  },
];
