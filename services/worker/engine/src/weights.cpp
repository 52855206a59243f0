#include "weights.h"

#include <cstring>
#include <stdexcept>

#include "ggml-types.h"
#include "quant.h"

namespace loom {

namespace {

std::string shapeStr(const std::vector<uint64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); i++) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

Matrix matrix(const ModelSource& f, const std::string& name, int rows, int cols) {
  const GgufTensor* t = f.tensor(name);
  if (!t) throw std::runtime_error(f.err("missing tensor '" + name + "'"));
  if (t->dims.size() != 2 || t->dims[0] != (uint64_t)cols || t->dims[1] != (uint64_t)rows)
    throw std::runtime_error(f.err("tensor '" + name + "' has shape " + shapeStr(t->dims) + ", expected [" +
                                   std::to_string(cols) + ", " + std::to_string(rows) + "]"));
  if (t->type != GGML_F32 && t->type != GGML_F16 && t->type != GGML_BF16 && t->type != GGML_Q8_0 &&
      !isBlockQuantType(t->type))
    throw std::runtime_error(f.err("tensor '" + name + "' has type " + ggmlTypeInfo(t->type).name +
                                   ", which this engine does not support yet (supported: f32, f16, bf16, q8_0, q4_0, "
                                   "q4_K, q6_K); re-quantize the model to one of those"));
  Matrix m;
  m.type = t->type;
  m.data = t->data;
  m.rowBytes = ggmlRowBytes(ggmlTypeInfo(t->type), (uint64_t)cols);
  m.rows = rows;
  m.cols = cols;
  return m;
}

const float* vec(const ModelSource& f, const std::string& name, int n, bool optional = false) {
  const GgufTensor* t = f.tensor(name);
  if (!t) {
    if (optional) return nullptr;
    throw std::runtime_error(f.err("missing tensor '" + name + "'"));
  }
  if (t->dims.size() != 1 || t->dims[0] != (uint64_t)n)
    throw std::runtime_error(
        f.err("tensor '" + name + "' has shape " + shapeStr(t->dims) + ", expected [" + std::to_string(n) + "]"));
  if (t->type != GGML_F32)
    throw std::runtime_error(f.err("tensor '" + name + "' must be f32, found " + ggmlTypeInfo(t->type).name));
  // GGUF data offsets are aligned (>= 32 by default) and a safetensors directory hands out owned f32
  // copies of 1-D tensors, so the f32 view is aligned either way.
  return reinterpret_cast<const float*>(t->data);
}

}  // namespace

Weights loadWeights(const ModelSource& f, const ModelConfig& c) {
  Weights w;
  w.tokenEmbd = matrix(f, "token_embd.weight", c.vocabSize, c.dim);
  w.outputNorm = vec(f, "output_norm.weight", c.dim);
  if (f.tensor("output.weight")) {
    w.output = matrix(f, "output.weight", c.vocabSize, c.dim);
  } else {
    w.output = w.tokenEmbd;
    w.tiedOutput = true;
  }
  w.layers.resize((size_t)c.nLayers);
  for (int l = 0; l < c.nLayers; l++) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights& L = w.layers[(size_t)l];
    L.attnNorm = vec(f, p + "attn_norm.weight", c.dim);
    L.wq = matrix(f, p + "attn_q.weight", c.qDim(), c.dim);
    L.wk = matrix(f, p + "attn_k.weight", c.kvDim(), c.dim);
    L.wv = matrix(f, p + "attn_v.weight", c.kvDim(), c.dim);
    L.bq = vec(f, p + "attn_q.bias", c.qDim(), true);
    L.bk = vec(f, p + "attn_k.bias", c.kvDim(), true);
    L.bv = vec(f, p + "attn_v.bias", c.kvDim(), true);
    L.wo = matrix(f, p + "attn_output.weight", c.dim, c.qDim());
    L.ffnNorm = vec(f, p + "ffn_norm.weight", c.dim);
    L.wGate = matrix(f, p + "ffn_gate.weight", c.hiddenDim, c.dim);
    L.wUp = matrix(f, p + "ffn_up.weight", c.hiddenDim, c.dim);
    L.wDown = matrix(f, p + "ffn_down.weight", c.dim, c.hiddenDim);
  }
  w.bulkType = w.layers[0].wq.type;
  return w;
}

void dequantizeRow(const Matrix& m, int row, float* dst) {
  dequantRow(m.type, m.data + (size_t)row * m.rowBytes, dst, m.cols);
}

}  // namespace loom
