import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, from this file's place in it: test/dist/harness/paths.js. */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** The shared data folder (models, specs) that sits next to the repository: ../shared. */
export function sharedDir(): string {
  const dir = join(repoRoot(), '..', 'shared');
  if (!existsSync(dir)) {
    throw new Error(`${dir} is missing: tests need the shared folder (models/, specs/) next to the repository root.`);
  }
  return dir;
}

/** The compiled CLI entry point that spawnService runs. */
export function cliMain(): string {
  const main = join(repoRoot(), 'packages', 'cli', 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx tsc -b).`);
  return main;
}
