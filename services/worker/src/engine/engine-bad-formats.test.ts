// Unsupported or corrupt models in the newer formats fail at load with the file, the tensor / type /
// architecture at fault, and never crash the process.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ggmlTensorBytes, readGgufMetadata, writeGguf, type GgufValue } from '@loom/gguf';
import { loadEngine } from './native-engine.js';
import { writeTinyModel, type TinyConfig } from '../testing/tiny-model.js';

const TINY: TinyConfig = {
  arch: 'llama',
  dim: 256,
  hidden: 256,
  layers: 1,
  heads: 4,
  kvHeads: 2,
  vocab: 64,
  ctx: 32,
  type: 'q4_K',
  tied: true,
  qkvBias: false,
};

/** Rewrites `src` to `dst` with edits to its metadata and tensors. */
function rewrite(
  src: string,
  dst: string,
  edit: {
    meta?: Record<string, GgufValue>;
    retype?: [string, number];
    reshape?: [string, number[]];
    rename?: [string, string];
  },
): void {
  const m = readGgufMetadata(src);
  const bytes = readFileSync(src);
  const metadata = new Map(m.metadata);
  for (const [k, v] of Object.entries(edit.meta ?? {})) metadata.set(k, v);
  const tensors = m.tensors.map((t) => {
    if (edit.retype?.[0] === t.name)
      return {
        name: t.name,
        shape: t.shape,
        type: edit.retype[1],
        data: new Uint8Array(ggmlTensorBytes(edit.retype[1], t.shape)),
      };
    if (edit.reshape?.[0] === t.name)
      return {
        name: t.name,
        shape: edit.reshape[1],
        type: t.type,
        data: new Uint8Array(ggmlTensorBytes(t.type, edit.reshape[1])),
      };
    return {
      name: edit.rename?.[0] === t.name ? edit.rename[1] : t.name,
      shape: t.shape,
      type: t.type,
      data: new Uint8Array(bytes.subarray(t.fileOffset, t.fileOffset + t.byteSize!)),
    };
  });
  writeGguf(dst, { metadata, types: m.types, tensors });
}

/** The hyper-parameter keys of model `c` under architecture `arch`. */
function archKeys(arch: string, c: TinyConfig): Record<string, GgufValue> {
  const keys: Record<string, GgufValue> = {
    context_length: c.ctx,
    embedding_length: c.dim,
    block_count: c.layers,
    feed_forward_length: c.hidden,
    'rope.dimension_count': c.dim / c.heads,
    'attention.head_count': c.heads,
    'attention.head_count_kv': c.kvHeads,
  };
  return Object.fromEntries(Object.entries(keys).map(([k, v]) => [`${arch}.${k}`, v]));
}

