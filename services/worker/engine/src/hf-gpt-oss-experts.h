// gpt-oss Hugging Face checkpoints' expert weights turned into GGUF's stacked expert tensors, as
// convert_hf_to_gguf.py's GptOssModel writes them. transformers' GptOssExperts holds, per layer, for E experts
// of width I (intermediate_size) over the model width D:
//   mlp.experts.gate_up_proj_blocks  U8   [E, 2I, D/32, 16]  MXFP4: 32 4-bit e2m1 codes in 16 bytes per block
//   mlp.experts.gate_up_proj_scales  U8   [E, 2I, D/32]      each block's e8m0 scale, 2^(s - 127)
//   mlp.experts.gate_up_proj_bias    BF16 [E, 2I]
//   mlp.experts.down_proj_blocks / _scales / _bias           [E, D, I/32, 16] / [E, D, I/32] / [E, D]
// (quant_method mxfp4, as OpenAI ships it), or in dequantised checkpoints gate_up_proj [E, D, 2I] and down_proj
// [E, I, D] in a float dtype, inputs first. Rows of gate_up alternate gate (even) and up (odd). In an HF block,
// value 2k is byte k's low nibble and 2k + 1 its high one (transformers' convert_moe_packed_tensors); ggml's
// block_mxfp4 is the scale byte, then 16 bytes whose byte j holds value j (low nibble) and j + 16 (high), with
// the same codes and scale (ggml's table is doubled, its scale halved). Every byte moves, so the GGUF tensors
// are owned copies, like the other HF expert tensors (safetensors-dir.cpp's stacking).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gguf-file.h"
#include "model-config.h"

namespace loom {

// A safetensors tensor as stored: HF dims (outermost first), dtype name, bytes in its mapped shard.
struct RawHfTensor {
  std::string file, name, dtype;
  std::vector<uint64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
};

// canonicalTensorName's name for a gpt-oss expert part of layer L: "blk.L." + kGptOssPartTag + the HF suffix
// after "mlp.experts." (gate_up_proj_blocks, ...); such parts wait in `parts` for addGptOssExperts.
extern const char* const kGptOssPartTag;
bool isGptOssExpertPart(const std::string& suffixAfterExperts);

// Adds blk.L.ffn_{gate,up,down}_exps.{weight,bias} for every layer with parts (MXFP4 or float weights, f32
// biases) to `tensors`, their memory in `owned`. Throws naming the file and HF tensor that is missing, has
// another dtype or shape than `c` implies, or when the model is not gpt-oss.
void addGptOssExperts(const std::map<std::string, RawHfTensor>& parts, const ModelConfig& c,
                      std::map<std::string, GgufTensor>& tensors,
                      std::vector<std::unique_ptr<std::vector<float>>>& owned);

}  // namespace loom
