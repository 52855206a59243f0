/**
 * gpt-oss's expert tensors as transformers' checkpoints hold them, from a GGUF's (the inverse of
 * convert_hf_to_gguf.py's GptOssModel; not a test file, used by hf-model-dir.ts). Per layer, for E experts of
 * width I over model width D: gate and up interleaved by row (gate = even rows) into gate_up_proj, and either
 * MXFP4 (`*_blocks` U8 [E, rows, cols/32, 16] + `*_scales` U8 [E, rows, cols/32], when the GGUF's experts are
 * mxfp4) or, for float experts, the dequantised layout gate_up_proj [E, D, 2I] / down_proj [E, I, D] (inputs
 * first); biases gate_up_proj_bias [E, 2I] and down_proj_bias [E, D]. An HF MXFP4 block holds value 2k in byte
 * k's low nibble and 2k + 1 in its high one (transformers' convert_moe_packed_tensors), ggml's block_mxfp4 value j
 * in byte j's low nibble and j + 16 in its high one after the e8m0 scale byte, which both share.
 */
import { at, entry } from '@loom/common';

export interface GgufExpertTensor {
  /** GGML type id: 0 f32, 1 f16, 30 bf16, 39 mxfp4 (weights); biases are f32. */
  type: number;
  /** ggml shape: [cols, rows, E] for weights, [rows, E] for biases. */
  shape: number[];
  data: Uint8Array;
}

export interface HfTensorOut {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

const MXFP4 = 39;
const FLOAT: Record<string, { name: string; bytes: number }> = {
  0: { name: 'F32', bytes: 4 },
  1: { name: 'F16', bytes: 2 },
  30: { name: 'BF16', bytes: 2 },
};

/** [cols, rows, E] of a weight (the first part's: all parts have the same). */
const dims3 = (parts: GgufExpertTensor[]) => {
  const s = at(parts, 0).shape;
  return [at(s, 0), at(s, 1), at(s, 2)] as const;
};

/** HF blocks and scales of one MXFP4 tensor's rows, rows of `parts` (gate, up) interleaved. */
function hfMxfp4(parts: GgufExpertTensor[]): { blocks: Uint8Array; scales: Uint8Array; shape: number[] } {
  const [cols, rows, E] = dims3(parts);
  const nb = cols / 32,
    P = parts.length;
  const blocks = new Uint8Array(E * rows * P * nb * 16);
  const scales = new Uint8Array(E * rows * P * nb);
  for (let e = 0; e < E; e++)
    for (let r = 0; r < rows; r++)
      parts.forEach((t, p) => {
        const dstRow = (e * rows + r) * P + p;
        for (let b = 0; b < nb; b++) {
          const src = ((e * rows + r) * nb + b) * 17;
          const code = (v: number) => (v < 16 ? at(t.data, src + 1 + v) & 15 : at(t.data, src + 1 + v - 16) >> 4);
          scales[dstRow * nb + b] = at(t.data, src);
          for (let k = 0; k < 16; k++) blocks[(dstRow * nb + b) * 16 + k] = code(2 * k) | (code(2 * k + 1) << 4);
        }
      });
  return { blocks, scales, shape: [E, rows * P, nb, 16] };
}

/** HF [E, cols, rows * P] float tensor (inputs first) of `parts`' [E][rows][cols] rows, interleaved. */
function hfTransposed(parts: GgufExpertTensor[]): { data: Uint8Array; shape: number[] } {
  const [cols, rows, E] = dims3(parts);
  const eb = entry(FLOAT, String(at(parts, 0).type)).bytes,
    P = parts.length;
  const out = new Uint8Array(E * cols * rows * P * eb);
  for (let e = 0; e < E; e++)
    for (let r = 0; r < rows; r++)
      parts.forEach((t, p) => {
        for (let c = 0; c < cols; c++) {
          const src = ((e * rows + r) * cols + c) * eb;
          out.set(t.data.subarray(src, src + eb), ((e * cols + c) * rows * P + r * P + p) * eb);
        }
      });
  return { data: out, shape: [E, cols, rows * P] };
}

/** HF [E, rows * P] f32 bias of `parts`' [rows, E] biases, interleaved. */
function hfBias(parts: GgufExpertTensor[]): { data: Uint8Array; shape: number[] } {
  const [rows, E] = [at(at(parts, 0).shape, 0), at(at(parts, 0).shape, 1)];
  const P = parts.length;
  const out = new Float32Array(E * rows * P);
  parts.forEach((t, p) => {
    const v = new Float32Array(t.data.buffer, t.data.byteOffset, rows * E);
    for (let e = 0; e < E; e++) for (let r = 0; r < rows; r++) out[(e * rows + r) * P + p] = at(v, e * rows + r);
  });
  return { data: new Uint8Array(out.buffer), shape: [E, rows * P] };
}

/** Layer `layer`'s HF expert tensors from its GGUF ffn_{gate,up,down}_exps.{weight,bias}. */
export function hfGptOssExperts(layer: string, g: Map<string, GgufExpertTensor>): HfTensorOut[] {
  const get = (n: string) => {
    const t = g.get(n);
    if (!t) throw new Error(`gpt-oss layer ${layer}: no ${n} among its expert tensors`);
    return t;
  };
  const p = `model.layers.${layer}.mlp.experts.`;
  const gateUp = [get('ffn_gate_exps.weight'), get('ffn_up_exps.weight')];
  const down = [get('ffn_down_exps.weight')];
  const out: HfTensorOut[] = [];
  for (const [name, parts] of [
    ['gate_up_proj', gateUp],
    ['down_proj', down],
  ] as const) {
    const type = at(parts, 0).type;
    if (type === MXFP4) {
      const m = hfMxfp4([...parts]);
      out.push({ name: `${p}${name}_blocks`, dtype: 'U8', shape: m.shape, data: m.blocks });
      out.push({ name: `${p}${name}_scales`, dtype: 'U8', shape: m.shape.slice(0, 3), data: m.scales });
    } else {
      const f = FLOAT[type];
      if (!f) throw new Error(`gpt-oss layer ${layer}: experts of GGML type ${type} have no HF layout`);
      out.push({ name: `${p}${name}`, dtype: f.name, ...hfTransposed([...parts]) });
    }
  }
  out.push({
    name: `${p}gate_up_proj_bias`,
    dtype: 'F32',
    ...hfBias([get('ffn_gate_exps.bias'), get('ffn_up_exps.bias')]),
  });
  out.push({ name: `${p}down_proj_bias`, dtype: 'F32', ...hfBias([get('ffn_down_exps.bias')]) });
  return out;
}
