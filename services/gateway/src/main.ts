import { configFromEnv } from '@loom/common';
import { startGateway } from './gateway.js';

/** `node dist/main.js`: the gateway alone, configured from the environment (the CLI's `loom up` calls startGateway itself). */
const gw = await startGateway(configFromEnv());
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void gw.close().then(() => process.exit(0));
  });
}
