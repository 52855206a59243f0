// qwen3moe in the other llama-quantize file types runs in Loom as in llama.cpp (moe-quant-mix-cases.ts).
import { describeMoeQuantMixes } from './testing/moe-quant-mix-cases.js';

describeMoeQuantMixes(['Q5_K_M', 'Q6_K', 'Q8_0', 'IQ4_XS']);
