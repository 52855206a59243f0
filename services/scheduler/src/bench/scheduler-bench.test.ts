import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonLine, runCase, standardCases, TARGET_MS } from './scheduler-bench.js';

// The bench's workloads, run briefly: that each case drives the shape it claims (not its timings,
// which only mean something on a quiet machine; see docs/benchmarks.md).
test('every standard case runs and schedules the workload it describes', async () => {
  const byName = new Map<string, Awaited<ReturnType<typeof runCase>>>();
  for (const c of standardCases(60)) byName.set(c.name, await runCase(c, 60, 40));
  const decode = byName.get('decode-256')!;
  assert.equal(decode.runningPerStep, 256);
  assert.equal(decode.tokensPerStep, 256, 'one token per running sequence');
  const mixed = byName.get('mixed-prefill-decode')!;
  assert.ok(
    mixed.tokensPerStep > 256 && mixed.tokensPerStep <= 2048,
    `prefill chunks within the budget: ${mixed.tokensPerStep}`,
  );
  for (const name of ['prefix-heavy-admissions', 'prefix-heavy-unhashed']) {
    assert.ok(byName.get(name)!.prefixHitRate > 0.9, `${name}: most prompt tokens are hits`);
  }
  for (const r of byName.values()) {
    const line = JSON.parse(jsonLine(r)) as {
      case: string;
      steps: number;
      target_ms: number;
      meets_target: boolean | null;
      p99_ms: number;
    };
    assert.equal(line.steps, 60);
    assert.equal(line.target_ms, TARGET_MS);
    assert.ok(line.p99_ms >= 0);
    assert.equal(
      line.meets_target === null,
      line.case === 'prefix-heavy-unhashed',
      'only the what-if case has no target',
    );
  }
});
