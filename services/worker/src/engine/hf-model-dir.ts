/**
 * Writes a Hugging Face model directory (config.json, tokenizer.json, tokenizer_config.json,
 * *.safetensors, optionally sharded with model.safetensors.index.json) holding the same model as a
 * Llama-family GGUF, the inverse of convert_hf_to_gguf.py: tensor names mapped back, dims reversed, and
 * for llama / mistral the Q/K rows un-permuted (GGUF interleaves each head's rotary pairs for its NORM
 * RoPE; HF keeps the halves apart for rotate_half). qwen2 GGUFs are not permuted, so neither is undone.
 * Not a test file itself; used by the safetensors engine and worker tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  hfTokenizerFromData,
  readGgufMetadata,
  tokenizerDataFromGguf,
  chatTemplateFromGguf,
  type GgufTensorInfo,
} from '@loom/tokenizer';
import { encode } from './tiny-model.js';

export interface HfDirOptions {
  /** Number of safetensors shards (> 1 writes model.safetensors.index.json). Default 1. */
  shards?: number;
  /** Store f32 tensors as bf16 (matrices and 1-D tensors alike, as torch_dtype=bfloat16 checkpoints do). */
  bf16?: boolean;
  /** config.json rope_scaling (e.g. Llama-3's), for GGUFs that carry it as rope_freqs.weight. */
  ropeScaling?: Record<string, unknown>;
}

const DTYPE: Record<number, { name: string; bytes: number }> = {
  0: { name: 'F32', bytes: 4 },
  1: { name: 'F16', bytes: 2 },
  30: { name: 'BF16', bytes: 2 },
};

/** HF name of a GGUF tensor name; undefined for tensors HF checkpoints do not hold (rope_freqs). */
function hfName(gguf: string): string | undefined {
  const top: Record<string, string> = {
    'token_embd.weight': 'model.embed_tokens.weight',
    'output_norm.weight': 'model.norm.weight',
    'output.weight': 'lm_head.weight',
  };
  if (top[gguf]) return top[gguf];
  const m = /^blk\.(\d+)\.(.+)$/.exec(gguf);
  if (!m) return undefined;
  const inLayer: Record<string, string> = {
    'attn_norm.weight': 'input_layernorm.weight',
    'attn_q.weight': 'self_attn.q_proj.weight',
    'attn_q.bias': 'self_attn.q_proj.bias',
    'attn_k.weight': 'self_attn.k_proj.weight',
    'attn_k.bias': 'self_attn.k_proj.bias',
    'attn_v.weight': 'self_attn.v_proj.weight',
    'attn_v.bias': 'self_attn.v_proj.bias',
    'attn_output.weight': 'self_attn.o_proj.weight',
    'ffn_norm.weight': 'post_attention_layernorm.weight',
    'ffn_gate.weight': 'mlp.gate_proj.weight',
    'ffn_up.weight': 'mlp.up_proj.weight',
    'ffn_down.weight': 'mlp.down_proj.weight',
  };
  const rest = inLayer[m[2]!];
  return rest ? `model.layers.${m[1]}.${rest}` : undefined;
}

/**
 * Undoes convert_hf_to_gguf's permute(w, n_head): [rows][rowBytes] with rows = nHead * headDim; GGUF row
 * h*hd + 2i + j holds HF row h*hd + j*hd/2 + i (biases are the rowBytes = element size case).
 */
function unpermute(data: Uint8Array, nHead: number, rowBytes: number): Uint8Array {
  const rows = data.length / rowBytes;
  const hd = rows / nHead;
  const out = new Uint8Array(data.length);
  for (let h = 0; h < nHead; h++)
    for (let i = 0; i < hd / 2; i++)
      for (let j = 0; j < 2; j++) {
        const src = (h * hd + 2 * i + j) * rowBytes;
        out.set(data.subarray(src, src + rowBytes), (h * hd + j * (hd / 2) + i) * rowBytes);
      }
  return out;
}

interface HfTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

