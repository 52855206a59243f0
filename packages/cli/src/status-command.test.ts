import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { freePort } from '@loom/common';

const main = fileURLToPath(new URL('./main.js', import.meta.url));

test('loom status without a gateway: one line on stderr naming the URL and the reason, exit status 1', async () => {
  const url = `http://127.0.0.1:${await freePort()}/v1`;
  await assert.rejects(
    promisify(execFile)(process.execPath, [main, 'status', '--url', url]),
    (err: { code: number; stdout: string; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.equal(err.stdout, '');
      assert.match(
        err.stderr,
        /^loom status: no gateway answers at http:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED [^)]+\)\n$/,
      );
      return true;
    },
  );
});
