import { configFromEnv, OPTIONS, parseCliArgs } from '@loom/common';
import { startGateway } from './gateway.js';

/** `node dist/main.js`: the gateway alone, configured from the environment (the CLI's `loom up` calls startGateway itself). */
parseCliArgs({
  synopsis: 'node services/gateway/dist/main.js',
  about:
    'The OpenAI-compatible HTTP gateway alone, configured from the environment only: the env twins that\n' +
    `\`loom gateway --help\` lists beside each setting (${OPTIONS.slice(0, 3)
      .map((o) => o.env)
      .join(', ')}, ...).`,
  options: {},
  examples: ['REDIS_URL=redis://127.0.0.1:6379 PORT=8000 node services/gateway/dist/main.js'],
});
const gw = await startGateway(configFromEnv());
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void gw.close().then(() => process.exit(0));
  });
}
