// Penalties, logit bias and masking in the engine's sampler, against a TypeScript statement of vLLM's
// semantics applied to the raw logits the engine reports (lastLogits).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { at } from '@loom/common';
import type { EngineSeq } from './engine-api.js';
import { GREEDY, ONCE_UPON_A_TIME, runAll, seq, SeqRun, storiesPath } from '../testing/engine-test-kit.js';
import { loadEngine, type LoadedEngine } from './native-engine.js';

/** vLLM: bias and mask, then repetition over prompt + output, then frequency and presence over output. */
function processLogits(raw: Float32Array, s: EngineSeq): Float32Array {
  const l = Float32Array.from(raw);
  s.logitBiasIds?.forEach((id, i) => (l[id] = at(l, id) + at(s.logitBiasValues ?? [], i)));
  s.maskTokens?.forEach((id) => (l[id] = -Infinity));
  const counts = new Map<number, number>();
  s.outputTokens?.forEach((id) => counts.set(id, (counts.get(id) ?? 0) + 1));
  const rep = s.repetitionPenalty ?? 1;
  for (const id of new Set([...(s.promptTokens ?? []), ...(s.outputTokens ?? [])])) {
    if (rep !== 1) l[id] = at(l, id) > 0 ? at(l, id) / rep : at(l, id) * rep;
    const c = counts.get(id) ?? 0;
    l[id] = at(l, id) - (s.frequencyPenalty ?? 0) * c - (c > 0 ? (s.presencePenalty ?? 0) : 0);
  }
  return l;
}
const argmax = (l: Float32Array): number => l.reduce((b, v, i) => (v > at(l, b) ? i : b), 0);
/** The k ids with the highest raw logits. */
const topIds = (l: Float32Array, k: number): number[] => [...l.keys()].sort((a, b) => at(l, b) - at(l, a)).slice(0, k);

