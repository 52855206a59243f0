#!/usr/bin/env node
// Brings a checkout to the point where `loom up` or the test suite can run: npm dependencies, the
// native engine, the TypeScript build, a Redis, a model. Plain Node with no dependencies, because it
// runs before `npm install`. Idempotent and quick when everything is already in place.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const HELP = `usage: node scripts/ensure.mjs [--for start|test]

Makes this checkout ready to run, doing only what is missing:
  1. npm dependencies (npm ci when node_modules is missing, npm install when package files changed)
  2. the native engine (node services/worker/engine/build.mjs; it skips itself when up to date)
  3. the TypeScript build (tsc -b, incremental)
  4. Redis: --for test needs the redis-server binary (tests start their own servers), plus
     prometheus and chromium for the observability and web app tests;
     --for start needs a Redis answering at REDIS_URL (default ${DEFAULT_REDIS_URL}) and starts a local
     one under .loom/redis when REDIS_URL is the default. Installs redis-server with apt-get when root.
  5. --for start: a model (LOOM_MODEL, else the bundled demo model in ../shared/models).`;

const say = (msg) => console.log(`ensure: ${msg}`);
function fail(msg) {
  console.error(`ensure: ${msg}`);
  process.exit(1);
}

/** Run a command with inherited stdio; die with a message naming the command when it fails. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  return r.status === 0;
}
function runOrFail(cmd, args, what, opts) {
  if (!run(cmd, args, opts)) fail(`${what} failed (${[cmd, ...args].join(' ')}); see the output above.`);
}

function parseArgs(argv) {
  let target = 'test';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    } else if (a === '--for') target = argv[++i];
    else if (a.startsWith('--for=')) target = a.slice('--for='.length);
    else fail(`unknown argument "${a}"\n${HELP}`);
  }
  if (target !== 'start' && target !== 'test') fail(`--for must be "start" or "test", got "${target}"`);
  return { target };
}

// ---- 1. npm dependencies -------------------------------------------------------------------------

/** Hash of everything that decides what node_modules should hold: the lock file and every package.json. */
function dependencyHash() {
  const h = createHash('sha256');
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  for (const rel of [
    'package-lock.json',
    'package.json',
    ...(root.workspaces ?? []).map((w) => join(w, 'package.json')),
  ]) {
    const p = join(ROOT, rel);
    h.update(rel)
      .update('\0')
      .update(existsSync(p) ? readFileSync(p) : '')
      .update('\0');
  }
  return h.digest('hex');
}

function ensureDependencies() {
  const stampPath = join(ROOT, 'node_modules', '.loom-install-stamp');
  const hash = dependencyHash();
  const stamp = existsSync(stampPath) ? readFileSync(stampPath, 'utf8').trim() : '';
  if (stamp === hash) {
    say('npm dependencies up to date');
    return;
  }
  const flags = ['--no-audit', '--no-fund'];
  const hasLock = existsSync(join(ROOT, 'package-lock.json'));
  // npm ci gives a fresh clone exactly the locked tree. Where node_modules already exists, npm install
  // brings it in line incrementally instead of deleting it (other processes may be using it).
  if (hasLock && !existsSync(join(ROOT, 'node_modules'))) {
    say('installing npm dependencies (npm ci)');
    if (!run('npm', ['ci', ...flags])) {
      say('npm ci refused the lock file (out of sync with package.json?); trying npm install');
      runOrFail('npm', ['install', ...flags], 'npm install');
    }
  } else {
    say(stamp ? 'package files changed since the last install: npm install' : 'no install stamp yet: npm install');
    runOrFail('npm', ['install', ...flags], 'npm install');
  }
  // npm install may have rewritten the lock file: stamp what is there now.
  writeFileSync(stampPath, dependencyHash() + '\n');
}

// ---- 2. native engine, 3. TypeScript -------------------------------------------------------------

function ensureNativeEngine() {
  const build = join(ROOT, 'services', 'worker', 'engine', 'build.mjs');
  if (!existsSync(build)) {
    say('native engine: services/worker/engine/build.mjs does not exist yet; skipping');
    return;
  }
  runOrFail(process.execPath, [build], 'native engine build');
}

function ensureTypeScript() {
  // tsc's own entry point, not npx: npx costs a few hundred milliseconds of resolution on every run.
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) fail('node_modules/typescript is missing: run npm install.');
  const t0 = Date.now();
  runOrFail(process.execPath, [tsc, '-b'], 'TypeScript build');
  say(`TypeScript build up to date (${Date.now() - t0} ms)`);
}

// ---- 4. Redis ------------------------------------------------------------------------------------

/** Whether something speaking RESP answers PING at a redis:// URL. No client library: this runs before npm install. */
function redisAnswers(url, timeoutMs = 700) {
  let u;
  try {
    u = new URL(url);
  } catch {
    fail(`REDIS_URL "${url}" is not a URL; use the form redis://host:port`);
  }
  return new Promise((resolve) => {
    const sock = connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    // "+PONG", or "-NOAUTH ..." from a password-protected server: either way a Redis is there.
    sock.on('data', (d) => done(d[0] === 0x2b || d[0] === 0x2d));
  });
}

