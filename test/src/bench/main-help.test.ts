import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../harness/index.js';

/** The command-line mains built on @loom/common's parseCliArgs, by their npm script. */
const MAINS: Record<string, string> = {
  'bench:engine': 'services/worker/dist/engine/engine-bench.js',
  'bench:serve': 'test/dist/bench/serve-compare-main.js',
  'bench:routing': 'test/dist/bench/routing-bench-main.js',
  'bench:scheduler': 'services/scheduler/dist/bench/scheduler-bench-main.js',
  'bench:structured': 'test/dist/bench/structured-bench-main.js',
  'bench:embeddings': 'test/dist/bench/embeddings-bench-main.js',
  chaos: 'test/dist/chaos/chaos-main.js',
  gateway: 'services/gateway/dist/main.js',
  'kv-bytes-per-token': 'scripts/kv-bytes-per-token.mjs',
  'config-docs': 'scripts/config-docs.mjs',
};

const run = (main: string, args: string[]) =>
  spawnSync(process.execPath, [join(repoRoot(), main), ...args], { encoding: 'utf8', timeout: 60_000 });

describe('command-line mains', () => {
  for (const [name, main] of Object.entries(MAINS)) {
    it(`${name} --help: every option with a description, then examples; exit 0`, () => {
      const r = run(main, ['--help']);
      assert.equal(r.status, 0, r.stderr);
      const [, options = '', examples = ''] = r.stdout.split(/\noptions:\n|\n\nexamples:\n/);
      const rows = options.split('\n');
      assert.ok(rows.length >= 1 && rows.at(-1)?.includes('--help'), r.stdout);
      // `  --name VALUE  description`: a flag, two spaces or more, then words.
      for (const row of rows) assert.match(row, /^ {2}(-\w, )?--[\w-]+( \S+)? {2,}\w/, `${name}: "${row}"`);
      assert.match(examples, /^ {2}\S/, `${name} --help has no examples`);
    });

    it(`${name} --no-such-flag exits 2 naming it and pointing to --help`, () => {
      const r = run(main, ['--no-such-flag']);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /^unknown option --no-such-flag\n/);
      assert.match(r.stderr, /--help lists the options/);
    });
  }
});