describe('bad models in the newer formats', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loom-badfmt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const good = path.join(dir, 'good.gguf');
  writeTinyModel(good, TINY);
  const fails = (file: string, ...parts: RegExp[]) =>
    assert.throws(
      () => loadEngine(file, { threads: 1 }),
      (e: Error) => e.message.includes(file) && parts.every((p) => p.test(e.message)),
      parts.join(' '),
    );

  it('the untouched file loads', () => {
    loadEngine(good, { threads: 1 }).close();
  });

  it('a tensor type still missing names the tensor and the type and lists every supported one', () => {
    const f = path.join(dir, 'iq2xxs.gguf');
    rewrite(good, f, { retype: ['blk.0.ffn_up.weight', 16] });
    fails(
      f,
      /'blk\.0\.ffn_up\.weight' has type iq2_xxs/,
      /supported: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K, iq4_nl, iq4_xs, mxfp4\)/,
    );
  });

  it('an unsupported architecture and RoPE scaling are named', () => {
    const arch = path.join(dir, 'gemma.gguf');
    rewrite(good, arch, { meta: { 'general.architecture': 'gemma' } });
    fails(
      arch,
      /architecture 'gemma'/,
      /supported: llama, mistral, qwen2, qwen3, gemma2, gemma3, phi3, smollm3, granite, qwen3moe, gpt-oss/,
    );
    const dyn = path.join(dir, 'dynamic.gguf');
    rewrite(good, dyn, { meta: { 'llama.rope.scaling.type': 'dynamic' } });
    fails(dyn, /RoPE scaling type 'dynamic'/, /supported: none, linear, yarn, longrope/);
  });

  it('a wrong rope_freqs or matrix shape names the tensor and the shapes', () => {
    const f = path.join(dir, 'shape.gguf');
    rewrite(good, f, { reshape: ['blk.0.attn_k.weight', [256, 256]] });
    fails(f, /'blk\.0\.attn_k\.weight' has shape \[256, 256\], expected \[256, 128\]/);
  });

  it("a family's tensors that do not match its metadata are named", () => {
    const fam = (name: string, over: Partial<TinyConfig>) => {
      const f = path.join(dir, `${name}.gguf`);
      writeTinyModel(f, { ...TINY, type: 'f32', ...over });
      return f;
    };
    const qwen3 = fam('qwen3', { arch: 'qwen3', headDim: 32 });
    const badNorm = path.join(dir, 'qwen3-norm.gguf');
    rewrite(qwen3, badNorm, { reshape: ['blk.0.attn_k_norm.weight', [64]] });
    fails(badNorm, /'blk\.0\.attn_k_norm\.weight' has shape \[64\], expected \[32\]/);
    const noNorm = path.join(dir, 'qwen3-no-norm.gguf');
    rewrite(fam('llama-as-qwen3', {}), noNorm, {
      meta: { 'general.architecture': 'qwen3', ...archKeys('qwen3', TINY) },
    });
    fails(noNorm, /missing tensor 'blk\.0\.attn_q_norm\.weight'/);
    const phi = fam('phi3', { arch: 'phi3' });
    const badQkv = path.join(dir, 'phi3-qkv.gguf');
    rewrite(phi, badQkv, { reshape: ['blk.0.attn_qkv.weight', [256, 256]] });
    fails(badQkv, /'blk\.0\.attn_qkv\.weight' has shape \[256, 256\], expected \[256, 512\]/);
    const gemma = fam('gemma3', { arch: 'gemma3', headDim: 64, window: 4 });
    const badPattern = path.join(dir, 'gemma3-pattern.gguf');
    rewrite(gemma, badPattern, { meta: { 'gemma3.attention.sliding_window_pattern': [true, false, true] } });
    fails(badPattern, /gemma3\.attention\.sliding_window_pattern has 3 entries for 1 layers/);
    const longrope = fam('phi3-longrope', {
      arch: 'phi3',
      ropeScaling: { type: 'longrope', originalContext: 16, attnFactor: 1.2 },
    });
    const badFactors = path.join(dir, 'phi3-factors.gguf');
    rewrite(longrope, badFactors, { reshape: ['rope_factors_long.weight', [7]] });
    fails(badFactors, /tensor 'rope_factors_long\.weight' must be f32 \[32\]/);
  });

  it('expert layouts that are not supported name the tensor and the architecture', () => {
    const moe = path.join(dir, 'qwen3moe.gguf');
    writeTinyModel(moe, {
      ...TINY,
      type: 'f32',
      arch: 'qwen3moe',
      headDim: 64,
      experts: 4,
      expertsUsed: 2,
      expertHidden: 128,
    });
    const dense = path.join(dir, 'qwen3-experts.gguf');
    rewrite(moe, dense, {
      meta: { 'general.architecture': 'qwen3', ...archKeys('qwen3', TINY), 'qwen3.expert_count': 4 },
    });
    fails(
      dense,
      /architecture 'qwen3' with experts/,
      /mixture-of-experts families: llama \(mixtral\), qwen3moe, gpt-oss/,
    );
    const flat = path.join(dir, 'qwen3moe-2d.gguf');
    rewrite(moe, flat, { reshape: ['blk.0.ffn_gate_exps.weight', [256, 512]] });
    fails(flat, /'blk\.0\.ffn_gate_exps\.weight' has shape \[256, 512\], expected \[256, 128, 4\]/);
    const fused = path.join(dir, 'qwen3moe-fused.gguf');
    rewrite(moe, fused, { rename: ['blk.0.ffn_gate_exps.weight', 'blk.0.ffn_gate_up_exps.weight'] });
    fails(fused, /'blk\.0\.ffn_gate_up_exps\.weight': fused gate-up experts \(qwen3moe\) are not supported/);
    const used = path.join(dir, 'qwen3moe-used.gguf');
    rewrite(moe, used, { meta: { 'qwen3moe.expert_used_count': 8 } });
    fails(used, /qwen3moe\.expert_used_count \(8\)/);
    const noExperts = path.join(dir, 'qwen3moe-none.gguf');
    rewrite(moe, noExperts, { meta: { 'qwen3moe.expert_count': 0 } });
    fails(noExperts, /qwen3moe\.expert_count \(0\)/);
  });

  it('a truncated quantised file and a K-quant row that is not whole blocks are refused', () => {
    const bytes = readFileSync(good);
    const cut = path.join(dir, 'cut.gguf');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    fails(cut, /truncated/, /blk\.0\.|output|token_embd/);
    // A 128-wide row in q4_K (256-value blocks): patch the first dim of token_embd in the header.
    const m = readGgufMetadata(good);
    assert.ok(m.tensors.length > 0);
    const name = Buffer.from('token_embd.weight');
    const at = bytes.indexOf(name) + name.length + 4; // after the name and the dim count
    const patched = Buffer.from(bytes);
    patched.writeBigUInt64LE(128n, at);
    const odd = path.join(dir, 'odd.gguf');
    writeFileSync(odd, patched);
    fails(odd, /'token_embd\.weight' row length 128 is not a multiple of the q4_K block size/);
  });
});