function onPath(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

/** Install a Debian package when its binary is missing (root with apt-get), else stop saying what to install. */
function ensureDebianBinary(bin, pkg, otherwise) {
  if (onPath(bin)) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) fail(`${bin} is not installed. ${otherwise}`);
  say(`${bin} not found: installing it with apt-get (Debian package ${pkg})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) runOrFail('apt-get', ['update'], 'apt-get update', { env });
  aptUpdated = true;
  runOrFail('apt-get', ['install', '-y', '--no-install-recommends', pkg], `apt-get install ${pkg}`, { env });
}
let aptUpdated = false;

function ensureRedisBinary() {
  ensureDebianBinary(
    'redis-server',
    'redis-server',
    'Install Redis 7 (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) or point REDIS_URL at a running Redis.',
  );
}

async function ensureRedis(target) {
  if (target === 'test') {
    ensureRedisBinary();
    // The observability tests run a real Prometheus and promtool (both in Debian's prometheus package).
    ensureDebianBinary(
      'promtool',
      'prometheus',
      'Install Prometheus 2 with promtool (Debian/Ubuntu: sudo apt-get install -y prometheus).',
    );
    // The web app's browser test drives Debian's Chromium, headless, with playwright-core (no browser download).
    ensureDebianBinary(
      'chromium',
      'chromium',
      'Install Chromium (Debian/Ubuntu: sudo apt-get install -y chromium) for the web app test.',
    );
    say('redis-server, prometheus and chromium available (tests start their own servers)');
    return;
  }
  const url = process.env.REDIS_URL || DEFAULT_REDIS_URL;
  if (!url.startsWith('redis://')) {
    say(`REDIS_URL is ${new URL(url).protocol} (not checked here; loom up checks it)`);
    return;
  }
  if (await redisAnswers(url)) {
    say(`Redis answers at ${url}`);
    return;
  }
  if (url !== DEFAULT_REDIS_URL)
    fail(`nothing answers at REDIS_URL=${url}. Start that Redis, or unset REDIS_URL to let npm start run a local one.`);
  ensureRedisBinary();
  const dir = join(ROOT, '.loom', 'redis');
  mkdirSync(dir, { recursive: true });
  // AOF on: queues and output streams survive a Redis restart, as they would in a real deployment.
  runOrFail(
    'redis-server',
    [
      '--port',
      '6379',
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--dir',
      dir,
      '--daemonize',
      'yes',
      '--logfile',
      join(dir, 'redis.log'),
    ],
    'starting redis-server',
  );
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(url)) {
      say(
        `started a local redis-server at ${url} (data in .loom/redis, log in .loom/redis/redis.log; stop it with: redis-cli shutdown)`,
      );
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`started redis-server but it does not answer at ${url}; see .loom/redis/redis.log`);
}

// ---- 5. model ------------------------------------------------------------------------------------

async function checkModel() {
  // The CLI owns the default-model rule; use its compiled module rather than restating it here.
  const mod = join(ROOT, 'packages', 'cli', 'dist', 'default-model.js');
  if (!existsSync(mod))
    fail(
      'packages/cli is not built (packages/cli/dist/default-model.js missing): run npx tsc -b and check its errors.',
    );
  const { resolveModel } = await import(pathToFileURL(mod).href);
  const m = resolveModel(process.env.LOOM_MODEL ?? '');
  if (!m.path) fail(m.problem);
  say(`model: ${m.path}${m.isDefault ? ' (bundled demo model; set LOOM_MODEL to serve another)' : ''}`);
}

const { target } = parseArgs(process.argv.slice(2));
const t0 = Date.now();
ensureDependencies();
ensureNativeEngine();
ensureTypeScript();
await ensureRedis(target);
if (target === 'start') await checkModel();
say(`ready for ${target} (${Date.now() - t0} ms)`);
