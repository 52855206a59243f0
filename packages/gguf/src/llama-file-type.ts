/**
 * llama-quantize's file types ("Q4_K_M", ...) as the per-tensor type each gives a model quantised without an
 * importance matrix: llama.cpp's llama_tensor_get_type (src/llama-quant.cpp), not Falcon, not a 70B, no
 * overrides (nothing else in it depends on the architecture). Mixture-of-experts models follow the same rules
 * by tensor role (a 3-D ffn_{gate,up,down}_exps is typed as its dense name, the f32 router is left alone),
 * plus llama.cpp's 8-expert bumps: attn_k and attn_v to q8_0, attn_output to q5_K in the low-bit types.
 * Real downloads are such mixes (a Q4_K_M file holds q4_K, q6_K for output / some attn_v and ffn_down, and
 * 32-value fallbacks for rows that are not whole 256-value super-blocks), so `loom model synth --dtype Q4_K_M`
 * writes exactly the types llama-quantize would.
 */
import { ggmlQuantLayout, type GgmlQuantType } from './ggml-quant.js';

export type LlamaFileType = 'Q2_K' | 'Q3_K_M' | 'Q4_K_M' | 'Q5_K_M' | 'Q6_K' | 'Q8_0' | 'IQ4_XS';
export const LLAMA_FILE_TYPES: readonly LlamaFileType[] = [
  'Q2_K',
  'Q3_K_M',
  'Q4_K_M',
  'Q5_K_M',
  'Q6_K',
  'Q8_0',
  'IQ4_XS',
];

/** True for a llama-quantize file type name (upper case: 'Q4_K_M'), as opposed to a GGML type ('q4_K'). */
export const isLlamaFileType = (s: string): s is LlamaFileType => (LLAMA_FILE_TYPES as readonly string[]).includes(s);

/** general.file_type (llama_ftype) of each. */
export const LLAMA_FTYPE_ID: Readonly<Record<LlamaFileType, number>> = {
  Q8_0: 7,
  Q2_K: 10,
  Q3_K_M: 12,
  Q4_K_M: 15,
  Q5_K_M: 17,
  Q6_K: 18,
  IQ4_XS: 30,
};

const DEFAULT_TYPE: Readonly<Record<LlamaFileType, GgmlQuantType>> = {
  Q2_K: 'q2_K',
  Q3_K_M: 'q3_K',
  Q4_K_M: 'q4_K',
  Q5_K_M: 'q5_K',
  Q6_K: 'q6_K',
  Q8_0: 'q8_0',
  IQ4_XS: 'iq4_xs',
};

/** What llama_tensor_get_type looks at besides the tensor. */
export interface FileTypeModel {
  layers: number;
  heads: number;
  kvHeads: number;
  /** No output.weight: token_embd doubles as the output and is typed like it. */
  tiedOutput: boolean;
  /** Experts per MoE layer (absent or 0: dense). llama.cpp gives 8-expert models more bits in attention. */
  experts?: number;
}

/** File types whose 8-expert models get a q5_K attn_output (llama.cpp's list, of the types here). */
const EIGHT_EXPERT_Q5K_OUTPUT: readonly LlamaFileType[] = ['Q2_K', 'Q3_K_M', 'Q4_K_M', 'IQ4_XS'];

/** tensor_type_fallback: the type a row of `cols` values takes when `type`'s blocks do not divide it. */
function fallback(type: GgmlQuantType, cols: number): GgmlQuantType | 'f16' {
  const fits = (t: GgmlQuantType) => cols % ggmlQuantLayout(t).blockSize === 0;
  if (fits(type)) return type;
  const next: Partial<Record<GgmlQuantType, GgmlQuantType>> = {
    iq4_xs: 'iq4_nl',
    q2_K: 'q4_0',
    q3_K: 'q4_0',
    q4_K: 'q5_0',
    q5_K: 'q5_1',
    q6_K: 'q8_0',
  };
  const t = next[type] ?? type;
  return fits(t) ? t : 'f16';
}

/** llama.cpp's use_more_bits: the first and last eighth of the layers and every third one between. */
function useMoreBits(i: number, n: number): boolean {
  const e = Math.floor(n / 8);
  return i < e || i >= Math.floor((7 * n) / 8) || (i - e) % 3 === 2;
}

/**
 * The type llama-quantize gives the 2-D weight `name` (GGUF tensor name, rows of `cols` values) in a
 * `fileType` file of model `m`. llama.cpp's per-category counters (i_attention_wv, i_ffn_down) equal the
 * layer index, since it visits tensors layer by layer (for MoE models it reads the layer from the name).
 */
export function llamaFileTensorType(
  fileType: LlamaFileType,
  name: string,
  cols: number,
  m: FileTypeModel,
): GgmlQuantType | 'f16' {
  const def = DEFAULT_TYPE[fileType];
  const layer = Number(/^blk\.(\d+)\./.exec(name)?.[1] ?? -1);
  const n = m.layers,
    gqa = m.heads / m.kvHeads;
  const eightExperts = m.experts === 8;
  let t: GgmlQuantType = def;
  if (name === 'output.weight' || (m.tiedOutput && name === 'token_embd.weight')) {
    if (cols % ggmlQuantLayout(def).blockSize !== 0) t = 'q8_0';
    else if (def !== 'q8_0') t = 'q6_K';
  } else if (name === 'token_embd.weight') {
    // the default type for these file types
  } else if (name.includes('attn_v.weight') || name.includes('attn_qkv.weight')) {
    // llama.cpp's category_is_attn_v: a fused QKV (phi3) is typed as attn_v
    if (fileType === 'Q2_K') t = gqa >= 4 ? 'q4_K' : 'q3_K';
    else if (fileType === 'Q3_K_M') t = layer < 2 ? 'q5_K' : 'q4_K';
    else if (fileType === 'IQ4_XS' && gqa >= 4) t = 'q5_K';
    else if ((fileType === 'Q4_K_M' || fileType === 'Q5_K_M') && useMoreBits(layer, n)) t = 'q6_K';
    if (eightExperts) t = 'q8_0';
  } else if (name.includes('attn_k.weight')) {
    if (eightExperts) t = 'q8_0';
  } else if (name.includes('ffn_down')) {
    if (fileType === 'Q2_K') t = 'q3_K';
    else if (fileType === 'Q3_K_M') t = layer < Math.floor(n / 16) ? 'q5_K' : 'q4_K';
    else if (fileType === 'Q4_K_M') t = useMoreBits(layer, n) ? 'q6_K' : t;
    else if (fileType === 'IQ4_XS' && layer < Math.floor(n / 8)) t = 'q5_K';
    else if (fileType === 'Q5_K_M' && useMoreBits(layer, n)) t = 'q6_K';
  } else if (name.includes('attn_output.weight')) {
    if (eightExperts) t = EIGHT_EXPERT_Q5K_OUTPUT.includes(fileType) ? 'q5_K' : t;
    else if (fileType === 'Q2_K') t = 'q3_K';
    else if (fileType === 'Q3_K_M') t = 'q4_K';
  }
  return fallback(t, cols);
}
