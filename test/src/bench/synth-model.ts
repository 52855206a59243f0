import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliMain } from '../harness/paths.js';

/**
 * A random-weight GGUF in the given shape (`loom model synth --shape`), written once per shape and
 * dtype to the temp folder and reused by later runs; its path.
 */
export function synthModel(shape: string, dtype = 'f32'): string {
  const file = path.join(os.tmpdir(), `loom-bench-${shape.replace(/[^A-Za-z0-9.=_-]+/g, '_')}-${dtype}.gguf`);
  if (!existsSync(file))
    execFileSync(
      process.execPath,
      [cliMain(), 'model', 'synth', '--shape', shape, '--dtype', dtype, '--quiet', '-o', file],
      {
        stdio: 'inherit',
      },
    );
  return file;
}
