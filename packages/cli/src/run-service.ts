import { createLogger, type LoomConfig } from '@loom/common';
import { READY_EVENT, STOP_ON_STDIN_EOF } from './child-protocol.js';
import { parseHfRef } from './hf-ref.js';
import { checkEngineBuilt, withModel } from './preflight.js';
import { resolveModelRef, servedNameOf } from './resolve-model-ref.js';
import { startService, type ServiceKind } from './service-kinds.js';

/** How long a service gets to close after SIGTERM/SIGINT before the process exits anyway. */
const CLOSE_TIMEOUT_MS = 30_000;

/**
 * Run one service in this process until SIGTERM/SIGINT: start it, log READY_EVENT (a JSON line with
 * `kind` and `url`/`address`), and close it gracefully on a signal. Exits the process non-zero with
 * a logged reason when it cannot start.
 */
export async function runService(kind: ServiceKind, given: LoomConfig): Promise<void> {
  const log = createLogger(`cli-${kind}`, given.logLevel);
  let config = given;
  try {
    if (kind === 'worker') {
      config = withModel(await resolveModelRef(given, { say: (msg) => log.info(msg) }), (msg) => log.info(msg));
      checkEngineBuilt();
    } else if (parseHfRef(given.model)) {
      // No weights needed here: only the model id, which must match what the worker derives.
      config = { ...given, servedModelName: given.servedModelName || servedNameOf(parseHfRef(given.model)!) };
    } else if (!given.model && !given.servedModelName) {
      // Gateway and scheduler never read weights, but they need a model id: the default model's.
      config = withModel(given, (msg) => log.info(msg));
    }
  } catch (err) {
    log.error({ err: (err as Error).message }, `${kind} cannot start`);
    process.exit(1);
  }

  let service;
  try {
    service = await startService(kind, config);
  } catch (err) {
    log.error({ err: (err as Error).message, stack: (err as Error).stack }, `${kind} failed to start`);
    process.exit(1);
  }
  // Every plain field the service reports (url, address, workerId, metricsPort, ...) goes in the ready line.
  const facts = Object.fromEntries(
    Object.entries(service).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)),
  );
  log.info({ kind, model: config.model, ...facts }, READY_EVENT);

  let closing = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (closing) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    log.info({ signal }, `${kind} closing`);
    const timer = setTimeout(() => {
      log.error(`${kind} did not close within ${CLOSE_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, CLOSE_TIMEOUT_MS);
    try {
      await service.close();
      log.info(`${kind} closed`);
      process.exit(0);
    } catch (err) {
      log.error({ err: (err as Error).message }, `${kind} close failed`);
      process.exit(1);
    } finally {
      clearTimeout(timer);
    }
  };
  process.on('SIGTERM', (s) => void stop(s));
  process.on('SIGINT', (s) => void stop(s));
  if (process.env[STOP_ON_STDIN_EOF] === '1') {
    process.stdin.on('end', () => void stop('SIGTERM'));
    process.stdin.resume();
  }
}