describe('logit processing (penalties, bias, masking)', () => {
  let engine: LoadedEngine;
  let raw: Float32Array;
  before(async () => {
    engine = loadEngine(storiesPath('f32'), { threads: 2 });
    engine.initKv(16, 16, 64, 4);
    await engine.step([seq(ONCE_UPON_A_TIME, 0, [0], true, GREEDY, 0)]);
    raw = engine.lastLogits();
  });
  after(() => engine.close());

  // The same prompt recomputed in block 1 each time, so every case sees the same raw logits.
  async function greedyWith(extra: Partial<EngineSeq>): Promise<{ token: number; logprob: number; seq: EngineSeq }> {
    const s = { ...seq(ONCE_UPON_A_TIME, 0, [1], true, GREEDY, 0), ...extra };
    const r = await engine.step([s]);
    assert.deepEqual(engine.lastLogits(), raw, 'the logits are reported raw');
    return { token: at(r.tokens, 0), logprob: at(r.logprobs, 0), seq: s };
  }

  it('every penalty changes the greedy token exactly as vLLM defines it; logprobs stay raw', async () => {
    const [t0, t1, t2, t3] = topIds(raw, 4) as [number, number, number, number];
    const rawLogZ = Math.log(raw.reduce((s, v) => s + Math.exp(v - at(raw, t0)), 0)) + at(raw, t0);
    const cases: Partial<EngineSeq>[] = [
      { repetitionPenalty: 3, promptTokens: Int32Array.from([t0, 5, t0]), outputTokens: new Int32Array(0) },
      { repetitionPenalty: 0.2, promptTokens: Int32Array.from([t1, t3]), outputTokens: Int32Array.from([t2]) },
      { frequencyPenalty: 2, outputTokens: Int32Array.from([t0, t0, t0, t1]) },
      { presencePenalty: 2, frequencyPenalty: -0.5, outputTokens: Int32Array.from([t0, t1, t1]) },
      { logitBiasIds: Int32Array.from([t3, t0]), logitBiasValues: Float32Array.from([50, -50]) },
      { maskTokens: Int32Array.from([t0, t1]) },
      {
        repetitionPenalty: 1.5,
        presencePenalty: 1,
        frequencyPenalty: 1,
        promptTokens: Int32Array.from(ONCE_UPON_A_TIME),
        outputTokens: Int32Array.from([t0, t2]),
        logitBiasIds: Int32Array.from([t1]),
        logitBiasValues: Float32Array.from([-1]),
        maskTokens: Int32Array.from([t3]),
      },
    ];
    let changed = 0;
    for (const c of cases) {
      const { token, logprob, seq: s } = await greedyWith(c);
      const expected = argmax(processLogits(raw, s));
      assert.equal(
        token,
        expected,
        JSON.stringify(c, (_, v) => (ArrayBuffer.isView(v) ? [...(v as Int32Array)] : v)),
      );
      assert.ok(Math.abs(logprob - (at(raw, token) - rawLogZ)) < 1e-4);
      if (token !== t0) changed++;
    }
    assert.ok(changed >= 5, 'the cases are strong enough to move the greedy choice');
  });

  it('neutral settings leave sampling untouched; masking everything falls back to the raw logits', async () => {
    const plain = await greedyWith({});
    const neutral = await greedyWith({
      repetitionPenalty: 1,
      presencePenalty: 0,
      frequencyPenalty: 0,
      outputTokens: Int32Array.from([plain.token]),
    });
    assert.equal(neutral.token, plain.token);
    const all = await greedyWith({ maskTokens: Int32Array.from(raw.keys()) });
    assert.equal(all.token, plain.token);
  });

  it('seeded sampling with penalties gives the same tokens alone and batched', async () => {
    const sampling = { ...GREEDY, temperature: 1, seed: 99 };
    const withPenalties = (r: SeqRun): EngineSeq => ({
      ...r.next(),
      repetitionPenalty: 1.3,
      frequencyPenalty: 0.4,
      promptTokens: Int32Array.from(r.prompt),
      outputTokens: Int32Array.from(r.generated),
    });
    const drive = async (runs: SeqRun[]) => {
      for (;;) {
        const active = runs.filter((r) => !r.done);
        if (active.length === 0) return;
        const seqs = active.map(withPenalties);
        const res = await engine.step(seqs);
        active.forEach((r, i) => r.apply(at(seqs, i), res, i));
      }
    };
    const alone = new SeqRun(ONCE_UPON_A_TIME, [0, 1], sampling, 20);
    await drive([alone]);
    const a = new SeqRun(ONCE_UPON_A_TIME, [2, 3], sampling, 20);
    const others = [
      new SeqRun([1, 300], [4, 5], { ...sampling, seed: 1 }, 12),
      new SeqRun(ONCE_UPON_A_TIME, [6, 7], { ...sampling, seed: 2 }, 20),
    ];
    await drive([at(others, 0), a, at(others, 1)]);
    assert.deepEqual(a.generated, alone.generated);
    // And the penalties are felt: plain seeded sampling differs somewhere in 20 tokens.
    const plain = new SeqRun(ONCE_UPON_A_TIME, [8, 9], sampling, 20);
    await runAll(engine, [plain]);
    assert.notDeepEqual(plain.generated, alone.generated);
  });

  it('rejects bad penalties and ids naming the field', async () => {
    const ok = () => seq(ONCE_UPON_A_TIME, 0, [1], true, GREEDY, 0);
    await assert.rejects(
      engine.step([{ ...ok(), presencePenalty: 3 }]),
      (e: Error) => e instanceof RangeError && /presencePenalty/.test(e.message),
    );
    await assert.rejects(
      engine.step([{ ...ok(), repetitionPenalty: 0 }]),
      (e: Error) => e instanceof RangeError && /repetitionPenalty/.test(e.message),
    );
    await assert.rejects(
      engine.step([{ ...ok(), outputTokens: Int32Array.from([512]) }]),
      (e: Error) => e instanceof RangeError && /outputTokens\[0\] = 512/.test(e.message),
    );
    await assert.rejects(
      engine.step([{ ...ok(), logitBiasIds: Int32Array.from([1, 2]), logitBiasValues: Float32Array.from([1]) }]),
      /one value per logitBiasIds/,
    );
    await assert.rejects(
      engine.step([{ ...ok(), logitBiasIds: Int32Array.from([1]), logitBiasValues: Float32Array.from([NaN]) }]),
      /finite/,
    );
    await assert.rejects(engine.step([{ ...ok(), maskTokens: [1] as unknown as Int32Array }]), TypeError);
    assert.ok(at((await engine.step([ok()])).tokens, 0) >= 0);
  });
});
