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
  if (!isSupportedWeightType(t->type))
    throw std::runtime_error(f.err("tensor '" + name + "' has type " + ggmlTypeInfo(t->type).name +
                                   ", which this engine does not support yet (supported: " + supportedWeightTypes() +
                                   "); re-quantize the model to one of those"));
  Matrix m;
  m.type = t->type;
  m.data = t->data;
  m.rowBytes = ggmlRowBytes(ggmlTypeInfo(t->type), (uint64_t)cols);
  m.rows = rows;
  m.cols = cols;
  return m;
}

// E x [rows][cols] in one 3-D tensor (GGUF dims {cols, rows, E}).
ExpertMatrices experts(const ModelSource& f, const std::string& name, int E, int rows, int cols) {
  const GgufTensor* t = f.tensor(name);
  if (!t) throw std::runtime_error(f.err("missing tensor '" + name + "' (the experts of a mixture-of-experts layer)"));
  if (t->dims.size() != 3 || t->dims[0] != (uint64_t)cols || t->dims[1] != (uint64_t)rows || t->dims[2] != (uint64_t)E)
    throw std::runtime_error(f.err("tensor '" + name + "' has shape " + shapeStr(t->dims) + ", expected [" +
                                   std::to_string(cols) + ", " + std::to_string(rows) + ", " + std::to_string(E) +
                                   "] (columns, rows, experts)"));
  if (!isSupportedWeightType(t->type))
    throw std::runtime_error(f.err("tensor '" + name + "' has type " + ggmlTypeInfo(t->type).name +
                                   ", which this engine does not support yet (supported: " + supportedWeightTypes() +
                                   "); re-quantize the model to one of those"));
  ExpertMatrices m;
  m.first.type = t->type;
  m.first.data = t->data;
  m.first.rowBytes = ggmlRowBytes(ggmlTypeInfo(t->type), (uint64_t)cols);
  m.first.rows = rows;
  m.first.cols = cols;
  m.stride = m.first.rowBytes * (size_t)rows;
  m.count = E;
  return m;
}

