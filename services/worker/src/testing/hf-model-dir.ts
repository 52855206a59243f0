/**
 * Writes a Hugging Face model directory (config.json, tokenizer.json, tokenizer_config.json,
 * *.safetensors, optionally sharded with model.safetensors.index.json) holding the same model as a GGUF
 * of any supported family, the inverse of convert_hf_to_gguf.py: tensor names mapped back (gemma's four
 * norms, phi3's fused qkv_proj / gate_up_proj), dims reversed, gemma's norm weights minus 1 (HF's Gemma
 * RMSNorm multiplies by 1 + w), LongRoPE factors and every family's hyper-parameters into config.json, and
 * for the NORM-RoPE families (llama, mistral, smollm3, granite) the Q/K rows un-permuted (GGUF interleaves
 * each head's rotary pairs; HF keeps the halves apart for rotate_half). Not a test file itself; used by the
 * safetensors engine and worker tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { at, entry } from '@loom/common';
import { hfTokenizerFromData, tokenizerDataFromGguf, chatTemplateFromGguf } from '@loom/tokenizer';
import { readGgufMetadata, type GgufTensorInfo } from '@loom/gguf';
import { hfGptOssExperts, type GgufExpertTensor } from './hf-gpt-oss-experts.js';
import { encode } from './tiny-model.js';

export interface HfDirOptions {
  /** Number of safetensors shards (> 1 writes model.safetensors.index.json). Default 1. */
  shards?: number;
  /** Store f32 tensors as bf16 (matrices and 1-D tensors alike, as torch_dtype=bfloat16 checkpoints do). */
  bf16?: boolean;
  /** config.json rope_scaling (e.g. Llama-3's), for GGUFs that carry it as rope_freqs.weight. */
  ropeScaling?: Record<string, unknown>;
  /** Gemma 3 as its image-text checkpoints hold it: model_type gemma3 with the text config in text_config, tensors under language_model. */
  gemma3Multimodal?: boolean;
}

const DTYPE: Record<number, { name: string; bytes: number }> = {
  0: { name: 'F32', bytes: 4 },
  1: { name: 'F16', bytes: 2 },
  30: { name: 'BF16', bytes: 2 },
};

/** HF name of a GGUF tensor name; undefined for tensors HF checkpoints do not hold (rope_freqs, LongRoPE factors). */
function hfName(gguf: string, arch: string, moe: string): string | undefined {
  const top: Record<string, string> = {
    'token_embd.weight': 'model.embed_tokens.weight',
    'output_norm.weight': 'model.norm.weight',
    'output.weight': 'lm_head.weight',
  };
  if (top[gguf]) return top[gguf];
  const m = /^blk\.(\d+)\.(.+)$/.exec(gguf);
  if (!m) return undefined;
  const gemma = arch.startsWith('gemma');
  const inLayer: Record<string, string> = {
    'attn_norm.weight': 'input_layernorm.weight',
    'attn_q.weight': 'self_attn.q_proj.weight',
    'attn_q.bias': 'self_attn.q_proj.bias',
    'attn_k.weight': 'self_attn.k_proj.weight',
    'attn_k.bias': 'self_attn.k_proj.bias',
    'attn_v.weight': 'self_attn.v_proj.weight',
    'attn_v.bias': 'self_attn.v_proj.bias',
    'attn_qkv.weight': 'self_attn.qkv_proj.weight',
    'attn_q_norm.weight': 'self_attn.q_norm.weight',
    'attn_k_norm.weight': 'self_attn.k_norm.weight',
    'attn_output.weight': 'self_attn.o_proj.weight',
    'post_attention_norm.weight': 'post_attention_layernorm.weight',
    'ffn_norm.weight': gemma ? 'pre_feedforward_layernorm.weight' : 'post_attention_layernorm.weight',
    'post_ffw_norm.weight': 'post_feedforward_layernorm.weight',
    'ffn_gate.weight': 'mlp.gate_proj.weight',
    'ffn_up.weight': arch === 'phi3' ? 'mlp.gate_up_proj.weight' : 'mlp.up_proj.weight',
    'ffn_down.weight': 'mlp.down_proj.weight',
    'ffn_gate_inp.weight': arch === 'gpt-oss' ? 'mlp.router.weight' : `${moe}.gate.weight`,
    // gpt-oss
    'ffn_gate_inp.bias': 'mlp.router.bias',
    'attn_output.bias': 'self_attn.o_proj.bias',
    'attn_sinks.weight': 'self_attn.sinks',
  };
  const rest = inLayer[at(m, 2)];
  return rest ? `model.layers.${m[1]}.${rest}` : undefined;
}

