import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { spawnService } from './spawn-service.js';

describe('spawnService', () => {
  it('runs the real CLI: a worker without its model file exits 1 saying what to set', async () => {
    const worker = await spawnService('worker', { LOOM_MODEL: '/no/such/model.gguf' }, { waitReady: false });
    const rec = await worker.waitForLog((r) => r.msg === 'worker cannot start');
    assert.match(String(rec.err), /model file not found: \/no\/such\/model\.gguf.*LOOM_MODEL/);
    assert.equal((await worker.exited).code, 1);
  });

  it('rejects, with the process output, when the service exits before it is ready', async () => {
    await assert.rejects(
      spawnService('worker', { LOOM_MODEL: '/no/such/model.gguf' }),
      /worker exited \(code 1.*model file not found/s,
    );
  });
});
