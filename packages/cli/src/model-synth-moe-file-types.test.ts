// llama-quantize's file types on mixture-of-experts models: the per-tensor types `loom model synth --dtype
// Q4_K_M` (and each other file type) gives a MoE equal, tensor for tensor, those llama.cpp's own quantiser
// (llama_model_quantize, testing/llama-quantize.ts) writes for the f32 synth of the same shape: expert tensors
// typed by role, the router left f32, and for 8-expert models llama.cpp's bumps (attn_k and attn_v q8_0,
// attn_output q5_K). A 16-expert model takes the dense rules. The files' runs against llama.cpp are in
// model-synth-moe-quant-mixes.test.ts.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ggmlQuantLayout, GGML_QUANT_TYPES, LLAMA_FILE_TYPES, readGgufMetadata, type LlamaFileType } from '@loom/gguf';
import { parseShape } from './model-synth-shapes.js';
import { synthModel, synthTensorTypes } from './model-synth.js';
import { REPO_ROOT } from './repo-paths.js';
import { llamaQuantize } from './testing/llama-quantize.js';

// stories260K's 512-token vocabulary keeps the embedding small; 8 layers give use_more_bits its pattern.
const VOCAB = path.join(REPO_ROOT, '..', 'shared', 'models', 'stories260K', 'stories260K-f32.gguf');
const TYPE_NAME = new Map<number, string>([
  [0, 'f32'],
  [1, 'f16'],
  ...GGML_QUANT_TYPES.map((t): [number, string] => [ggmlQuantLayout(t).id, t]),
]);

const CASES: [string, string, readonly LlamaFileType[]][] = [
  [
    'qwen3moe, 8 experts',
    'dim=256,hidden=512,layers=8,heads=8,kv_heads=2,head_dim=32,experts=8,experts_used=2,expert_hidden=256,vocab=512',
    LLAMA_FILE_TYPES,
  ],
  [
    'qwen3moe, 16 experts of 160 (32-value fallbacks for ffn_down)',
    'dim=256,hidden=512,layers=8,heads=8,kv_heads=2,head_dim=32,experts=16,experts_used=4,expert_hidden=160,vocab=512',
    ['Q2_K', 'Q4_K_M', 'IQ4_XS'],
  ],
  [
    'mixtral, 8 experts',
    'dim=256,hidden=256,layers=8,heads=4,kv_heads=1,experts=8,experts_used=2,vocab=512',
    ['Q3_K_M', 'Q5_K_M'],
  ],
];

describe("llama-quantize's per-tensor types on MoE models", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'loom-moe-types-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, spec, fileTypes] of CASES) {
    const arch = name.split(',')[0] === 'mixtral' ? 'mixtral' : 'qwen3moe';
    for (const ft of fileTypes)
      it(`${name}: ${ft} as llama_model_quantize types it`, () => {
        const shape = parseShape(spec, arch);
        const f32 = path.join(dir, `${arch}-${shape.experts}-f32.gguf`);
        if (!existsSync(f32)) synthModel({ shape, dtype: 'f32', out: f32, seed: 1, vocabFrom: VOCAB });
        const out = path.join(dir, `${arch}-${shape.experts}-${ft}.gguf`);
        llamaQuantize(f32, out, ft);
        const want = synthTensorTypes(shape, ft, 512);
        const got = readGgufMetadata(out).tensors;
        assert.equal(got.length, want.size);
        for (const t of got) assert.equal(want.get(t.name), TYPE_NAME.get(t.type), t.name);
        if (shape.experts === 8 && ft !== 'Q8_0') {
          assert.equal(want.get('blk.3.attn_k.weight'), 'q8_0');
          assert.equal(want.get('blk.3.attn_v.weight'), 'q8_0');
        }
        rmSync(out);
      });
  }
});
