import { describe, test } from 'node:test';
import { assertPassed } from './chaos-report.js';
import { SCENARIOS } from './scenarios.js';

/**
 * The chaos suite's reduced form (`npm run chaos -- --reduced` runs the same), each scenario on its
 * own cluster. The kill scenarios run in test/src/e2e (worker-failover, scheduler-failover,
 * redis-restart) at the same reduced sizes; these are the rest.
 */
describe('chaos (reduced)', () => {
  for (const name of ['worker-stall', 'abandon', 'overload', 'fuzz'])
    test(name, async () => assertPassed(await SCENARIOS.find((s) => s.name === name)!.reduced()));
});
