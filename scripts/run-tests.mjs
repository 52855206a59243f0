#!/usr/bin/env node
// Runs the compiled tests of every workspace with node's built-in runner: unit tests (packages/*,
// services/*) first, then the cross-service tests in test/ one file at a time, since those start
// real processes and servers. Prints a combined `# pass N` / `# fail N` summary last.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const HELP = `usage: node scripts/run-tests.mjs [--unit] [files...]

Runs dist/**/*.test.js of every workspace (build first: npx tsc -b, or npm test which does it).
  --unit     only unit tests (packages/*, services/*), not the cross-service tests in test/
  files...   only these test files; src/**/*.test.ts paths are mapped to their dist/**/*.test.js
Env: LOOM_TEST_TIMEOUT_MS (per test; default 120000 unit, 300000 cross-service).`;

const CROSS_WORKSPACE = 'test';

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

/** dist/x.test.js is stale (tsc -b never deletes outputs) unless src/x.test.ts still exists. */
function hasSource(distFile) {
  const src = distFile.replace(/([\\/])dist([\\/])/, '$1src$2').replace(/\.js$/, '');
  return ['.ts', '.mts', '.tsx'].some((ext) => existsSync(src + ext));
}

/** Compiled test files per group, found under each workspace's dist/. */
function discover() {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const groups = { unit: [], cross: [] };
  for (const ws of pkg.workspaces ?? []) {
    for (const f of walk(join(ROOT, ws, 'dist'))) {
      if (!hasSource(f)) {
        console.log(`run-tests: skipping ${relative(ROOT, f)} (its source is gone; stale build output)`);
        continue;
      }
      groups[ws === CROSS_WORKSPACE ? 'cross' : 'unit'].push(f);
    }
  }
  return groups;
}

/** Map a path given on the command line (source or compiled) to the compiled test file. */
function toCompiled(arg) {
  const p = resolve(arg);
  if (/\.test\.(ts|mts|tsx)$/.test(p))
    return p.replace(/([\\/])src([\\/])/, '$1dist$2').replace(/\.(ts|mts|tsx)$/, '.js');
  return p;
}

const isCross = (f) => relative(ROOT, f).split(/[\\/]/)[0] === CROSS_WORKSPACE;

/** Run one group, echoing node's report while reading its totals; returns { pass, fail, status }. */
async function runGroup(name, files, { concurrency, timeoutMs }) {
  if (files.length === 0) {
    console.log(`run-tests: no ${name} tests found`);
    return { pass: 0, fail: 0, status: 0 };
  }
  console.log(`\nrun-tests: ${name}: ${files.length} file(s)`);
  const tty = Boolean(process.stdout.isTTY);
  const args = [
    '--test',
    `--test-timeout=${timeoutMs}`,
    // A test that leaks a socket or timer must not hang the whole run. (It also cuts file reporters
    // short, which is why the totals are read from the piped stdout report below.)
    '--test-force-exit',
    ...(concurrency ? [`--test-concurrency=${concurrency}`] : []),
    `--test-reporter=${tty ? 'spec' : 'tap'}`,
    ...files.map((f) => relative(ROOT, f)),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: tty ? { ...process.env, FORCE_COLOR: '1' } : process.env,
  });
  let report = '';
  child.stdout.on('data', (d) => {
    process.stdout.write(d);
    report += d;
  });
  const status = await new Promise((res) => child.on('close', (code) => res(code ?? 1)));
  // The run's totals are the last "# pass N" (tap) or "ℹ pass N" (spec) lines of the report.
  // eslint-disable-next-line no-control-regex -- ANSI colour codes begin with ESC
  const plain = report.replace(/\x1b\[[0-9;]*m/g, '');
  const last = (key) => Number([...plain.matchAll(new RegExp(`^(?:#|\u2139) ${key} (\\d+)$`, 'gm'))].pop()?.[1] ?? 0);
  const fail = last('fail') + last('cancelled');
  return { pass: last('pass'), fail: status !== 0 && fail === 0 ? 1 : fail, status };
}

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}
const unitOnly = argv.includes('--unit');
const unknown = argv.filter((a) => a.startsWith('-') && a !== '--unit');
if (unknown.length) {
  console.error(`run-tests: unknown option ${unknown.join(' ')}\n${HELP}`);
  process.exit(2);
}
const given = argv.filter((a) => !a.startsWith('-')).map(toCompiled);
for (const f of given) {
  if (!existsSync(f)) {
    console.error(`run-tests: ${relative(ROOT, f)} does not exist; build first (npx tsc -b)`);
    process.exit(2);
  }
}

const found = given.length ? { unit: given.filter((f) => !isCross(f)), cross: given.filter(isCross) } : discover();
// A unit file is one test to the runner, so the limit bounds a whole file: the llama.cpp oracle files
// take 20-40 s on 2 quiet cores and over 60 s on a shared, loaded box; 120 s still catches a hang.
const envTimeout = Number(process.env.LOOM_TEST_TIMEOUT_MS) || 0;
const results = [await runGroup('unit', found.unit, { concurrency: 0, timeoutMs: envTimeout || 120_000 })];
if (!unitOnly)
  results.push(await runGroup('cross-service', found.cross, { concurrency: 1, timeoutMs: envTimeout || 300_000 }));

const pass = results.reduce((n, r) => n + r.pass, 0);
const fail = results.reduce((n, r) => n + r.fail, 0);
console.log(`\n# all groups\n# pass ${pass}\n# fail ${fail}`);
process.exit(results.some((r) => r.status !== 0) || fail > 0 ? 1 : 0);
