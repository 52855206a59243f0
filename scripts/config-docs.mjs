#!/usr/bin/env node
// Regenerates docs/configuration.md from the settings list (OPTIONS) through the built CLI package.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
// After `npx tsc -b packages/cli`, which builds @loom/common too.
const { parseCliArgs } = await import('@loom/common');
parseCliArgs({
  synopsis: 'node scripts/config-docs.mjs',
  about: 'Writes docs/configuration.md from the settings list (OPTIONS). Build first: npx tsc -b packages/cli.',
  options: {},
  examples: ['npx tsc -b packages/cli && node scripts/config-docs.mjs'],
});
const { configDoc } = await import(pathToFileURL(join(ROOT, 'packages', 'cli', 'dist', 'config-table.js')).href);
writeFileSync(join(ROOT, 'docs', 'configuration.md'), configDoc());
console.log('wrote docs/configuration.md');