/** HF names of expert e's matrix in a 3-D GGUF expert tensor: qwen3_moe's mlp.experts.e.*_proj, Mixtral's w1/w3/w2. */
function hfExpertName(gguf: string, moe: string, e: number): string | undefined {
  const m = /^blk\.(\d+)\.ffn_(gate|up|down)_exps\.weight$/.exec(gguf);
  if (!m) return undefined;
  const which = moe === 'mlp' ? `${m[2]}_proj` : entry({ gate: 'w1', up: 'w3', down: 'w2' }, at(m, 2));
  return `model.layers.${m[1]}.${moe}.experts.${e}.${which}.weight`;
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
  const permuted = ['llama', 'mistral', 'smollm3', 'granite'].includes(arch); // NORM RoPE in GGUF
  const gemma = arch.startsWith('gemma');
  // Mixture of experts: qwen3moe (HF qwen3_moe, experts under mlp.) or a llama with experts (Mixtral, under
  // block_sparse_moe.); each 3-D expert tensor becomes one 2-D tensor per expert.
  const experts = k('expert_count') ?? 0;
  const moe = arch === 'qwen3moe' ? 'mlp' : 'block_sparse_moe';
  // gpt-oss keeps each layer's experts in a few tensors of its own layout (hf-gpt-oss-experts.ts).
  const ossExperts = new Map<string, Map<string, GgufExpertTensor>>();
  const fd = fs.openSync(ggufPath, 'r');
  const tensors: HfTensor[] = [];
  const f32Of = (t: GgufTensorInfo): Float32Array => {
    const b = new Uint8Array(t.byteSize!);
    fs.readSync(fd, b, 0, b.length, t.fileOffset);
    return new Float32Array(b.buffer);
  };
  const ropeFactors: Record<string, number[]> = {};
  const dtypeOf = (t: GgufTensorInfo) => {
    const dt = DTYPE[t.type];
    if (dt) return dt;
    throw new Error(
      `${ggufPath}: tensor ${t.name} has GGML type ${t.type}; only f32 / f16 / bf16 have a safetensors dtype`,
    );
  };
  try {
    for (const t of meta.tensors as GgufTensorInfo[]) {
      const lr = /^rope_factors_(long|short)\.weight$/.exec(t.name);
      if (lr) ropeFactors[at(lr, 1)] = [...f32Of(t)];
      const oss = arch === 'gpt-oss' ? /^blk\.(\d+)\.(ffn_(?:gate|up|down)_exps\.(?:weight|bias))$/.exec(t.name) : null;
      if (oss) {
        const data = new Uint8Array(t.byteSize!);
        fs.readSync(fd, data, 0, data.length, t.fileOffset);
        const layer = ossExperts.get(at(oss, 1)) ?? new Map<string, GgufExpertTensor>();
        ossExperts.set(at(oss, 1), layer.set(at(oss, 2), { type: t.type, shape: [...t.shape], data }));
        continue;
      }
      if (experts && hfExpertName(t.name, moe, 0)) {
        const data = new Uint8Array(t.byteSize!);
        fs.readSync(fd, data, 0, data.length, t.fileOffset);
        const dt = dtypeOf(t);
        const each = data.length / experts;
        for (let e = 0; e < experts; e++)
          tensors.push({
            name: hfExpertName(t.name, moe, e)!,
            dtype: dt.name,
            shape: [at(t.shape, 1), at(t.shape, 0)],
            data: data.slice(e * each, (e + 1) * each),
          });
        continue;
      }
      const name = hfName(t.name, arch, moe);
      if (!name) continue;
      const dt = dtypeOf(t);
      let data: Uint8Array = new Uint8Array(t.byteSize!);
      fs.readSync(fd, data, 0, data.length, t.fileOffset);
      const rowBytes = (t.shape.length === 2 ? at(t.shape, 0) : 1) * dt.bytes;
      if (permuted && /attn_q\./.test(t.name)) data = unpermute(data, nHead, rowBytes);
      if (permuted && /attn_k\./.test(t.name)) data = unpermute(data, nKv, rowBytes);
      if (gemma && t.name.endsWith('norm.weight') && t.type === 0) {
        const v = new Float32Array(data.buffer, data.byteOffset, data.length / 4).map((x) => x - 1);
        data = new Uint8Array(v.buffer);
      }
      let dtype = dt.name;
      if (opts.bf16 && t.type === 0) {
        data = encode('bf16', new Float32Array(data.buffer, data.byteOffset, data.length / 4));
        dtype = 'BF16';
      }
      tensors.push({
        name: opts.gemma3Multimodal ? `language_model.${name}` : name,
        dtype,
        shape: [...t.shape].reverse(),
        data,
      });
    }
  } finally {
    fs.closeSync(fd);
  }
  for (const [layer, g] of ossExperts) tensors.push(...hfGptOssExperts(layer, g));
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
  const modelType =
    { gemma3: 'gemma3_text', qwen3moe: 'qwen3_moe', 'gpt-oss': 'gpt_oss' }[arch] ?? (experts ? 'mixtral' : arch);
  const headDim = k('attention.key_length') ?? k('embedding_length')! / nHead;
  const config: Record<string, unknown> = {
    architectures: [
      {
        llama: 'LlamaForCausalLM',
        mistral: 'MistralForCausalLM',
        qwen2: 'Qwen2ForCausalLM',
        qwen3: 'Qwen3ForCausalLM',
        gemma2: 'Gemma2ForCausalLM',
        gemma3: 'Gemma3ForCausalLM',
        phi3: 'Phi3ForCausalLM',
        smollm3: 'SmolLM3ForCausalLM',
        granite: 'GraniteForCausalLM',
        qwen3_moe: 'Qwen3MoeForCausalLM',
        gpt_oss: 'GptOssForCausalLM',
        mixtral: 'MixtralForCausalLM',
      }[modelType] ?? arch,
    ],
    model_type: modelType,
    hidden_size: k('embedding_length'),
    intermediate_size: k('feed_forward_length'),
    num_hidden_layers: k('block_count'),
    num_attention_heads: nHead,
    num_key_value_heads: nKv,
    head_dim: headDim,
    max_position_embeddings: k('context_length'),
    rms_norm_eps: k('attention.layer_norm_rms_epsilon') ?? 1e-5,
    rope_theta: k('rope.freq_base') ?? 10000,
    tie_word_embeddings: tied,
    vocab_size: emb.shape[1],
    hidden_act: gemma ? 'gelu_pytorch_tanh' : 'silu',
    torch_dtype: opts.bf16 ? 'bfloat16' : 'float32',
  };
  const ropeDims = k('rope.dimension_count');
  if (ropeDims !== undefined && ropeDims !== headDim) config['partial_rotary_factor'] = ropeDims / headDim;
  const window = k('attention.sliding_window');
  if (window !== undefined) config['sliding_window'] = window;
  const pattern = meta.metadata.get(`${arch}.attention.sliding_window_pattern`);
  if (Array.isArray(pattern)) config['layer_types'] = pattern.map((p) => (p ? 'sliding_attention' : 'full_attention'));
  else if (pattern !== undefined) config['sliding_window_pattern'] = pattern;
  if (gemma) {
    config['query_pre_attn_scalar'] = headDim;
    config['attn_logit_softcapping'] = arch === 'gemma2' ? (k('attn_logit_softcapping') ?? 50) : null;
    config['final_logit_softcapping'] = k('final_logit_softcapping') ?? (arch === 'gemma2' ? 30 : null);
    if (arch === 'gemma3') config['rope_local_base_freq'] = k('rope.freq_base_swa') ?? 10000;
  }
  if (arch === 'granite') {
    config['embedding_multiplier'] = k('embedding_scale');
    config['attention_multiplier'] = k('attention.scale');
    config['residual_multiplier'] = k('residual_scale');
    config['logits_scaling'] = k('logit_scale');
  }
  const scaling = meta.getString(`${arch}.rope.scaling.type`);
  const original = k('rope.scaling.original_context_length');
  if (scaling === 'linear') config['rope_scaling'] = { type: 'linear', factor: k('rope.scaling.factor') };
  if (scaling === 'yarn')
    config['rope_scaling'] = {
      rope_type: 'yarn',
      factor: k('rope.scaling.factor'),
      original_max_position_embeddings: original,
    };
  if (ropeFactors['long'])
    config['rope_scaling'] = {
      type: 'longrope',
      long_factor: ropeFactors['long'],
      short_factor: ropeFactors['short'],
      original_max_position_embeddings: original,
      attention_factor: k('rope.scaling.attn_factor') ?? 1,
    };
  if (opts.ropeScaling) config['rope_scaling'] = opts.ropeScaling;
  if (experts) {
    config[arch === 'qwen3moe' ? 'num_experts' : 'num_local_experts'] = experts;
    config['num_experts_per_tok'] = k('expert_used_count');
    if (arch === 'qwen3moe') {
      config['moe_intermediate_size'] = k('expert_feed_forward_length');
      config['norm_topk_prob'] = true; // what llama.cpp does with every qwen3moe GGUF
    }
    if (arch === 'gpt-oss') {
      // GptOssConfig as openai/gpt-oss-20b's config.json states it: every other layer slides, from layer 0.
      config['intermediate_size'] = k('expert_feed_forward_length');
      config['experts_per_token'] = k('expert_used_count');
      config['layer_types'] ??= Array.from({ length: k('block_count') ?? 0 }, (_, l) =>
        l % 2 === 0 ? 'sliding_attention' : 'full_attention',
      );
      config['attention_bias'] = true;
      config['swiglu_limit'] = 7.0;
      if (config['rope_scaling'])
        Object.assign(config['rope_scaling'], { beta_fast: 32, beta_slow: 1, truncate: false });
      if (tensors.some((t) => t.name.endsWith('_blocks')))
        config['quantization_config'] = {
          quant_method: 'mxfp4',
          modules_to_not_convert: [
            'model.layers.*.self_attn',
            'model.layers.*.mlp.router',
            'model.embed_tokens',
            'lm_head',
          ],
        };
    }
  }
  const file = opts.gemma3Multimodal
    ? { architectures: ['Gemma3ForConditionalGeneration'], model_type: 'gemma3', text_config: config }
    : config;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(file, null, 2));
  const tok = hfTokenizerFromData(tokenizerDataFromGguf(meta), chatTemplateFromGguf(meta));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tok.tokenizerJson));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tok.tokenizerConfig, null, 2));
  return dir;
}