// An f32 [E][n] tensor (GGUF dims {n, E}): one bias vector per expert.
const float* expertVecs(const ModelSource& f, const std::string& name, int E, int n) {
  const GgufTensor* t = f.tensor(name);
  if (!t) return nullptr;
  if (t->dims.size() != 2 || t->dims[0] != (uint64_t)n || t->dims[1] != (uint64_t)E)
    throw std::runtime_error(f.err("tensor '" + name + "' has shape " + shapeStr(t->dims) + ", expected [" +
                                   std::to_string(n) + ", " + std::to_string(E) + "]"));
  if (t->type != GGML_F32)
    throw std::runtime_error(f.err("tensor '" + name + "' must be f32, found " + ggmlTypeInfo(t->type).name));
  return reinterpret_cast<const float*>(t->data);
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

// Rows [first, first + n) of m: a view, since every supported type stores whole rows.
Matrix rowsOf(const Matrix& m, int first, int n) {
  Matrix r = m;
  r.data = m.data + (size_t)first * m.rowBytes;
  r.rows = n;
  return r;
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
  const int q = c.qDim(), kv = c.kvDim();
  w.layers.resize((size_t)c.nLayers);
  for (int l = 0; l < c.nLayers; l++) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights& L = w.layers[(size_t)l];
    L.attnNorm = vec(f, p + "attn_norm.weight", c.dim);
    if (f.tensor(p + "attn_qkv.weight")) {  // fused Q, K, V (phi3): views of its row blocks
      const Matrix qkv = matrix(f, p + "attn_qkv.weight", q + 2 * kv, c.dim);
      L.wq = rowsOf(qkv, 0, q);
      L.wk = rowsOf(qkv, q, kv);
      L.wv = rowsOf(qkv, q + kv, kv);
      const float* b = vec(f, p + "attn_qkv.bias", q + 2 * kv, true);
      L.bq = b;
      L.bk = b ? b + q : nullptr;
      L.bv = b ? b + q + kv : nullptr;
    } else {
      L.wq = matrix(f, p + "attn_q.weight", q, c.dim);
      L.wk = matrix(f, p + "attn_k.weight", kv, c.dim);
      L.wv = matrix(f, p + "attn_v.weight", kv, c.dim);
      L.bq = vec(f, p + "attn_q.bias", q, true);
      L.bk = vec(f, p + "attn_k.bias", kv, true);
      L.bv = vec(f, p + "attn_v.bias", kv, true);
    }
    L.qNorm = c.qkNorm ? vec(f, p + "attn_q_norm.weight", c.headDim) : nullptr;
    L.kNorm = c.qkNorm ? vec(f, p + "attn_k_norm.weight", c.headDim) : nullptr;
    L.wo = matrix(f, p + "attn_output.weight", c.dim, q);
    L.bo = vec(f, p + "attn_output.bias", c.dim, true);
    L.sinks = c.attnSinks ? vec(f, p + "attn_sinks.weight", c.nHeads) : nullptr;
    L.attnPostNorm = c.postNorms ? vec(f, p + "post_attention_norm.weight", c.dim) : nullptr;
    L.ffnNorm = vec(f, p + c.ffnNormTensor + ".weight", c.dim);
    if (c.layers[(size_t)l].ffn == FfnKind::MOE) {
      const int E = c.moe.nExperts, H = c.moe.hiddenDim;
      L.router = matrix(f, p + "ffn_gate_inp.weight", E, c.dim);
      L.routerBias = vec(f, p + "ffn_gate_inp.bias", E, true);
      if (!f.tensor(p + "ffn_gate_exps.weight") && f.tensor(p + "ffn_gate_up_exps.weight"))
        throw std::runtime_error(f.err("tensor '" + p + "ffn_gate_up_exps.weight': fused gate-up experts (" +
                                       c.architecture +
                                       ") are not supported; expected separate ffn_gate_exps and "
                                       "ffn_up_exps"));
      if (f.tensor(p + "ffn_gate.weight"))
        throw std::runtime_error(f.err("tensor '" + p +
                                       "ffn_gate.weight': a dense FFN next to the experts (shared "
                                       "experts) is not supported for " +
                                       c.architecture));
      L.gateExps = experts(f, p + "ffn_gate_exps.weight", E, H, c.dim);
      L.upExps = experts(f, p + "ffn_up_exps.weight", E, H, c.dim);
      L.downExps = experts(f, p + "ffn_down_exps.weight", E, c.dim, H);
      L.gateExpsBias = expertVecs(f, p + "ffn_gate_exps.bias", E, H);
      L.upExpsBias = expertVecs(f, p + "ffn_up_exps.bias", E, H);
      L.downExpsBias = expertVecs(f, p + "ffn_down_exps.bias", E, c.dim);
    } else if (c.fusedGateUp) {  // ffn_up = [gate; up] (phi3): views of its two halves
      const Matrix gateUp = matrix(f, p + "ffn_up.weight", 2 * c.hiddenDim, c.dim);
      L.wGate = rowsOf(gateUp, 0, c.hiddenDim);
      L.wUp = rowsOf(gateUp, c.hiddenDim, c.hiddenDim);
    } else {
      L.wGate = matrix(f, p + "ffn_gate.weight", c.hiddenDim, c.dim);
      L.wUp = matrix(f, p + "ffn_up.weight", c.hiddenDim, c.dim);
    }
    if (c.layers[(size_t)l].ffn != FfnKind::MOE) L.wDown = matrix(f, p + "ffn_down.weight", c.dim, c.hiddenDim);
    L.ffnPostNorm = c.postNorms ? vec(f, p + "post_ffw_norm.weight", c.dim) : nullptr;
  }
  w.bulkType = w.layers[0].wq.type;
  return w;
}

void dequantizeRow(const Matrix& m, int row, float* dst) {
  dequantRow(m.type, m.data + (size_t)row * m.rowBytes, dst, m.cols);
}

}  // namespace loom
