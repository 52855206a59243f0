import { medianRange, spread } from '@loom/bench';
import { commandStatsDelta, cpuSeconds, redisCommandStats, type RedisCommandStats } from '../fixtures/process-stats.js';

/** What the control plane spent on one timed run, per 1,000 generated tokens. */
export interface ControlPlaneCost {
  /** CPU seconds (user + system, /proc/PID/stat) per process: gateway, scheduler, redis. */
  cpuS: Record<string, number>;
  /** Redis commands (INFO commandstats; those a Lua script runs count too): calls and CPU microseconds. */
  redis: { command: string; calls: number; usec: number }[];
}

/**
 * Counts the CPU time of the control plane's processes and Redis's commands between start() and
 * stop(tokens). Readings are cumulative counters sampled twice, so the meter adds nothing to the
 * processes it watches beyond two /proc reads and two INFO calls.
 */
export class ControlPlaneMeter {
  private constructor(
    private readonly pids: Record<string, number>,
    private readonly redisUrl: string,
    private readonly cpu0: Record<string, number>,
    private readonly stats0: RedisCommandStats,
  ) {}

  static async start(pids: Record<string, number>, redisUrl: string): Promise<ControlPlaneMeter> {
    const stats0 = await redisCommandStats(redisUrl);
    const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    return new ControlPlaneMeter(pids, redisUrl, cpu0, stats0);
  }

  /** The cost since start(), per 1,000 of `tokens` (the run's generated tokens). */
  async stop(tokens: number): Promise<ControlPlaneCost> {
    const per1k = (x: number) => (x / tokens) * 1000;
    const cpuS = Object.fromEntries(
      Object.entries(this.pids).map(([k, pid]) => [k, per1k(cpuSeconds(pid) - this.cpu0[k]!)]),
    );
    const redis = commandStatsDelta(this.stats0, await redisCommandStats(this.redisUrl)).map((c) => ({
      command: c.command,
      calls: per1k(c.calls),
      usec: per1k(c.usec),
    }));
    return { cpuS, redis };
  }
}

/** Printable lines for one workload's runs: CPU per process and together, then Redis's top commands. */
export function formatControlPlaneCost(workload: string, costs: ControlPlaneCost[], topCommands = 6): string[] {
  const procs = Object.keys(costs[0]!.cpuS);
  const total = costs.map((c) => procs.reduce((s, k) => s + c.cpuS[k]!, 0));
  const lines = [
    `${workload}: CPU s per 1,000 generated tokens: ${procs
      .map(
        (k) =>
          `${k} ${medianRange(
            costs.map((c) => c.cpuS[k]!),
            3,
          )}`,
      )
      .join(', ')}, together ${medianRange(total, 3)}`,
  ];
  const commands = [...new Set(costs.flatMap((c) => c.redis.slice(0, topCommands).map((r) => r.command)))];
  const of = (c: ControlPlaneCost, cmd: string) => c.redis.find((r) => r.command === cmd) ?? { calls: 0, usec: 0 };
  const rows = commands
    .map((cmd) => ({
      cmd,
      calls: spread(costs.map((c) => of(c, cmd).calls)).median,
      ms: spread(costs.map((c) => of(c, cmd).usec / 1000)).median,
    }))
    .sort((a, b) => b.ms - a.ms);
  lines.push(
    `${workload}: Redis per 1,000 generated tokens (median over rounds): ${rows
      .map((r) => `${r.cmd} ${r.calls.toFixed(1)} calls ${r.ms.toFixed(2)} ms`)
      .join(', ')}`,
  );
  return lines;
}
