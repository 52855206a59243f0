import { at } from '@loom/common';
import { disturbedLoad } from '../fixtures/disturbed-load.js';
import { startLocalCluster } from '../fixtures/local-cluster.js';
import { check, zero, type Check, type Figure, type ScenarioResult } from './chaos-report.js';

export interface WorkerKillOptions {
  streams: number;
  maxTokens: number;
  /** SIGKILL (dies), SIGSTOP (stalls: alive, silent, its heartbeat stops) or SIGTERM (drains, exits 0). */
  signal: 'SIGKILL' | 'SIGSTOP' | 'SIGTERM';
}

/**
 * One of two workers goes under `streams` concurrent greedy streams, mid-generation: killed outright
 * (SIGKILL), frozen (SIGSTOP: the process stays, its step stream and heartbeat go silent) or stopped
 * gracefully (SIGTERM: it drains). No request may be lost, no client may see an error, and every text
 * must equal the undisturbed greedy run's: the scheduler recomputes the worker's sequences on the
 * other one. For a stall, the detection time is from the signal to the scheduler's 'worker lost'; the
 * frozen worker is resumed (SIGCONT) afterwards and must rejoin. A drained worker must exit 0.
 */
export async function workerKillScenario(o: WorkerKillOptions): Promise<ScenarioResult> {
  const t0 = performance.now();
  const cluster = await startLocalCluster({ workers: 2 });
  try {
    const victim = at(cluster.workers, 0);
    const checks0: Check[] = [];
    let signalledAt = 0;
    const run = await disturbedLoad({
      cluster,
      streams: o.streams,
      maxTokens: o.maxTokens,
      disturb: () => {
        signalledAt = Date.now();
        victim.kill(o.signal);
      },
    });
    const lost = cluster.scheduler.logs.find((r) => r.msg === 'worker lost' && r.worker === victim.ready?.workerId);
    if (o.signal === 'SIGTERM') {
      const exit = await victim.exited;
      checks0.push(check('the drained worker exits 0', exit.code === 0, JSON.stringify(exit)));
    }
    const detectMs = lost ? Date.parse(String(lost.time)) - signalledAt : NaN;
    const requeued = Number(lost?.requeued ?? 0);
    const checks = [
      ...checks0,
      zero('lost requests', run.lost),
      zero('client errors', run.clientErrors),
      zero('outputs differing from the undisturbed greedy run', run.differing),
      check('the scheduler saw the worker go and requeued its sequences', requeued > 0, `${requeued} requeued`),
    ];
    if (o.signal === 'SIGSTOP') {
      // Resumed, the frozen worker must be taken back and serve again.
      const joined = () => cluster.scheduler.logs.filter((r) => r.msg === 'worker joined').length;
      const before = joined();
      victim.kill('SIGCONT');
      const deadline = Date.now() + 20_000;
      while (joined() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      checks.push(
        check('the resumed worker rejoins', joined() > before, joined() > before ? 'rejoined' : 'not within 20 s'),
      );
    }
    return {
      scenario: {
        SIGKILL: 'worker killed (kill -9)',
        SIGSTOP: 'worker stalled (SIGSTOP)',
        SIGTERM: 'worker drained (SIGTERM)',
      }[o.signal],
      setup: `2 workers, ${o.streams} concurrent greedy streams of ${o.maxTokens} tokens, ${o.signal} one worker once 25% of the tokens streamed`,
      figures: [
        ['streams', o.streams, ''],
        ['sequences requeued from the failed worker', requeued, ''],
        ...(o.signal === 'SIGSTOP' ? [['detection (signal to "worker lost")', detectMs, 'ms'] as Figure] : []),
        ['longest stall a client saw', run.maxGapMs, 'ms'],
        ['lost requests', run.lost, ''],
        ['client errors', run.clientErrors, ''],
        ['outputs differing from undisturbed', run.differing, ''],
      ],
      checks,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await cluster.stop();
  }
}
