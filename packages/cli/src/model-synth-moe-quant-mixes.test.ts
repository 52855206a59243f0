// qwen3moe in the low-bit llama-quantize file types runs in Loom as in llama.cpp (moe-quant-mix-cases.ts).
import { describeMoeQuantMixes } from './testing/moe-quant-mix-cases.js';

describeMoeQuantMixes(['Q2_K', 'Q3_K_M', 'Q4_K_M']);
