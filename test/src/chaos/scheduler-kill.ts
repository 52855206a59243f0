import { spawnService } from '../harness/index.js';
import { disturbedLoad } from '../fixtures/disturbed-load.js';
import { startLocalCluster } from '../fixtures/local-cluster.js';
import { below, check, zero, type ScenarioResult } from './chaos-report.js';

/**
 * The leader scheduler is killed (SIGKILL) mid-generation while a standby waits. The standby must take
 * the lease (with a larger fencing token) within 5 s, resume every in-flight request from its output
 * stream, and every client's stream must continue to the undisturbed greedy text: none lost, no error.
 * Failover is measured from the kill to the standby's 'elected scheduler leader'; the longest stall
 * a client saw includes the resumption (job locks lapse after 4 s).
 */
export async function schedulerKillScenario(o: {
  streams: number;
  maxTokens: number;
  workers: number;
}): Promise<ScenarioResult> {
  const t0 = performance.now();
  const cluster = await startLocalCluster({ workers: o.workers });
  const standby = await spawnService('scheduler', cluster.env, { name: 'standby-scheduler' });
  try {
    const first = await cluster.scheduler.waitForLog((r) => r.msg === 'elected scheduler leader', 10_000);
    const waitedAsStandby = !standby.logs.some((r) => r.msg === 'elected scheduler leader');
    let killedAt = 0;
    const run = await disturbedLoad({
      cluster,
      streams: o.streams,
      maxTokens: o.maxTokens,
      disturb: () => {
        killedAt = Date.now();
        cluster.scheduler.kill('SIGKILL');
      },
    });
    const elected = standby.logs.find((r) => r.msg === 'elected scheduler leader');
    const failoverMs = elected ? Date.parse(String(elected.time)) - killedAt : NaN;
    const resumed = standby.logs.filter((r) => r.msg === 'request resumed from its output stream').length;
    return {
      scenario: 'leader scheduler killed (kill -9)',
      setup:
        `${o.workers} worker(s), a standby scheduler, ${o.streams} concurrent greedy streams of ` +
        `${o.maxTokens} tokens, SIGKILL the leader once 25% of the tokens streamed`,
      figures: [
        ['streams', o.streams, ''],
        ['failover (kill to standby elected)', failoverMs, 'ms'],
        ['requests resumed by the new leader', resumed, ''],
        ['longest stall a client saw', run.maxGapMs, 'ms'],
        ['lost requests', run.lost, ''],
        ['client errors', run.clientErrors, ''],
        ['outputs differing from undisturbed', run.differing, ''],
      ],
      checks: [
        check('the second scheduler waited as a standby', waitedAsStandby, waitedAsStandby ? 'yes' : 'it led at once'),
        below('failover', failoverMs, 5000, 'ms'),
        check(
          'the new leader holds a larger fencing token',
          Number(elected?.fencingToken) > Number(first.fencingToken),
          `${String(first.fencingToken)} -> ${String(elected?.fencingToken)}`,
        ),
        check('the new leader resumed requests mid-generation', resumed > 0, `${resumed} resumed`),
        zero('lost requests', run.lost),
        zero('client errors', run.clientErrors),
        zero('outputs differing from the undisturbed greedy run', run.differing),
      ],
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await standby.stop();
    await cluster.stop();
  }
}
