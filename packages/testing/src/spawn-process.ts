import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { track } from './process-registry.js';

/** One line of a process's output: its JSON log record, or `{ msg: line, raw: true }` for other text. */
export type LogRecord = Record<string, unknown> & { msg?: string; raw?: boolean };

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Name used in errors and echoed logs (default: the command). */
  name?: string;
  cwd?: string;
  /** Extra environment; merged over process.env unless `inheritEnv` is false. */
  env?: Record<string, string>;
  inheritEnv?: boolean;
  /** Echo the process's output to stderr (also on when LOOM_TEST_LOGS=1). */
  echo?: boolean;
}

export interface ManagedProcess {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Every output line so far, stdout and stderr, parsed. */
  logs: LogRecord[];
  /** Every output line so far as text. */
  output(): string;
  /** Resolve with the first line (past or future) matching `predicate`; reject on timeout or exit first. */
  waitForLog(predicate: (rec: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  exited: Promise<ExitInfo>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

function parseLine(line: string): LogRecord {
  if (line.startsWith('{')) {
    try {
      const rec = JSON.parse(line) as unknown;
      if (rec && typeof rec === 'object' && !Array.isArray(rec)) return rec as LogRecord;
    } catch {
      // not JSON after all
    }
  }
  return { msg: line, raw: true };
}

const tail = (lines: string[], n = 30) => lines.slice(-n).join('\n');

/** Start a process whose stdout/stderr lines are captured (and parsed when JSON); tracked for cleanup. */
export function spawnProcess(command: string, args: string[], opts: SpawnOptions = {}): ManagedProcess {
  const name = opts.name ?? command;
  const env = opts.inheritEnv === false ? { ...opts.env } : { ...process.env, ...opts.env };
  const proc = spawn(command, args, { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  track(proc);
  proc.stdin!.on('error', () => undefined); // EPIPE once it has exited
  const echo = opts.echo ?? process.env.LOOM_TEST_LOGS === '1';
  const lines: string[] = [];
  const logs: LogRecord[] = [];
  const waiters = new Set<(rec: LogRecord) => void>();
  const onLine = (line: string) => {
    lines.push(line);
    const rec = parseLine(line);
    logs.push(rec);
    if (echo) process.stderr.write(`[${name}] ${line}\n`);
    for (const w of [...waiters]) w(rec);
  };
  createInterface({ input: proc.stdout! }).on('line', onLine);
  createInterface({ input: proc.stderr! }).on('line', onLine);
  let spawnError: Error | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    proc.once('error', (err) => {
      spawnError = err;
      resolve({ code: null, signal: null });
    });
    proc.once('close', (code, signal) => resolve({ code, signal }));
  });

  const waitForLog = (predicate: (rec: LogRecord) => boolean, timeoutMs = 10_000) =>
    new Promise<LogRecord>((resolve, reject) => {
      const seen = logs.find(predicate);
      if (seen) return resolve(seen);
      const done = () => {
        waiters.delete(check);
        clearTimeout(timer);
      };
      const check = (rec: LogRecord) => {
        if (!predicate(rec)) return;
        done();
        resolve(rec);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${name}: no matching log line within ${timeoutMs} ms. Last output:\n${tail(lines)}`));
      }, timeoutMs);
      waiters.add(check);
      void exited.then((e) => {
        if (!waiters.has(check)) return;
        done();
        const why = spawnError
          ? `could not start (${spawnError.message})`
          : `exited (code ${e.code}, signal ${e.signal})`;
        reject(new Error(`${name} ${why} before the awaited log line. Last output:\n${tail(lines)}`));
      });
    });

  const alive = () => proc.exitCode === null && proc.signalCode === null && !spawnError;
  return {
    name,
    proc,
    pid: proc.pid ?? -1,
    logs,
    output: () => lines.join('\n'),
    waitForLog,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (alive()) proc.kill(signal);
    },
    stop: async (graceMs = 5_000) => {
      if (alive()) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => alive() && proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}
