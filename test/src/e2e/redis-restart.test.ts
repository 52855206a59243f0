import { describe, test } from 'node:test';
import { assertPassed } from '../chaos/chaos-report.js';
import { redisRestartScenario } from '../chaos/redis-restart.js';

/**
 * DESIGN.md's failure model: Redis restarts with AOF on, queues and streams survive, every process
 * reconnects and in-flight work resumes. Redis is SIGKILLed (no final save) mid-generation and
 * started again on the same port and data: each client's stream continues with no gap, duplicate
 * or error, requests sent during the outage are served or refused (never accepted and dropped), and a
 * request after the restart is served. The chaos suite's scenario at a reduced size.
 */
describe('Redis restarts mid-generation', () => {
  test('every accepted request completes, streams with the undisturbed greedy text, and the cluster serves on', async () => {
    assertPassed(await redisRestartScenario({ streams: 6, maxTokens: 300, workers: 1, arrivals: 4 }));
  });
});
