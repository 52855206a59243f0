#!/usr/bin/env node
// Regenerates docs/configuration.md from the settings list (OPTIONS) through the built CLI package.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
if (process.argv.includes('--help')) {
  console.log(
    'usage: node scripts/config-docs.mjs   (writes docs/configuration.md; build first: npx tsc -b packages/cli)',
  );
  process.exit(0);
}
const { configDoc } = await import(pathToFileURL(join(ROOT, 'packages', 'cli', 'dist', 'config-table.js')).href);
writeFileSync(join(ROOT, 'docs', 'configuration.md'), configDoc());
console.log('wrote docs/configuration.md');
