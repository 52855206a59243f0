#!/usr/bin/env node
// Builds build/loom_engine.node from src/*.cpp with the system C++ compiler and the local Node headers.
// No downloads. Base flags target plain x86-64; kernels-avx2.cpp and kernels-avx512*.cpp get their own
// -m flags and are only called after a run-time CPUID check. Each object is rebuilt only when its
// source, any header, the flags or the compiler changed (stamp = sha256 of all of those); --force
// rebuilds everything. Usage: node services/worker/engine/build.mjs [--force] [--debug]
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const srcDir = path.join(here, 'src');
const buildDir = path.join(here, 'build');
const objDir = path.join(buildDir, 'obj');
const output = path.join(buildDir, 'loom_engine.node');
const USAGE = `usage: node services/worker/engine/build.mjs [--force] [--debug]

Builds build/loom_engine.node from src/*.cpp, rebuilding only the objects whose inputs changed.
  --force   rebuild every object
  --debug   -O0 instead of -O3 (for a debugger)
  -h, --help  this text`;
// Plain argv, not @loom/common's parseCliArgs: this runs before the TypeScript build exists.
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const unknownArg = args.find((a) => a !== '--force' && a !== '--debug');
if (unknownArg !== undefined) {
  console.error(`[build:native] unknown option ${unknownArg}\n${USAGE.split('\n')[0]} (--help says more)`);
  process.exit(2);
}
const force = args.includes('--force');
const debug = args.includes('--debug');
const cxx = process.env.CXX || 'g++';

function fail(msg) {
  console.error(`[build:native] ${msg}`);
  process.exit(1);
}

const nodeInclude = path.join(path.dirname(process.execPath), '..', 'include', 'node');
if (!existsSync(path.join(nodeInclude, 'node_api.h')))
  fail(
    `Node headers not found at ${nodeInclude} (need node_api.h). Install them with your Node: e.g. ` +
      `Debian/Ubuntu \`apt-get install libnode-dev\` or use an official Node tarball, which ships ` +
      `include/node.`,
  );
let compilerVersion;
try {
  compilerVersion = execFileSync(cxx, ['--version'], { encoding: 'utf8' }).split('\n')[0];
} catch {
  fail(`C++ compiler '${cxx}' not found. Install g++ (Debian/Ubuntu: \`apt-get install g++\`) or set CXX.`);
}
if (process.arch !== 'x64') fail(`only x86-64 is supported for now (this is ${process.arch})`);

const base = [
  '-std=c++17',
  debug ? '-O0' : '-O3',
  '-g',
  '-fPIC',
  '-pthread',
  '-march=x86-64',
  '-fvisibility=hidden',
  '-Wall',
  '-Wextra',
  '-Wno-unused-parameter',
  '-DNAPI_VERSION=8',
  `-I${nodeInclude}`,
];
// Per-file instruction sets; everything else is base x86-64.
const isa = {
  'kernels-avx2.cpp': ['-mavx2', '-mfma', '-mf16c'],
  'kernels-avx512.cpp': ['-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq', '-mf16c', '-mfma'],
  'kernels-avx512vnni.cpp': ['-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq', '-mavx512vnni', '-mf16c', '-mfma'],
  'kernels-avx512bf16.cpp': [
    '-mavx512f',
    '-mavx512bw',
    '-mavx512vl',
    '-mavx512dq',
    '-mavx512vnni',
    '-mavx512bf16',
    '-mf16c',
    '-mfma',
  ],
};
// GCC 12's AVX-512 headers trip its own -Wuninitialized (the `__Y = __Y` idiom); silence only there.
const quietAvx512 = ['-Wno-uninitialized', '-Wno-maybe-uninitialized'];
const extra = {
  'kernels-avx512.cpp': quietAvx512,
  'kernels-avx512vnni.cpp': quietAvx512,
  'kernels-avx512bf16.cpp': quietAvx512,
};

