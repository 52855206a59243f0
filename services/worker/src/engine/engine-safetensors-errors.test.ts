// A bad Hugging Face safetensors directory is refused at load with an error that names the directory,
// the file and what is wrong with it (config.json, shards, tensors), never a crash.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { storiesPath } from '../testing/engine-test-kit.js';
import { writeHfModelDir } from '../testing/hf-model-dir.js';
import { loadEngine } from './native-engine.js';
import { TINY_GPT_OSS, TINY_LLAMA_128, writeTinyModel } from '../testing/tiny-model.js';

describe('bad safetensors directories name the file and the reason', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loom-st-bad-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const open = (p: string) => loadEngine(p, { threads: 2, kvType: 'f32' });
  const good = () => {
    const d = fs.mkdtempSync(path.join(tmp, 'bad-'));
    fs.rmSync(d, { recursive: true });
    return writeHfModelDir(storiesPath('f32'), d);
  };
  const editJson = (file: string, edit: (j: Record<string, unknown>) => void) => {
    const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    edit(j);
    fs.writeFileSync(file, JSON.stringify(j));
  };
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['no config.json', (d) => fs.rmSync(path.join(d, 'config.json')), /: no config\.json/],
    [
      'config.json is not JSON',
      (d) => fs.writeFileSync(path.join(d, 'config.json'), '{"model_type": "llama",'),
      /config\.json: invalid JSON at byte \d+/,
    ],
    [
      'unsupported model_type',
      (d) => editJson(path.join(d, 'config.json'), (j) => (j['model_type'] = 'gpt_neox')),
      /config\.json: unsupported model_type 'gpt_neox'/,
    ],
    [
      'unsupported rope_scaling',
      (d) => editJson(path.join(d, 'config.json'), (j) => (j['rope_scaling'] = { rope_type: 'dynamic', factor: 4 })),
      /config\.json: unsupported rope_scaling type 'dynamic'/,
    ],
    ['no weights', (d) => fs.rmSync(path.join(d, 'model.safetensors')), /no \*\.safetensors weights/],
    [
      'truncated shard',
      (d) => {
        const f = path.join(d, 'model.safetensors');
        fs.truncateSync(f, fs.statSync(f).size - 100);
      },
      /model\.safetensors: tensor '.*' data_offsets .* run past the end of the file/,
    ],
    [
      'header length past the end',
      (d) => {
        const f = path.join(d, 'model.safetensors');
        const b = fs.readFileSync(f);
        b.writeBigUInt64LE(1n << 40n);
        fs.writeFileSync(f, b);
      },
      /model\.safetensors: header length \d+ runs past the end/,
    ],
    [
      'a layer tensor missing',
      (d) => editJson(path.join(d, 'config.json'), (j) => (j['num_hidden_layers'] = 6)),
      /missing tensor 'blk\.5\.attn_norm\.weight'/,
    ],
    [
      'wrong head count',
      (d) => editJson(path.join(d, 'config.json'), (j) => (j['num_attention_heads'] = 3)),
      /not a multiple|shape/,
    ],
  ];
  for (const [name, corrupt, re] of cases) {
    it(name, () => {
      const dir = good();
      corrupt(dir);
      assert.throws(
        () => open(dir),
        (e: Error) => e.message.includes(dir) && re.test(e.message),
        name,
      );
    });
  }

  /** Rewrites the single shard's header text (same length, so offsets stay valid). */
  const editHeader = (dir: string, from: string, to: string) => {
    const f = path.join(dir, 'model.safetensors');
    const b = fs.readFileSync(f);
    const n = Number(b.readBigUInt64LE(0));
    const header = b.subarray(8, 8 + n).toString();
    assert.ok(header.includes(from) && from.length === to.length);
    b.write(header.replace(from, to), 8);
    fs.writeFileSync(f, b);
  };

  it('lm_head missing and tie_word_embeddings false', () => {
    const dir = good();
    editHeader(dir, '"lm_head.weight"', '"lm_hexd.weight"');
    assert.throws(
      () => open(dir),
      /missing tensor 'lm_head\.weight' and config\.json does not set tie_word_embeddings/,
    );
  });

  it('experts that are not numbered 0..E-1, and Qwen3-MoE dense layers, are named', () => {
    const file = path.join(tmp, 'bad-moe.gguf');
    writeTinyModel(file, {
      ...TINY_LLAMA_128,
      arch: 'qwen3moe',
      headDim: 16,
      experts: 4,
      expertsUsed: 2,
      expertHidden: 32,
    });
    const gap = writeHfModelDir(file, path.join(tmp, 'bad-moe-gap'));
    editHeader(gap, 'layers.0.mlp.experts.1.up_proj', 'layers.0.mlp.experts.9.up_proj');
    assert.throws(() => open(gap), /the experts of 'blk\.0\.ffn_up_exps\.weight' are not numbered 0\.\.3/);
    const dense = writeHfModelDir(file, path.join(tmp, 'bad-moe-dense'));
    editJson(path.join(dense, 'config.json'), (j) => (j['mlp_only_layers'] = [1]));
    assert.throws(() => open(dense), /config\.json: dense layers between the MoE ones \(mlp_only_layers/);
  });

  it('gpt-oss MXFP4 experts: a missing part and a shape config.json does not imply are named', () => {
    const file = path.join(tmp, 'bad-oss.gguf');
    writeTinyModel(file, { ...TINY_LLAMA_128, ...TINY_GPT_OSS, expertType: 'mxfp4' });
    const missing = writeHfModelDir(file, path.join(tmp, 'bad-oss-missing'));
    editHeader(missing, 'layers.1.mlp.experts.down_proj_scales', 'layers.1.mlp.experts.down_proj_scalez');
    assert.throws(
      () => open(missing),
      /model\.safetensors: gpt-oss layer 1 has '.*' but no 'model\.layers\.1\.mlp\.experts\.down_proj_scales'/,
    );
    const shape = writeHfModelDir(file, path.join(tmp, 'bad-oss-shape'));
    editJson(path.join(shape, 'config.json'), (j) => (j['intermediate_size'] = 128));
    assert.throws(
      () => open(shape),
      /model\.safetensors: tensor 'model\.layers\.0\.mlp\.experts\.gate_up_proj_blocks' has shape \[4, 512, 4, 16\]; config\.json .* implies \[4, 256, 4, 16\]/,
    );
  });

  it('a used tensor in an unsupported dtype', () => {
    const dir = good();
    editHeader(dir, '"dtype":"F32","shape":[512,64]', '"dtype":"I32","shape":[512,64]');
    assert.throws(
      () => open(dir),
      /model\.safetensors: tensor 'model\.embed_tokens\.weight' has dtype I32, which this engine does not read/,
    );
  });
});
