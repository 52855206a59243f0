import { modelIdOf, waitForRedis, type LoomConfig } from '@loom/common';
import { envOf } from './config-options.js';
import { freePort } from '@loom/common';
import { resolveModelRef } from './resolve-model-ref.js';
import { checkEngineBuilt, withModel } from './preflight.js';
import { superviseChild, type SupervisedChild } from './supervised-child.js';

/** Grace period each child gets after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 10_000;

const say = (msg: string) => process.stderr.write(`loom | ${msg}\n`);

/** Child output: prefixed with its name for a human at a terminal, raw JSON lines for a log collector. */
function forwarder(name: string) {
  const tty = process.stdout.isTTY;
  return (line: string, stream: 'stdout' | 'stderr') => {
    const out = stream === 'stdout' ? process.stdout : process.stderr;
    out.write(tty ? `${name.padEnd(9)} | ${line}\n` : `${line}\n`);
  };
}

/** The URL clients use: a wildcard listen address is reached through loopback. */
function clientUrl(config: LoomConfig, reported?: string): string {
  const u = new URL(
    reported ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`,
  );
  if (u.hostname === '0.0.0.0' || u.hostname === '[::]') u.hostname = '127.0.0.1';
  return `${u.origin}/v1`;
}

/**
 * `loom up`: a whole cluster on this machine as child processes — N workers (each on its own free
 * gRPC port), one scheduler, one gateway — until SIGINT/SIGTERM.
 */
export async function runUp(given: LoomConfig): Promise<void> {
  let config: LoomConfig;
  try {
    if (given.workers < 1) throw new Error(`--workers / LOOM_WORKERS must be at least 1, got ${given.workers}`);
    // An hf:// model is downloaded here, once, with progress; the workers get the local path.
    config = withModel(await resolveModelRef(given, { say }), say);
    checkEngineBuilt();
    await waitForRedis(config.redisUrl, 3_000);
  } catch (err) {
    say((err as Error).message);
    process.exit(1);
  }

  const base = envOf(config);
  const specs: { name: string; kind: 'worker' | 'scheduler' | 'gateway'; env: Record<string, string> }[] = [];
  for (let i = 1; i <= config.workers; i++) {
    const port = config.workerPort ? config.workerPort + i - 1 : await freePort(config.workerHost);
    // A fixed --metrics-port would collide between processes: each takes the next port up.
    const metrics = config.metricsPort ? config.metricsPort + i : 0;
    specs.push({
      name: `worker-${i}`,
      kind: 'worker',
      env: { LOOM_WORKER_PORT: String(port), LOOM_METRICS_PORT: String(metrics) },
    });
  }
  specs.push({ name: 'scheduler', kind: 'scheduler', env: {} });
  specs.push({ name: 'gateway', kind: 'gateway', env: {} });

  const children: SupervisedChild[] = specs.map((s) =>
    superviseChild(s.name, s.kind, { ...base, ...s.env }, forwarder(s.name)),
  );
  let stopping = false;
  const stopAll = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: stopping the cluster`);
    // Gateway first so no new requests arrive, then the scheduler and the workers together.
    const gateway = children.filter((c) => c.kind === 'gateway');
    await Promise.all(gateway.map((c) => c.stop(STOP_GRACE_MS)));
    await Promise.all(children.map((c) => c.stop(STOP_GRACE_MS)));
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void (stopping ? process.exit(130) : stopAll('SIGINT', 0)));
  process.on('SIGTERM', () => void stopAll('SIGTERM', 0));
  // If loom up itself dies, take the children with it (they also stop when their stdin closes).
  process.on('exit', () => children.forEach((c) => c.proc.exitCode === null && c.proc.kill('SIGKILL')));

  let ready = false;
  for (const c of children) {
    void c.exited.then((e) => {
      if (stopping || !ready) return;
      say(
        `${c.name} (pid ${c.proc.pid}) exited unexpectedly (code ${e.code}, signal ${e.signal}); see its log above. The rest keeps running.`,
      );
      if (children.every((x) => x.proc.exitCode !== null || x.proc.signalCode !== null))
        void stopAll('every process has exited', 1);
    });
  }

  try {
    const infos = await Promise.all(children.map((c) => c.ready));
    ready = true;
    const gw = infos[children.findIndex((c) => c.kind === 'gateway')];
    say(`${config.workers} worker(s), scheduler and gateway are up; Ctrl-C stops them`);
    const api = clientUrl(config, gw?.url);
    console.log(`Loom is serving ${modelIdOf(config)} at ${api}`);
    console.log(`Chat and cluster view: ${api.replace(/\/v1$/, '/')}`);
  } catch (err) {
    await stopAll(`${(err as Error).message}; see its log above`, 1);
  }
}