const files = readdirSync(srcDir).sort();
const sources = files.filter((f) => f.endsWith('.cpp'));
const headersHash = createHash('sha256');
for (const h of files.filter((f) => f.endsWith('.h'))) headersHash.update(h).update(readFileSync(path.join(srcDir, h)));
const headerDigest = headersHash.digest('hex');

mkdirSync(objDir, { recursive: true });

function run(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cxx, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cxx} ${args.join(' ')}\nexited with ${code}`)),
    );
  });
}

const jobs = sources.map((src) => {
  const flags = [...base, ...(isa[src] ?? []), ...(extra[src] ?? [])];
  const obj = path.join(objDir, src.replace(/\.cpp$/, '.o'));
  const stamp = createHash('sha256')
    .update(compilerVersion)
    .update(flags.join(' '))
    .update(headerDigest)
    .update(readFileSync(path.join(srcDir, src)))
    .digest('hex');
  const stampFile = `${obj}.stamp`;
  const fresh = !force && existsSync(obj) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
  return { src, obj, flags, stamp, stampFile, fresh };
});

const stale = jobs.filter((j) => !j.fresh);
const linkStampFile = `${output}.stamp`;
const linkStamp = createHash('sha256')
  .update(jobs.map((j) => j.stamp).join(','))
  .digest('hex');

// Stand-alone tools built next to the addon (one source each, no engine code): build/peak-flops, the
// register-only FMA microbenchmark that bench:engine measures the machine's peak with, and build/mem-bandwidth,
// the read and copy bandwidth it holds B=1 decode against.
const tools = ['peak-flops', 'mem-bandwidth'].map((name) => {
  const src = path.join(here, 'tools', `${name}.cpp`);
  const exe = path.join(buildDir, name);
  const flags = ['-std=c++17', '-O3', '-march=x86-64', '-pthread'];
  const stamp = createHash('sha256')
    .update(compilerVersion)
    .update(flags.join(' '))
    .update(readFileSync(src))
    .digest('hex');
  const fresh =
    !force && existsSync(exe) && existsSync(`${exe}.stamp`) && readFileSync(`${exe}.stamp`, 'utf8') === stamp;
  return { name, src, exe, flags, stamp, fresh };
});
for (const t of tools.filter((t) => !t.fresh)) {
  try {
    execFileSync(cxx, [...t.flags, t.src, '-o', t.exe], { stdio: 'inherit' });
  } catch (e) {
    fail(`building ${t.name} failed: ${e.message}`);
  }
  writeFileSync(`${t.exe}.stamp`, t.stamp);
  console.log(`[build:native] built build/${t.name}`);
}

if (
  stale.length === 0 &&
  existsSync(output) &&
  existsSync(linkStampFile) &&
  readFileSync(linkStampFile, 'utf8') === linkStamp
) {
  console.log(`[build:native] up to date: ${path.relative(process.cwd(), output)} (use --force to rebuild)`);
  process.exit(0);
}

const t0 = Date.now();
const parallel = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
let done = 0;
const queue = [...stale];
async function worker() {
  for (let j = queue.shift(); j; j = queue.shift()) {
    await run([...j.flags, '-c', path.join(srcDir, j.src), '-o', j.obj]);
    writeFileSync(j.stampFile, j.stamp);
    done++;
    console.log(
      `[build:native] [${done}/${stale.length}] compiled ${j.src}${isa[j.src] ? ` (${isa[j.src].join(' ')})` : ''}`,
    );
  }
}
try {
  await Promise.all(Array.from({ length: Math.min(parallel, stale.length) }, worker));
  console.log('[build:native] linking loom_engine.node');
  await run(['-shared', '-pthread', '-o', output, ...jobs.map((j) => j.obj)]);
  writeFileSync(linkStampFile, linkStamp);
} catch (e) {
  fail(`build failed: ${e.message}`);
}
console.log(
  `[build:native] built ${path.relative(process.cwd(), output)} in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
);
