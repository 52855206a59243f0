import { cliModule } from './cli-module.js';
import { cliMain, repoRoot } from './paths.js';
import { spawnProcess, type LogRecord, type ManagedProcess, type SpawnOptions } from '@loom/testing';

export type ServiceKind = 'gateway' | 'scheduler' | 'worker';

export interface ServiceProcess extends ManagedProcess {
  kind: ServiceKind;
  /** From the service's ready log line: the gateway's base URL. */
  url?: string;
  /** From the service's ready log line: the worker's gRPC address. */
  address?: string;
  /** The whole ready log line (also workerId, metricsPort, ... when the service reports them). */
  ready?: LogRecord;
}

export interface SpawnServiceOptions extends Omit<SpawnOptions, 'env'> {
  /** Extra CLI arguments after `loom <kind>`. */
  args?: string[];
  /** Node's own flags, before the script (e.g. `--cpu-prof`, which NODE_OPTIONS does not take). */
  nodeArgs?: string[];
  /** Wait for the ready log line before resolving (default true); false returns at once. */
  waitReady?: boolean;
  readyTimeoutMs?: number;
}

/**
 * Start `node packages/cli/dist/main.js <kind>` as its own process, configured by `env` (the settings'
 * env twins: REDIS_URL, LOOM_MODEL, PORT, ...). Resolves once it logs that it serves. The process also
 * stops by itself when this test process dies (its stdin closes). Call stop() in teardown.
 */
export async function spawnService(
  kind: ServiceKind,
  env: Record<string, string>,
  opts: SpawnServiceOptions = {},
): Promise<ServiceProcess> {
  const { READY_EVENT, STOP_ON_STDIN_EOF } = await cliModule();
  const p = spawnProcess(process.execPath, [...(opts.nodeArgs ?? []), cliMain(), kind, ...(opts.args ?? [])], {
    name: opts.name ?? kind,
    cwd: opts.cwd ?? repoRoot(),
    env: { ...env, [STOP_ON_STDIN_EOF]: '1' },
    inheritEnv: opts.inheritEnv,
    echo: opts.echo,
  });
  const service: ServiceProcess = Object.assign(p, { kind });
  if (opts.waitReady === false) return service;
  try {
    const rec = await p.waitForLog((r) => r.msg === READY_EVENT, opts.readyTimeoutMs ?? 60_000);
    service.ready = rec;
    service.url = typeof rec.url === 'string' ? rec.url : undefined;
    service.address = typeof rec.address === 'string' ? rec.address : undefined;
  } catch (err) {
    await p.stop();
    throw err;
  }
  return service;
}
