import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { configDoc } from './config-table.js';
import { REPO_ROOT } from './repo-paths.js';

it('docs/configuration.md lists the current settings (regenerate: node scripts/config-docs.mjs)', () => {
  assert.equal(readFileSync(join(REPO_ROOT, 'docs', 'configuration.md'), 'utf8'), configDoc());
});
