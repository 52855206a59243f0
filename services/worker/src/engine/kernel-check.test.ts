// Runs the Node-free kernel check (engine/tools/kernel-check.cpp) against the objects `npm run build:native` built:
// every kernel set this CPU supports, GEMMs of every weight type and the attention, exp and SiLU kernels against
// float64 within their bounds, plus the bitwise contracts (packed GEMMs invariant to T and panel splits, attention
// invariant to how rows and heads are split into calls, VNNI == AVX-512 on the integer dots). The JS engine tests
// compare whole forwards; this pins each kernel on its own, with sizes that leave scalar tails.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';
import { supportedKernels } from './native-engine.js';

const engineDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'engine');
const objDir = path.join(engineDir, 'build', 'obj');

it('kernel-check: every supported kernel set within bounds of float64, bitwise contracts hold', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-kernel-check-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const objects = readdirSync(objDir)
    .filter((f) => /^(kernels.*|quant.*|ggml-types)\.o$/.test(f))
    .map((f) => path.join(objDir, f));
  const exe = path.join(dir, 'kernel-check');
  const cxx = process.env.CXX || 'g++';
  execFileSync(cxx, [
    '-std=c++17',
    '-O2',
    '-pthread',
    '-march=x86-64',
    path.join(engineDir, 'tools', 'kernel-check.cpp'),
    ...objects,
    '-o',
    exe,
  ]);
  // N = 61 rows (not a whole number of panels), K = 512 (two 256-value super-blocks).
  let out: string;
  try {
    out = execFileSync(exe, ['61', '512'], { encoding: 'utf8' });
  } catch (e) {
    const { stdout, status } = e as { stdout?: string; status?: number };
    assert.fail(`kernel-check exited ${status}:\n${stdout ?? ''}`);
  }
  const lines = out.trim().split('\n');
  assert.equal(lines.at(-1), 'OK', out);
  for (const set of supportedKernels()) {
    for (const kernel of ['attention', 'exp', 'silu'])
      assert.match(out, new RegExp(`^${kernel} +${set} .* ok$`, 'm'), `${kernel} on ${set}`);
  }
  assert.doesNotMatch(out, /BAD|VARIES/);
});
