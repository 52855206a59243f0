// llama-quantize's per-tensor type choice, reproduced: the types llamaFileTensorType gives every matrix of
// two model shapes equal the types llama.cpp's own llama_model_quantize wrote (default parameters, no
// importance matrix, tree of node-llama-cpp 3.22.1) when it quantised f32 files of those shapes to each
// file type, recorded below per tensor role in layer order ("q4_K*3" = three layers in a row). The
// first shape has 4 query heads per KV head and 256-multiple widths; the second 2 per KV head and widths
// that are not, so it takes llama-quantize's 32-value fallbacks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { llamaFileTensorType, LLAMA_FILE_TYPES, type LlamaFileType } from './llama-file-type.js';
import { modelTensorSpecs, type ModelShape } from './model-gguf-layout.js';

const LLAMA_QUANTIZE: Record<string, Record<LlamaFileType, Record<string, string>>> = {
  'dim=256,hidden=768,layers=16,heads=8,kv_heads=2,vocab=32000,ctx=128': {
    Q2_K: {
      output: 'q6_K',
      token_embd: 'q2_K',
      attn_k: 'q2_K*16',
      attn_output: 'q3_K*16',
      attn_q: 'q2_K*16',
      attn_v: 'q4_K*16',
      ffn_down: 'q3_K*16',
      ffn_gate: 'q2_K*16',
      ffn_up: 'q2_K*16',
    },
    Q3_K_M: {
      output: 'q6_K',
      token_embd: 'q3_K',
      attn_k: 'q3_K*16',
      attn_output: 'q4_K*16',
      attn_q: 'q3_K*16',
      attn_v: 'q5_K*2 q4_K*14',
      ffn_down: 'q5_K q4_K*15',
      ffn_gate: 'q3_K*16',
      ffn_up: 'q3_K*16',
    },
    Q4_K_M: {
      output: 'q6_K',
      token_embd: 'q4_K',
      attn_k: 'q4_K*16',
      attn_output: 'q4_K*16',
      attn_q: 'q4_K*16',
      attn_v: 'q6_K*2 q4_K*2 q6_K q4_K*2 q6_K q4_K*2 q6_K q4_K*2 q6_K*3',
      ffn_down: 'q6_K*2 q4_K*2 q6_K q4_K*2 q6_K q4_K*2 q6_K q4_K*2 q6_K*3',
      ffn_gate: 'q4_K*16',
      ffn_up: 'q4_K*16',
    },
    Q5_K_M: {
      output: 'q6_K',
      token_embd: 'q5_K',
      attn_k: 'q5_K*16',
      attn_output: 'q5_K*16',
      attn_q: 'q5_K*16',
      attn_v: 'q6_K*2 q5_K*2 q6_K q5_K*2 q6_K q5_K*2 q6_K q5_K*2 q6_K*3',
      ffn_down: 'q6_K*2 q5_K*2 q6_K q5_K*2 q6_K q5_K*2 q6_K q5_K*2 q6_K*3',
      ffn_gate: 'q5_K*16',
      ffn_up: 'q5_K*16',
    },
    Q6_K: {
      output: 'q6_K',
      token_embd: 'q6_K',
      attn_k: 'q6_K*16',
      attn_output: 'q6_K*16',
      attn_q: 'q6_K*16',
      attn_v: 'q6_K*16',
      ffn_down: 'q6_K*16',
      ffn_gate: 'q6_K*16',
      ffn_up: 'q6_K*16',
    },
    Q8_0: {
      output: 'q8_0',
      token_embd: 'q8_0',
      attn_k: 'q8_0*16',
      attn_output: 'q8_0*16',
      attn_q: 'q8_0*16',
      attn_v: 'q8_0*16',
      ffn_down: 'q8_0*16',
      ffn_gate: 'q8_0*16',
      ffn_up: 'q8_0*16',
    },
    IQ4_XS: {
      output: 'q6_K',
      token_embd: 'iq4_xs',
      attn_k: 'iq4_xs*16',
      attn_output: 'iq4_xs*16',
      attn_q: 'iq4_xs*16',
      attn_v: 'q5_K*16',
      ffn_down: 'q5_K*2 iq4_xs*14',
      ffn_gate: 'iq4_xs*16',
      ffn_up: 'iq4_xs*16',
    },
  },
  'dim=288,hidden=672,layers=9,heads=6,kv_heads=3,vocab=32000,ctx=128': {
    Q2_K: {
      output: 'q8_0',
      token_embd: 'q4_0',
      attn_k: 'q4_0*9',
      attn_output: 'q4_0*9',
      attn_q: 'q4_0*9',
      attn_v: 'q4_0*9',
      ffn_down: 'q4_0*9',
      ffn_gate: 'q4_0*9',
      ffn_up: 'q4_0*9',
    },
    Q3_K_M: {
      output: 'q8_0',
      token_embd: 'q4_0',
      attn_k: 'q4_0*9',
      attn_output: 'q5_0*9',
      attn_q: 'q4_0*9',
      attn_v: 'q5_1*2 q5_0*7',
      ffn_down: 'q5_0*9',
      ffn_gate: 'q4_0*9',
      ffn_up: 'q4_0*9',
    },
    Q4_K_M: {
      output: 'q8_0',
      token_embd: 'q5_0',
      attn_k: 'q5_0*9',
      attn_output: 'q5_0*9',
      attn_q: 'q5_0*9',
      attn_v: 'q8_0 q5_0*2 q8_0 q5_0*2 q8_0*3',
      ffn_down: 'q8_0 q5_0*2 q8_0 q5_0*2 q8_0*3',
      ffn_gate: 'q5_0*9',
      ffn_up: 'q5_0*9',
    },
    Q5_K_M: {
      output: 'q8_0',
      token_embd: 'q5_1',
      attn_k: 'q5_1*9',
      attn_output: 'q5_1*9',
      attn_q: 'q5_1*9',
      attn_v: 'q8_0 q5_1*2 q8_0 q5_1*2 q8_0*3',
      ffn_down: 'q8_0 q5_1*2 q8_0 q5_1*2 q8_0*3',
      ffn_gate: 'q5_1*9',
      ffn_up: 'q5_1*9',
    },
    Q6_K: {
      output: 'q8_0',
      token_embd: 'q8_0',
      attn_k: 'q8_0*9',
      attn_output: 'q8_0*9',
      attn_q: 'q8_0*9',
      attn_v: 'q8_0*9',
      ffn_down: 'q8_0*9',
      ffn_gate: 'q8_0*9',
      ffn_up: 'q8_0*9',
    },
    Q8_0: {
      output: 'q8_0',
      token_embd: 'q8_0',
      attn_k: 'q8_0*9',
      attn_output: 'q8_0*9',
      attn_q: 'q8_0*9',
      attn_v: 'q8_0*9',
      ffn_down: 'q8_0*9',
      ffn_gate: 'q8_0*9',
      ffn_up: 'q8_0*9',
    },
    IQ4_XS: {
      output: 'q8_0',
      token_embd: 'iq4_nl',
      attn_k: 'iq4_nl*9',
      attn_output: 'iq4_nl*9',
      attn_q: 'iq4_nl*9',
      attn_v: 'iq4_nl*9',
      ffn_down: 'q5_1 iq4_nl*8',
      ffn_gate: 'iq4_nl*9',
      ffn_up: 'iq4_nl*9',
    },
  },
};

