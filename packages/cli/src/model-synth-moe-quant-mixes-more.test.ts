// qwen3moe in the other llama-quantize file types runs in Loom as in llama.cpp (moe-quant-mix-cases.ts).
import { describeMoeQuantMixes, PROMPTS } from './testing/moe-quant-mix-cases.js';

describeMoeQuantMixes(['Q5_K_M', 'Q6_K', 'Q8_0']);
describeMoeQuantMixes(['IQ4_XS'], PROMPTS.slice(0, 1));
