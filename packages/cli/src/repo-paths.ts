import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, found from this file's place in it: packages/cli/dist/repo-paths.js. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The compiled CLI entry point, which `loom up` runs again for each child process. */
export const CLI_MAIN = join(REPO_ROOT, 'packages', 'cli', 'dist', 'main.js');

/** Where the native engine's sources and build output live in a source checkout. */
export const ENGINE_DIR = join(REPO_ROOT, 'services', 'worker', 'engine');
