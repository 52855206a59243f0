// Hugging Face safetensors directories hold the same model as the GGUF they were written from
// (hf-model-dir.ts: names mapped back, Q/K un-permuted, 1 or 2 shards): the engine gives the same greedy
// tokens and logits that agree to float rounding (HF layout runs NEOX RoPE over un-permuted Q/K, so
// only the order of the q.k sums differs). Bad directories: engine-safetensors-errors.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  GREEDY,
  contiguousTable,
  ONCE_UPON_A_TIME,
  SeqRun,
  decode,
  relErr,
  runAll,
  seq,
  storiesPath,
} from '../testing/engine-test-kit.js';
import { writeHfModelDir } from '../testing/hf-model-dir.js';
import { loadEngine, type LoadedEngine } from './native-engine.js';
import { TINY_GPT_OSS, TINY_LLAMA_128, writeTinyModel, type TinyConfig } from '../testing/tiny-model.js';

/** Greedy ids and the logits after the prompt (one prefill step), f32 KV. */
async function greedy(
  engine: LoadedEngine,
  prompt: number[],
  n: number,
): Promise<{ ids: number[]; logits: Float32Array }> {
  // Up to 3 KV cache groups (gemma3: sliding and global layers) x 6 blocks of 16 positions.
  engine.initKv(18, 16, 64, 1);
  await engine.step([seq(prompt, 0, contiguousTable(engine, 4), true, GREEDY, 0)]);
  const logits = engine.lastLogits();
  const run = new SeqRun(prompt, contiguousTable(engine, 6), GREEDY, n);
  engine.initKv(18, 16, 64, 1);
  await runAll(engine, [run]);
  return { ids: run.generated, logits };
}

