import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI_MAIN } from './repo-paths.js';
import { READY_EVENT, STOP_ON_STDIN_EOF } from './child-protocol.js';
import type { ServiceKind } from './service-kinds.js';

export interface ReadyInfo {
  url?: string;
  address?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SupervisedChild {
  name: string;
  kind: ServiceKind;
  proc: ChildProcess;
  /** Resolves when the child logs READY_EVENT; rejects if it exits first. */
  ready: Promise<ReadyInfo>;
  exited: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs: number): Promise<ExitInfo>;
}

/**
 * Start `loom <kind>` as a child and forward its output line by line through `forward`.
 * The child gets its own process group so a terminal's Ctrl-C reaches only `loom up`, which then
 * stops the children in order; its stdin is a pipe so it also stops if `loom up` is killed outright.
 */
export function superviseChild(
  name: string,
  kind: ServiceKind,
  env: Record<string, string>,
  forward: (line: string, stream: 'stdout' | 'stderr') => void,
): SupervisedChild {
  const proc = spawn(process.execPath, [CLI_MAIN, kind], {
    env: { ...process.env, ...env, [STOP_ON_STDIN_EOF]: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<ExitInfo>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise<ReadyInfo>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      forward(line, 'stdout');
      if (!line.includes(READY_EVENT)) return;
      try {
        const rec = JSON.parse(line) as { msg?: string; url?: string; address?: string };
        if (rec.msg === READY_EVENT) resolve({ url: rec.url, address: rec.address });
      } catch {
        // not a JSON log line: only forwarded
      }
    });
    void exited.then((e) =>
      reject(new Error(`${name} exited before it was ready (code ${e.code}, signal ${e.signal})`)),
    );
  });
  ready.catch(() => undefined); // observed by the caller; never an unhandled rejection
  createInterface({ input: proc.stderr! }).on('line', (line) => forward(line, 'stderr'));
  proc.stdin!.on('error', () => undefined); // EPIPE when the child is already gone

  const stop = async (graceMs: number): Promise<ExitInfo> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const e = await exited;
      clearTimeout(timer);
      return e;
    }
    return exited;
  };
  return { name, kind, proc, ready, exited, stop };
}
