import { at, entry } from '@loom/common';
import { medianRange, spread } from '@loom/bench';
import { commandStatsDelta, cpuTimes, redisCommandStats, type RedisCommandStats } from '../fixtures/process-stats.js';

/** What the control plane spent on one timed run, per 1,000 generated tokens. */
export interface ControlPlaneCost {
  /** CPU seconds (user + system, /proc/PID/stat) per process: gateway, scheduler, redis. */
  cpuS: Record<string, number>;
  /** The kernel-mode part of cpuS (socket reads and writes, wake-ups, page faults). */
  systemS: Record<string, number>;
  /**
   * cpuS less what each process spends idle over the time 1,000 tokens took (its idle rate,
   * measured before the run, times the run's seconds per 1,000 tokens): the part the load drives.
   * The idle part (timers, polls, heartbeats) grows per token as throughput falls, so on a slow or
   * busy machine cpuS overstates what serving a token costs.
   */
  loadCpuS: Record<string, number>;
  /** CPU seconds per second of each process while the cluster was idle. */
  idleCpuSPerS: Record<string, number>;
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
    private readonly idle: Record<string, number>,
    private readonly cpu0: Record<string, { user: number; system: number }>,
    private readonly stats0: RedisCommandStats,
  ) {}

  /** Each process's CPU seconds per second over `ms` of an idle cluster. */
  static async idleRates(pids: Record<string, number>, ms: number): Promise<Record<string, number>> {
    const cpu0 = cpuOf(pids);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    const s = (performance.now() - t0) / 1000;
    const cpu1 = cpuOf(pids);
    return Object.fromEntries(Object.keys(pids).map((k) => [k, (total(entry(cpu1, k)) - total(entry(cpu0, k))) / s]));
  }

  /** `idle`: the processes' idle rates (idleRates()), taken before the warm-up. */
  static async start(
    pids: Record<string, number>,
    redisUrl: string,
    idle: Record<string, number>,
  ): Promise<ControlPlaneMeter> {
    const stats0 = await redisCommandStats(redisUrl);
    return new ControlPlaneMeter(pids, redisUrl, idle, cpuOf(pids), stats0);
  }

  /** The cost since start(), per 1,000 of `tokens` (the run's generated tokens, over `durationS`). */
  async stop(tokens: number, durationS: number): Promise<ControlPlaneCost> {
    const per1k = (x: number) => (x / tokens) * 1000;
    const cpu1 = cpuOf(this.pids);
    const cpuS = Object.fromEntries(
      Object.keys(this.pids).map((k) => [k, per1k(total(entry(cpu1, k)) - total(entry(this.cpu0, k)))]),
    );
    const systemS = Object.fromEntries(
      Object.keys(this.pids).map((k) => [k, per1k(entry(cpu1, k).system - entry(this.cpu0, k).system)]),
    );
    const loadCpuS = Object.fromEntries(
      Object.keys(this.pids).map((k) => [k, entry(cpuS, k) - per1k(entry(this.idle, k) * durationS)]),
    );
    const redis = commandStatsDelta(this.stats0, await redisCommandStats(this.redisUrl)).map((c) => ({
      command: c.command,
      calls: per1k(c.calls),
      usec: per1k(c.usec),
    }));
    return { cpuS, systemS, loadCpuS, idleCpuSPerS: this.idle, redis };
  }
}

const cpuOf = (pids: Record<string, number>) =>
  Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuTimes(pid)]));
const total = (t: { user: number; system: number }) => t.user + t.system;

/** Printable lines for one workload's runs: CPU per process and together, then Redis's top commands. */
export function formatControlPlaneCost(workload: string, costs: ControlPlaneCost[], topCommands = 6): string[] {
  const procs = Object.keys(at(costs, 0).cpuS);
  const line = (what: string, f: (c: ControlPlaneCost) => Record<string, number>, digits: number, scale = 1) =>
    `${workload}: ${what}: ${procs
      .map(
        (k) =>
          `${k} ${medianRange(
            costs.map((c) => entry(f(c), k) * scale),
            digits,
          )}`,
      )
      .join(', ')}, together ${medianRange(
      costs.map((c) => procs.reduce((s, k) => s + entry(f(c), k), 0) * scale),
      digits,
    )}`;
  const lines = [
    line('CPU s per 1,000 generated tokens', (c) => c.cpuS, 3),
    line('of which in the kernel (system time)', (c) => c.systemS, 3),
    line('the same less the idle rate (load-driven)', (c) => c.loadCpuS, 3),
    line('idle CPU ms per s (before the run)', (c) => c.idleCpuSPerS, 1, 1000),
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