/** "q4_K*2 q6_K" -> ['q4_K', 'q4_K', 'q6_K']. */
const expand = (runs: string) =>
  runs.split(' ').flatMap((r) => {
    const [t, n] = r.split('*');
    return Array<string>(Number(n ?? 1)).fill(t!);
  });

function shapeOf(spec: string): ModelShape {
  const d = Object.fromEntries(spec.split(',').map((kv) => kv.split('=') as [string, string]));
  return {
    dim: Number(d.dim),
    hidden: Number(d.hidden),
    layers: Number(d.layers),
    heads: Number(d.heads),
    kvHeads: Number(d.kv_heads),
    vocab: Number(d.vocab),
    ctx: Number(d.ctx),
    ropeTheta: 10000,
    normEps: 1e-5,
  };
}

describe("llama-quantize's per-tensor types", () => {
  for (const [spec, byType] of Object.entries(LLAMA_QUANTIZE)) {
    const s = shapeOf(spec);
    for (const ft of LLAMA_FILE_TYPES) {
      it(`${ft}, ${spec}`, () => {
        const got = new Map<string, string[]>();
        for (const t of modelTensorSpecs('llama', s)) {
          if (t.kind !== 'matrix' && t.kind !== 'embedding') continue;
          const role = t.name.replace(/^blk\.\d+\./, '').replace('.weight', '');
          const model = { layers: s.layers, heads: s.heads, kvHeads: s.kvHeads, tiedOutput: false };
          got.set(role, [...(got.get(role) ?? []), llamaFileTensorType(ft, t.name, t.cols, model)]);
        }
        for (const [role, runs] of Object.entries(byType[ft])) assert.deepEqual(got.get(role), expand(runs), role);
        assert.equal(got.size, Object.keys(byType[ft]).length);
      });
    }
  }

  it("a fused QKV (phi3) is typed as attn_v (llama-quantize's phi3-tiny: Q4_K_M gives layer 1 of 2 q6_K)", () => {
    const m = { layers: 2, heads: 4, kvHeads: 2, tiedOutput: false };
    assert.equal(llamaFileTensorType('Q4_K_M', 'blk.0.attn_qkv.weight', 256, m), 'q4_K');
    assert.equal(llamaFileTensorType('Q4_K_M', 'blk.1.attn_qkv.weight', 256, m), 'q6_K');
    assert.equal(llamaFileTensorType('Q3_K_M', 'blk.1.attn_qkv.weight', 256, m), 'q5_K');
  });

  it('token_embd takes the output type when the output is tied', () => {
    const m = { layers: 4, heads: 8, kvHeads: 8, tiedOutput: true };
    assert.equal(llamaFileTensorType('Q4_K_M', 'token_embd.weight', 256, m), 'q6_K');
    assert.equal(llamaFileTensorType('Q4_K_M', 'token_embd.weight', 288, m), 'q8_0');
    assert.equal(llamaFileTensorType('Q8_0', 'token_embd.weight', 256, m), 'q8_0');
  });
});
