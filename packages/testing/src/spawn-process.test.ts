import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { spawnProcess } from './spawn-process.js';
import { waitFor } from './wait-for.js';

const node = (code: string) => spawnProcess(process.execPath, ['-e', code], { name: 'node -e' });

describe('spawnProcess', () => {
  it('captures JSON log lines and finds them with waitForLog', async () => {
    const p = node(
      `console.log(JSON.stringify({ msg: 'hello', n: 1 })); console.error('plain text'); setTimeout(() => {}, 60000)`,
    );
    try {
      const rec = await p.waitForLog((r) => r.msg === 'hello');
      assert.equal(rec.n, 1);
      await waitFor(() => p.logs.some((r) => r.raw && r.msg === 'plain text'), { what: 'the stderr line' });
    } finally {
      await p.stop();
    }
  });

  it('rejects waitForLog with the output when the process exits first', async () => {
    const p = node(`console.log('about to fail'); process.exit(3)`);
    await assert.rejects(
      p.waitForLog((r) => r.msg === 'never'),
      /exited \(code 3.*\n.*about to fail/s,
    );
  });

  it('stop() escalates to SIGKILL when SIGTERM is ignored', async () => {
    const p = node(`process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)`);
    await p.waitForLog((r) => r.msg === 'up');
    const e = await p.stop(300);
    assert.equal(e.signal, 'SIGKILL');
  });
});
