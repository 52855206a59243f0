// Quantised bytes three ways, for every block type: the TypeScript quantisers (@loom/tokenizer, what
// `loom model synth` writes), the engine's C++ ones (quantize()) and ggml's own (ggml_quantize_chunk in
// node-llama-cpp's libggml-base.so, what llama-quantize runs) write the same bytes, on rows chosen to reach
// the quantisers' edge cases; and the engine reads any bytes as ggml's dequantize_row_<type> does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '@loom/testing';
import { GGML_QUANT_TYPES, ggmlQuantize, ggmlQuantLayout } from '@loom/gguf';
import { ggmlReferenceDequantize, ggmlReferenceQuantize } from '../testing/ggml-reference.js';
import { dequantize, quantize } from './native-engine.js';

const ROW = 512; // two 256-value super-blocks, sixteen 32-value blocks

/** Rows of distinct character, ROW values each, from one seeded stream. */
function rows(): Map<string, Float32Array> {
  const r = seededRandom(11);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const make = (n: number, fn: (i: number) => number) => Float32Array.from({ length: n * ROW }, (_, i) => fn(i));
  return new Map([
    ['gaussian', make(8, () => gauss())],
    // block scales spread over 6 decades
    ['wide range', make(8, (i) => gauss() * 10 ** ((Math.floor(i / 32) % 7) - 3))],
    ['zero blocks and sub-blocks', make(4, (i) => ((i >> 4) % 3 === 0 ? 0 : gauss()))],
    ['all zero', make(1, () => 0)],
    ['below GROUP_MAX_EPS', make(2, () => gauss() * 1e-17)],
    ['one outlier per block', make(4, (i) => (i % 32 === 7 ? 40 : 1) * gauss())],
    ['one sign', make(4, (i) => (Math.floor(i / 256) % 2 ? 1 : -1) * Math.abs(gauss()))],
    ['constant blocks', make(2, (i) => ((i >> 5) % 2 ? 0.5 : -0.25))],
    // values on the grids' half steps (ties in every rounding)
    ['half steps', make(4, () => (Math.floor(r() * 64) - 32) / 2)],
  ]);
}

describe('quantised bytes: TypeScript == engine (C++) == ggml', () => {
  const data = rows();
  for (const type of GGML_QUANT_TYPES) {
    it(`${type}: the same bytes from all three; the engine dequantises as ggml`, () => {
      for (const [kind, x] of data) {
        const ours = ggmlQuantize(type, x);
        assert.deepEqual(ours, quantize(type, x), `${kind}: TypeScript vs engine`);
        assert.deepEqual(ours, ggmlReferenceQuantize(type, x, ROW), `${kind}: TypeScript vs ggml`);
      }
      // Dequantisation of arbitrary bytes (scales included): NaN only where ggml has NaN.
      const r = seededRandom(3);
      const { blockBytes } = ggmlQuantLayout(type);
      const bytes = Uint8Array.from({ length: 64 * blockBytes }, () => Math.floor(r() * 256));
      const got = dequantize(type, bytes),
        want = ggmlReferenceDequantize(type, bytes);
      assert.equal(got.length, want.length);
      for (let i = 0; i < got.length; i++)
        assert.ok(Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i])), `value ${i}`);
    });
  }

  it('a row that is not whole blocks is refused, naming the type', () => {
    assert.throws(() => ggmlQuantize('q4_K', new Float32Array(300)), /q4_K needs a multiple of 256 values/);
    assert.throws(() => quantize('iq4_xs', new Float32Array(100)), /multiple of 256/);
  });
});