describe('safetensors directories', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loom-st-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const open = (p: string) => loadEngine(p, { threads: 2, kvType: 'f32' });

  for (const [type, shards] of [
    ['f32', 1],
    ['f32', 2],
    ['f16', 1],
  ] as const) {
    it(`stories260K ${type}, ${shards} shard(s): same greedy tokens and logits as the GGUF`, async () => {
      const dir = writeHfModelDir(storiesPath(type), path.join(tmp, `stories-${type}-${shards}`), { shards });
      if (shards > 1) assert.ok(fs.existsSync(path.join(dir, 'model.safetensors.index.json')));
      const gguf = open(storiesPath(type));
      const hf = open(dir);
      try {
        const a = hf.info(),
          b = gguf.info();
        for (const k of [
          'architecture',
          'vocabSize',
          'dim',
          'hiddenDim',
          'nLayers',
          'nHeads',
          'nKvHeads',
          'headDim',
          'contextLength',
          'weightType',
        ] as const)
          assert.equal(a[k], b[k], k);
        assert.ok(Math.abs(a.normEps - b.normEps) < 1e-12 && a.ropeTheta === b.ropeTheta);
        const g = await greedy(gguf, ONCE_UPON_A_TIME, 40);
        const h = await greedy(hf, ONCE_UPON_A_TIME, 40);
        assert.deepEqual(h.ids, g.ids);
        assert.ok(relErr(h.logits, g.logits) < 1e-5, `logits differ by ${relErr(h.logits, g.logits)}`);
        assert.ok(
          relErr(
            hf.referenceLogits(Int32Array.from(ONCE_UPON_A_TIME)),
            gguf.referenceLogits(Int32Array.from(ONCE_UPON_A_TIME)),
          ) < 1e-9,
        );
        assert.deepEqual(hf.vocab(), gguf.vocab());
        assert.ok(decode(hf.vocab(), h.ids).startsWith(', there was a little girl named Lily.'));
      } finally {
        hf.close();
        gguf.close();
      }
    });
  }

  it('bf16 checkpoint (matrices and norms in bf16): fast path == float64 reference of the same weights', async () => {
    const dir = writeHfModelDir(storiesPath('f32'), path.join(tmp, 'stories-bf16'), { bf16: true });
    const hf = open(dir);
    try {
      assert.equal(hf.info().weightType, 'bf16');
      const { logits } = await greedy(hf, ONCE_UPON_A_TIME, 1);
      const ref = hf.referenceLogits(Int32Array.from(ONCE_UPON_A_TIME));
      assert.ok(relErr(logits, ref.subarray(ref.length - logits.length)) < 1e-5);
    } finally {
      hf.close();
    }
  });

  // llama3RopeFactors as HF / convert_hf_to_gguf.py compute them, stated independently of the C++.
  const llama3Factors = (theta: number, nRot: number, factor: number, lo: number, hi: number, orig: number) =>
    Float32Array.from({ length: nRot / 2 }, (_, j) => {
      const wavelen = (2 * Math.PI) / (1 / Math.pow(theta, (2 * j) / nRot));
      if (wavelen < orig / hi) return 1;
      if (wavelen > orig / lo) return factor;
      const smooth = (orig / wavelen - lo) / (hi - lo);
      return 1 / ((1 - smooth) / factor + smooth);
    });
  const rope3 = {
    rope_type: 'llama3',
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 16,
  };
  const tinyCases: [string, Partial<TinyConfig>, Record<string, unknown> | undefined][] = [
    [
      'qwen2 (QKV bias, tied, NEOX in both)',
      { arch: 'qwen2', qkvBias: true, tied: true, ropeTheta: 1e6, normEps: 1e-6 },
      undefined,
    ],
    ['mistral MHA, linear rope scaling', { arch: 'mistral', kvHeads: 4, linearRopeFactor: 4 }, undefined],
    [
      'llama-3 rope_scaling from config.json == rope_freqs.weight',
      { ropeTheta: 500000, ropeFreqs: llama3Factors(500000, 32, 8, 1, 4, 16) },
      rope3,
    ],
    // The families: config.json fields and HF tensor names of each (hf-model-dir.ts writes them as
    // transformers' checkpoints hold them).
    ['mistral sliding_window 5', { arch: 'mistral', window: 5 }, undefined],
    [
      'qwen3 q_norm / k_norm, head_dim 16, YaRN',
      { arch: 'qwen3', headDim: 16, tied: true, ropeScaling: { type: 'yarn', factor: 4, originalContext: 16 } },
      undefined,
    ],
    [
      'gemma2 (norms stored as w - 1, four norms, soft-caps, window 5)',
      { arch: 'gemma2', headDim: 32, window: 5, attnSoftcap: 2, finalSoftcap: 5 },
      undefined,
    ],
    [
      'gemma3_text (layer_types, rope_local_base_freq, global linear scaling)',
      {
        arch: 'gemma3',
        layers: 3,
        headDim: 32,
        window: 5,
        swaPattern: [true, true, false],
        ropeTheta: 1e6,
        ropeThetaSwa: 1e4,
        ropeScaling: { type: 'linear', factor: 8 },
        finalSoftcap: 5,
      },
      undefined,
    ],
    [
      'phi3 qkv_proj / gate_up_proj, partial_rotary_factor, longrope',
      { arch: 'phi3', ropeDims: 24, ropeScaling: { type: 'longrope', originalContext: 16, attnFactor: 1.2 } },
      undefined,
    ],
    ['smollm3 no_rope_layers default', { arch: 'smollm3', layers: 4, tied: true }, undefined],
    [
      'granite multipliers',
      { arch: 'granite', tied: true, multipliers: { embedding: 12, attention: 0.05, residual: 0.22, logit: 8 } },
      undefined,
    ],
    [
      'qwen3_moe (mlp.gate, mlp.experts.e.*_proj stacked, norm_topk_prob)',
      { arch: 'qwen3moe', headDim: 16, experts: 4, expertsUsed: 2, expertHidden: 32 },
      undefined,
    ],
    [
      'mixtral (block_sparse_moe.experts.e.w1/w3/w2, Q/K un-permuted)',
      { arch: 'mixtral', experts: 4, expertsUsed: 2 },
      undefined,
    ],
    // gpt-oss as OpenAI ships it: bf16-or-f32 attention with biases and sinks, a router with a bias, MXFP4 experts
    // (gate_up_proj_blocks / _scales, gate and up rows interleaved) with biases, alternating windows, YaRN.
    [
      'gpt_oss MXFP4 experts (mlp.experts.*_blocks / *_scales, mlp.router, self_attn.sinks)',
      { ...TINY_GPT_OSS, expertType: 'mxfp4' },
      undefined,
    ],
    ['gpt_oss dequantised (gate_up_proj [E, D, 2I], down_proj [E, I, D])', TINY_GPT_OSS, undefined],
  ];
  const multimodal = tinyCases.find(([n]) => n.startsWith('gemma3_text'))!;
  tinyCases.push(['gemma3 image-text checkpoint (text_config, language_model.*)', multimodal[1], undefined]);
  for (const [name, cfg, ropeScaling] of tinyCases) {
    it(`tiny ${name}: logits equal the GGUF's`, async () => {
      const file = path.join(tmp, `${name.replace(/\W+/g, '-')}.gguf`);
      writeTinyModel(file, { ...TINY_LLAMA_128, ...cfg });
      const dir = writeHfModelDir(file, `${file}.hf`, {
        ...(ropeScaling ? { ropeScaling } : {}),
        gemma3Multimodal: name.includes('image-text'),
      });
      const gguf = open(file);
      const hf = open(dir);
      try {
        const prompt = Array.from({ length: 40 }, (_, i) => (i * 37 + 5) % 200);
        const g = await greedy(gguf, prompt, 8);
        const h = await greedy(hf, prompt, 8);
        assert.ok(relErr(h.logits, g.logits) < 1e-5, `logits differ by ${relErr(h.logits, g.logits)}`);
        assert.deepEqual(h.ids, g.ids);
        // gpt-oss runs the same arithmetic on the same bytes (NEOX RoPE in both): bit-identical.
        if (name.startsWith('gpt_oss')) assert.deepEqual(h.logits, g.logits);
      } finally {
        hf.close();
        gguf.close();
      }
    });
  }

  it("gemma3 image-text config.json that leaves text_config to Gemma3TextConfig's defaults", async () => {
    // Heads, KV heads, head size, context, window, bases and query scale as transformers defaults them.
    const file = path.join(tmp, 'gemma3-defaults.gguf');
    writeTinyModel(file, {
      ...TINY_LLAMA_128,
      arch: 'gemma3',
      heads: 8,
      kvHeads: 4,
      headDim: 256,
      ctx: 131072,
      window: 4096,
      ropeTheta: 1e6,
      ropeThetaSwa: 1e4,
      normEps: 1e-6,
    });
    const dir = writeHfModelDir(file, `${file}.hf`, { gemma3Multimodal: true });
    const cfgFile = path.join(dir, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as { text_config: Record<string, unknown> };
    for (const k of [
      'num_attention_heads',
      'num_key_value_heads',
      'head_dim',
      'max_position_embeddings',
      'sliding_window',
      'sliding_window_pattern',
      'rope_theta',
      'rope_local_base_freq',
      'query_pre_attn_scalar',
      'rms_norm_eps',
      'final_logit_softcapping',
      'attn_logit_softcapping',
      'tie_word_embeddings',
    ])
      delete cfg.text_config[k];
    fs.writeFileSync(cfgFile, JSON.stringify(cfg));
    const gguf = open(file);
    const hf = open(dir);
    try {
      const a = hf.info();
      assert.deepEqual([a.nHeads, a.nKvHeads, a.headDim, a.contextLength, a.ropeTheta], [8, 4, 256, 131072, 1e6]);
      const prompt = Array.from({ length: 20 }, (_, i) => (i * 37 + 5) % 200);
      const g = await greedy(gguf, prompt, 4);
      const h = await greedy(hf, prompt, 4);
      assert.ok(relErr(h.logits, g.logits) < 1e-5, `logits differ by ${relErr(h.logits, g.logits)}`);
    } finally {
      hf.close();
      gguf.close();
    }
  });
});
