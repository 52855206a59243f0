import type { LoomConfig } from '@loom/common';

/**
 * What the CLI needs from each service package. Declared here rather than imported so the CLI builds
 * and its tests run while the services are still being written; the services' real exports must fit.
 */
export interface RunningService {
  /** gateway: its base URL; worker: its gRPC address. */
  url?: string;
  address?: string;
  /** Other facts a service reports (workerId, metricsPort, ...), logged in its ready line. */
  [fact: string]: unknown;
  close(): Promise<void>;
}

export type ServiceKind = 'gateway' | 'scheduler' | 'worker';

export const SERVICE_KINDS: readonly ServiceKind[] = ['gateway', 'scheduler', 'worker'];

const PACKAGE: Record<ServiceKind, { name: string; start: string }> = {
  gateway: { name: '@loom/gateway', start: 'startGateway' },
  scheduler: { name: '@loom/scheduler', start: 'startScheduler' },
  worker: { name: '@loom/worker', start: 'startWorker' },
};

/** Load a service package at run time and start it. */
export async function startService(kind: ServiceKind, config: LoomConfig): Promise<RunningService> {
  const { name, start } = PACKAGE[kind];
  // A variable specifier keeps TypeScript from requiring the package's types at build time.
  const specifier: string = name;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`cannot load ${name} (${(err as Error).message}). Build it: npx tsc -b`);
  }
  const fn = mod[start];
  if (typeof fn !== 'function') throw new Error(`${name} does not export ${start}(); is it built (npx tsc -b)?`);
  return (await fn(config)) as RunningService;
}
