import { describe, test } from 'node:test';
import { assertPassed } from '../chaos/chaos-report.js';
import { workerKillScenario } from '../chaos/worker-kill.js';

/**
 * DESIGN.md's failure model: a worker that dies mid-generation loses nothing. Its sequences are
 * recomputed on the surviving worker from prompt + tokens already streamed, and each client's
 * stream continues with no gap, duplicate or error: the text equals an undisturbed greedy run. These
 * are the chaos suite's worker scenarios (`npm run chaos`) at a reduced size.
 */
describe('a worker dies mid-generation', () => {
  test('every stream completes with the undisturbed greedy text after SIGKILL of a worker', async () => {
    assertPassed(await workerKillScenario({ streams: 8, maxTokens: 300, signal: 'SIGKILL' }));
  });

  test('a worker stopped with SIGTERM drains: its requests finish elsewhere, unchanged, and it exits 0', async () => {
    assertPassed(await workerKillScenario({ streams: 8, maxTokens: 300, signal: 'SIGTERM' }));
  });
});