function writeSafetensors(file: string, tensors: HfTensor[]): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] };
    offset += t.data.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the safetensors writer pads the header to 8 bytes
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json), ...tensors.map((t) => t.data)]));
}

/** Writes `dir` (created) from the GGUF at `ggufPath`; returns the directory. */
export function writeHfModelDir(ggufPath: string, dir: string, opts: HfDirOptions = {}): string {
  const meta = readGgufMetadata(ggufPath);
  const arch = meta.getString('general.architecture')!;
  const k = (key: string) => meta.getNumber(`${arch}.${key}`);
  const nHead = k('attention.head_count')!;
  const nKv = k('attention.head_count_kv') ?? nHead;
  const fd = fs.openSync(ggufPath, 'r');
  const tensors: HfTensor[] = [];
  try {
    for (const t of meta.tensors as GgufTensorInfo[]) {
      const name = hfName(t.name);
      if (!name) continue;
      const dt = DTYPE[t.type];
      if (!dt)
        throw new Error(
          `${ggufPath}: tensor ${t.name} has GGML type ${t.type}; only f32 / f16 / bf16 have a safetensors dtype`,
        );
      let data: Uint8Array = new Uint8Array(t.byteSize!);
      fs.readSync(fd, data, 0, data.length, t.fileOffset);
      const rowBytes = (t.shape.length === 2 ? t.shape[0]! : 1) * dt.bytes;
      if (arch !== 'qwen2' && /attn_q\./.test(t.name)) data = unpermute(data, nHead, rowBytes);
      if (arch !== 'qwen2' && /attn_k\./.test(t.name)) data = unpermute(data, nKv, rowBytes);
      let dtype = dt.name;
      if (opts.bf16 && t.type === 0) {
        data = encode('bf16', new Float32Array(data.buffer, data.byteOffset, data.length / 4));
        dtype = 'BF16';
      }
      tensors.push({ name, dtype, shape: [...t.shape].reverse(), data });
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.mkdirSync(dir, { recursive: true });
  const shards = Math.max(1, opts.shards ?? 1);
  if (shards === 1) {
    writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  } else {
    const weightMap: Record<string, string> = {};
    for (let s = 0; s < shards; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part = tensors.filter((_, i) => i % shards === s);
      part.forEach((t) => (weightMap[t.name] = file));
      writeSafetensors(path.join(dir, file), part);
    }
    const total = tensors.reduce((n, t) => n + t.data.length, 0);
    fs.writeFileSync(
      path.join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2),
    );
  }
  const tied = !meta.tensors.some((t) => t.name === 'output.weight');
  const emb = meta.tensors.find((t) => t.name === 'token_embd.weight')!;
  const config: Record<string, unknown> = {
    architectures: [
      { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM' }[arch] ?? arch,
    ],
    model_type: arch,
    hidden_size: k('embedding_length'),
    intermediate_size: k('feed_forward_length'),
    num_hidden_layers: k('block_count'),
    num_attention_heads: nHead,
    num_key_value_heads: nKv,
    max_position_embeddings: k('context_length'),
    rms_norm_eps: k('attention.layer_norm_rms_epsilon') ?? 1e-5,
    rope_theta: k('rope.freq_base') ?? 10000,
    tie_word_embeddings: tied,
    vocab_size: emb.shape[1],
    hidden_act: 'silu',
    torch_dtype: opts.bf16 ? 'bfloat16' : 'float32',
  };
  const linear = meta.getString(`${arch}.rope.scaling.type`) === 'linear' ? k('rope.scaling.factor') : undefined;
  if (linear !== undefined) config['rope_scaling'] = { type: 'linear', factor: linear };
  if (opts.ropeScaling) config['rope_scaling'] = opts.ropeScaling;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const tok = hfTokenizerFromData(tokenizerDataFromGguf(meta), chatTemplateFromGguf(meta));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tok.tokenizerJson));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tok.tokenizerConfig, null, 2));
  return dir;
}
