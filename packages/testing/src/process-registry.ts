import type { ChildProcess } from 'node:child_process';

/**
 * Every process the harness starts, so none outlives the test file even when a test forgets stop()
 * or the runner kills the file on a timeout.
 */
const live = new Set<ChildProcess>();

function killAll(): void {
  for (const p of live) {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
  live.clear();
}

let installed = false;
function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  // once: after cleaning up, re-raise the signal so the default action (exit) still happens.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
  }
}

export function track(p: ChildProcess): void {
  install();
  live.add(p);
  p.once('exit', () => live.delete(p));
}
