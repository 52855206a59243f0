import { describe, test } from 'node:test';
import { assertPassed } from '../chaos/chaos-report.js';
import { schedulerKillScenario } from '../chaos/scheduler-kill.js';

/**
 * DESIGN.md's failure model: the scheduler dies. A standby takes the lease (with a larger fencing
 * token) within 5 s, resets the workers and resumes every in-flight request from Redis; clients'
 * streams just continue, with the undisturbed greedy text. The chaos suite's scenario at a reduced size.
 */
describe('the active scheduler dies', () => {
  test('a standby takes over within 5 s and every stream completes unchanged', async () => {
    assertPassed(await schedulerKillScenario({ streams: 4, maxTokens: 400, workers: 1 }));
  });
});
