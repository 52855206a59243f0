import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliMain } from './paths.js';

/** What the harness uses from the compiled CLI: the same constants and helpers `loom up` uses, not copies. */
export interface CliExports {
  READY_EVENT: string;
  STOP_ON_STDIN_EOF: string;
}

let cached: Promise<CliExports> | undefined;

/** The CLI's index, loaded from its build output (the test workspace has no build-time dependency on it). */
export function cliModule(): Promise<CliExports> {
  cached ??= import(pathToFileURL(join(cliMain(), '..', 'index.js')).href) as Promise<CliExports>;
  return cached;
}
