// Mixture-of-experts variants against llama.cpp (see model-synth-moe.test.ts, seeds included): gpt-oss as it
// ships (MXFP4 experts: here every matrix but the f32 router), and more experts with more of them per token.
import { describeFamilyCases } from './testing/synth-oracle.js';

describeFamilyCases('synth mixture-of-experts variants: Loom == llama.cpp', [
  ['gpt-oss mxfp4', 'gpt-oss', {}, 'mxfp4', 11],
  ['qwen3moe 16 experts, top 4', 'qwen3moe', { experts: 16, expertsUsed: 4, expertHidden: 64 }, 'f32', 11],
]);
