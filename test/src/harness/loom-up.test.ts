import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterStatus } from '@loom/common';
import { freePort, spawnProcess, startRedis, waitFor, type RedisHandle } from '@loom/testing';
import { cliMain, sharedDir } from './paths.js';

// `loom up` end to end: the real CLI starting real services as child processes, then stopping them.
describe('loom up', () => {
  const model = join(sharedDir(), 'models', 'stories260K', 'stories260K-f32.gguf');
  let redis: RedisHandle;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => redis?.stop());

  it(
    'serves with two workers, answers /v1/models, and stops every child on SIGINT',
    { skip: !existsSync(model) && 'no stories260K model' },
    async () => {
      const port = await freePort();
      const up = spawnProcess(process.execPath, [cliMain(), 'up', '--workers', '2', '--port', String(port)], {
        name: 'loom up',
        env: { REDIS_URL: redis.url, LOOM_MODEL: model, LOOM_THREADS: '1' },
      });
      try {
        const line = await up.waitForLog((r) => String(r.msg).startsWith('Loom is serving'), 60_000);
        assert.equal(line.msg, `Loom is serving stories260K-f32 at http://127.0.0.1:${port}/v1`);
        const res = await fetch(`http://127.0.0.1:${port}/v1/models`);
        assert.equal(res.status, 200);
        // The web app and the cluster view it reads, with both workers live.
        const web = await up.waitForLog((r) => String(r.msg).startsWith('Chat and cluster view'), 5_000);
        assert.equal(web.msg, `Chat and cluster view: http://127.0.0.1:${port}/`);
        assert.match(await (await fetch(`http://127.0.0.1:${port}/`)).text(), /src="\/ui\/app.js"/);
        await waitFor(async () => {
          const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as ClusterStatus;
          return status.workers.filter((w) => w.state === 'up').length === 2 && status.scheduler.leader !== null;
        });
        const pids = up.logs.filter((r) => r.msg === 'service ready').map((r) => Number(r.pid));
        assert.equal(pids.length, 4, 'two workers, a scheduler and a gateway');

        up.kill('SIGINT');
        assert.deepEqual(await up.exited, { code: 0, signal: null });
        for (const pid of pids)
          assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `child ${pid} still running`);
      } finally {
        await up.stop();
      }
    },
  );
});
