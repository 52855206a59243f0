import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Path of a binary from Debian's `prometheus` package, or an Error saying what to install. */
export function requireBinary(name: 'promtool' | 'prometheus'): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  throw new Error(
    `${name} not found on PATH: install Debian's prometheus package (apt-get install -y prometheus), ` +
      `which ships prometheus and promtool; \`node scripts/ensure.mjs --for test\` does it when run as root`,
  );
}

export function run(bin: string, args: string[], cwd?: string): { status: number; out: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', cwd });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
