import { after, before } from 'node:test';
import { configFromEnv, InvariantError, type LoomConfig } from '@loom/common';
import { startGateway, type RunningGateway, type StartGatewayOptions } from '../gateway.js';

/**
 * A gateway on a free loopback port for the tests of the enclosing describe: started in a before() hook
 * with `opts` (a FakeBackend as its backend, typically) over the default config with `over`, closed in an
 * after() hook. `url` and `post` are for use inside tests.
 */
export function useFakeGateway(opts: StartGatewayOptions, over: Partial<LoomConfig> = {}) {
  let gw: RunningGateway | undefined;
  before(async () => {
    gw = await startGateway(configFromEnv({}, { host: '127.0.0.1', port: 0, logLevel: 'silent', ...over }), opts);
  });
  after(async () => {
    await gw?.close();
  });
  const url = (): string => {
    if (!gw) throw new InvariantError('useFakeGateway(): the gateway starts in before(); use it inside tests');
    return gw.url;
  };
  return {
    get url() {
      return url();
    },
    /** POST a JSON body (a string is sent as is: malformed JSON on purpose). */
    post: (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(url() + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
  };
}
