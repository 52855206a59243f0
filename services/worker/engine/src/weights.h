// Views of the model's tensors inside the mapped model files (no copies; see model-source.h). A matrix W of shape
// [rows][cols] is GGUF dims {cols, rows}: each of `rows` rows holds `cols` elements in `type`, `rowBytes` apart.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "model-config.h"
#include "model-source.h"

namespace loom {

struct Matrix {
  uint32_t type = 0;  // GgmlType: one of quant.h's supported weight types
  const uint8_t* data = nullptr;
  size_t rowBytes = 0;
  int rows = 0;  // output features
  int cols = 0;  // input features
  // f32 weights in the packed-panel layout of kernels.h (packF32Panels), owned by Weights::packed; nullptr when
  // unpacked (other types, or a kernel set without a packed GEMM). data stays the view of the file's rows.
  const float* packed = nullptr;
  // q8_0 weights in the VNNI GEMM's panel layout (kernels.h packQ8_0Panels), likewise; nullptr when unpacked.
  const uint8_t* packedQ8 = nullptr;
  // q4_K weights in the packed GEMM's panel layout (kernels.h packQ4_KPanels), likewise.
  const uint8_t* packedQ4K = nullptr;
};

// A 3-D expert tensor (GGUF dims {cols, rows, nExperts}): nExperts matrices of the same shape and type, each
// `stride` bytes after the previous one (ggml's nb[2] = rows * rowBytes).
struct ExpertMatrices {
  Matrix first;  // expert 0
  size_t stride = 0;
  int count = 0;
  Matrix of(int e) const {
    Matrix m = first;
    m.data = first.data + (size_t)e * stride;
    return m;
  }
};

struct LayerWeights {
  const float* attnNorm;      // [dim]
  Matrix wq;                  // [qDim][dim]   (rows of attn_qkv when fused)
  Matrix wk;                  // [kvDim][dim]
  Matrix wv;                  // [kvDim][dim]
  const float* bq;            // [qDim] or nullptr (qwen2 has QKV biases)
  const float* bk;            // [kvDim] or nullptr
  const float* bv;            // [kvDim] or nullptr
  const float* qNorm;         // [headDim] or nullptr (ModelConfig::qkNorm)
  const float* kNorm;         // [headDim] or nullptr
  Matrix wo;                  // [dim][qDim]
  const float* bo;            // [dim] or nullptr (gpt-oss)
  const float* sinks;         // [nHeads] or nullptr (ModelConfig::attnSinks)
  const float* attnPostNorm;  // [dim] or nullptr (ModelConfig::postNorms)
  const float* ffnNorm;       // [dim]
  // FfnKind::DENSE
  Matrix wGate;              // [hiddenDim][dim]   (rows 0..hiddenDim-1 of ffn_up when fusedGateUp)
  Matrix wUp;                // [hiddenDim][dim]
  Matrix wDown;              // [dim][hiddenDim]
  const float* ffnPostNorm;  // [dim] or nullptr
  // FfnKind::MOE (ModelConfig::moe: E experts of width H)
  Matrix router;              // ffn_gate_inp [E][dim]
  const float* routerBias;    // [E] or nullptr (gpt-oss)
  ExpertMatrices gateExps;    // ffn_gate_exps E x [H][dim]
  ExpertMatrices upExps;      // ffn_up_exps   E x [H][dim]
  ExpertMatrices downExps;    // ffn_down_exps E x [dim][H]
  const float* gateExpsBias;  // [E][H] or nullptr (gpt-oss)
  const float* upExpsBias;    // [E][H] or nullptr
  const float* downExpsBias;  // [E][dim] or nullptr
};

struct Weights {
  Matrix tokenEmbd;  // [vocab][dim]
  std::vector<LayerWeights> layers;
  const float* outputNorm;  // [dim]
  Matrix output;            // [vocab][dim]; token_embd when output.weight is absent (tied)
  bool tiedOutput = false;
  uint32_t bulkType = 0;  // type of attn_q of layer 0: what "the model's weight type" means to users
  std::vector<std::unique_ptr<void, void (*)(void*)>> packed;  // the buffers Matrix::packed(Q8, Q4K) point into
};

// Throws naming the file and the tensor for missing tensors, wrong shapes or unsupported types.
Weights loadWeights(const ModelSource& f, const ModelConfig& c);

// Dequantize row `row` of m into dst[m.cols] (any supported type).
void dequantizeRow(const Matrix& m, int row, float* dst);

}  // namespace loom
