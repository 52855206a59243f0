#include "hf-gpt-oss-experts.h"

#include <cstring>
#include <stdexcept>

#include "ggml-types.h"
#include "half.h"

namespace loom {

const char* const kGptOssPartTag = "oss:";

namespace {

const char* const kParts[] = {"gate_up_proj_blocks", "gate_up_proj_scales", "gate_up_proj_bias", "gate_up_proj",
                              "down_proj_blocks",    "down_proj_scales",    "down_proj_bias",    "down_proj"};

size_t elemBytes(const std::string& dtype) {
  if (dtype == "U8") return 1;
  if (dtype == "F16" || dtype == "BF16") return 2;
  if (dtype == "F32") return 4;
  return 0;
}

uint32_t floatType(const std::string& dtype) {
  return dtype == "F32" ? GGML_F32 : dtype == "F16" ? GGML_F16 : dtype == "BF16" ? GGML_BF16 : 0xffffffffu;
}

float valueAt(const RawHfTensor& t, size_t i) {
  if (t.dtype == "F32") {
    float f;
    std::memcpy(&f, t.data + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, t.data + 2 * i, 2);
  return t.dtype == "F16" ? loom_f16_to_f32(h) : loom_bits_to_f32((uint32_t)h << 16);
}

std::string shapeText(const std::vector<uint64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

class Layer {
 public:
  Layer(const std::string& layer, const std::map<std::string, const RawHfTensor*>& parts, const ModelConfig& c,
        std::map<std::string, GgufTensor>& tensors, std::vector<std::unique_ptr<std::vector<float>>>& owned)
      : layer_(layer),
        parts_(parts),
        tensors_(tensors),
        owned_(owned),
        E_(c.moe.nExperts),
        I_(c.moe.hiddenDim),
        D_(c.dim) {}

  void add() {
    const uint64_t E = (uint64_t)E_, I = (uint64_t)I_, D = (uint64_t)D_;
    if (parts_.count("gate_up_proj_blocks") || parts_.count("down_proj_blocks")) {
      // gate_up rows 2r (gate) and 2r + 1 (up) of D inputs; down rows of I inputs.
      const RawHfTensor& gub = need("gate_up_proj_blocks", {"U8"}, {E, 2 * I, D / 32, 16});
      const RawHfTensor& gus = need("gate_up_proj_scales", {"U8"}, {E, 2 * I, D / 32});
      const RawHfTensor& db = need("down_proj_blocks", {"U8"}, {E, D, I / 32, 16});
      const RawHfTensor& ds = need("down_proj_scales", {"U8"}, {E, D, I / 32});
      if (D % 32 || I % 32) fail(gub, "needs widths that are multiples of 32 (MXFP4 blocks)");
      mxfp4("ffn_gate_exps", gub, gus, 2 * I, D, 0, 2);
      mxfp4("ffn_up_exps", gub, gus, 2 * I, D, 1, 2);
      mxfp4("ffn_down_exps", db, ds, D, I, 0, 1);
    } else {
      const RawHfTensor& gu = need("gate_up_proj", {"F32", "F16", "BF16"}, {E, D, 2 * I});
      const RawHfTensor& dn = need("down_proj", {"F32", "F16", "BF16"}, {E, I, D});
      transposed("ffn_gate_exps", gu, D, 2 * I, 0, 2);
      transposed("ffn_up_exps", gu, D, 2 * I, 1, 2);
      transposed("ffn_down_exps", dn, I, D, 0, 1);
    }
    const RawHfTensor& gb = need("gate_up_proj_bias", {"F32", "F16", "BF16"}, {E, 2 * I});
    const RawHfTensor& dbias = need("down_proj_bias", {"F32", "F16", "BF16"}, {E, D});
    bias("ffn_gate_exps", gb, 2 * I, 0, 2);
    bias("ffn_up_exps", gb, 2 * I, 1, 2);
    bias("ffn_down_exps", dbias, D, 0, 1);
  }

 private:
  [[noreturn]] void fail(const RawHfTensor& t, const std::string& what) const {
    throw std::runtime_error(t.file + ": tensor '" + t.name + "' " + what);
  }

  const RawHfTensor& need(const std::string& part, std::initializer_list<const char*> dtypes,
                          const std::vector<uint64_t>& shape) const {
    auto it = parts_.find(part);
    if (it == parts_.end()) {
      const RawHfTensor& any = *parts_.begin()->second;
      throw std::runtime_error(any.file + ": gpt-oss layer " + layer_ + " has '" + any.name +
                               "' but no 'model.layers." + layer_ + ".mlp.experts." + part + "'");
    }
    const RawHfTensor& t = *it->second;
    bool ok = false;
    std::string names;
    for (const char* d : dtypes) {
      ok = ok || t.dtype == d;
      names += std::string(names.empty() ? "" : ", ") + d;
    }
    if (!ok) fail(t, "has dtype " + t.dtype + "; gpt-oss's " + part + " is " + names);
    if (t.shape != shape)
      fail(t, "has shape " + shapeText(t.shape) + "; config.json (experts, intermediate_size, hidden_size) implies " +
                  shapeText(shape));
    return t;
  }

  uint8_t* alloc(size_t bytes) {
    owned_.push_back(std::make_unique<std::vector<float>>((bytes + 3) / 4));
    return reinterpret_cast<uint8_t*>(owned_.back()->data());
  }

  void put(const std::string& name, uint32_t type, std::vector<uint64_t> dims, const uint8_t* data, size_t nbytes) {
    GgufTensor t;
    t.name = "blk." + layer_ + "." + name;
    t.type = type;
    t.dims = std::move(dims);
    t.data = data;
    t.nbytes = nbytes;
    tensors_[t.name] = std::move(t);
  }

  // Rows parity, parity + stride, ... of each expert's [srcRows][cols] MXFP4 matrix as ggml block_mxfp4 rows.
  void mxfp4(const std::string& name, const RawHfTensor& blocks, const RawHfTensor& scales, uint64_t srcRows,
             uint64_t cols, uint64_t parity, uint64_t stride) {
    const uint64_t rows = srcRows / stride, nb = cols / 32;
    const size_t bytes = (size_t)(E_ * rows * nb * 17);
    uint8_t* out = alloc(bytes);
    for (uint64_t e = 0; e < (uint64_t)E_; e++)
      for (uint64_t r = 0; r < rows; r++) {
        const uint64_t src = (e * srcRows + r * stride + parity) * nb;
        uint8_t* dst = out + (e * rows + r) * nb * 17;
        for (uint64_t b = 0; b < nb; b++, dst += 17) {
          const uint8_t* q = blocks.data + (src + b) * 16;
          dst[0] = scales.data[src + b];
          auto code = [&](int v) { return (q[v >> 1] >> ((v & 1) * 4)) & 0xF; };
          for (int j = 0; j < 16; j++) dst[1 + j] = (uint8_t)(code(j) | (code(j + 16) << 4));
        }
      }
    put(name + ".weight", GGML_MXFP4, {cols, rows, (uint64_t)E_}, out, bytes);
  }

  // Each expert's [inputs][srcCols] float matrix, columns parity, parity + stride, ..., as [rows][inputs] rows.
  void transposed(const std::string& name, const RawHfTensor& t, uint64_t inputs, uint64_t srcCols, uint64_t parity,
                  uint64_t stride) {
    const size_t eb = elemBytes(t.dtype);
    const uint64_t rows = srcCols / stride;
    const size_t bytes = (size_t)(E_ * rows * inputs) * eb;
    uint8_t* out = alloc(bytes);
    for (uint64_t e = 0; e < (uint64_t)E_; e++)
      for (uint64_t r = 0; r < rows; r++)
        for (uint64_t i = 0; i < inputs; i++)
          std::memcpy(out + ((e * rows + r) * inputs + i) * eb,
                      t.data + ((e * inputs + i) * srcCols + r * stride + parity) * eb, eb);
    put(name + ".weight", floatType(t.dtype), {inputs, rows, (uint64_t)E_}, out, bytes);
  }

  // Entries parity, parity + stride, ... of each expert's [srcLen] bias, as f32 [E][len].
  void bias(const std::string& name, const RawHfTensor& t, uint64_t srcLen, uint64_t parity, uint64_t stride) {
    const uint64_t len = srcLen / stride;
    float* out = reinterpret_cast<float*>(alloc((size_t)(E_ * len) * 4));
    for (uint64_t e = 0; e < (uint64_t)E_; e++)
      for (uint64_t k = 0; k < len; k++) out[e * len + k] = valueAt(t, (size_t)(e * srcLen + k * stride + parity));
    put(name + ".bias", GGML_F32, {len, (uint64_t)E_}, reinterpret_cast<const uint8_t*>(out), (size_t)(E_ * len) * 4);
  }

  const std::string& layer_;
  const std::map<std::string, const RawHfTensor*>& parts_;
  std::map<std::string, GgufTensor>& tensors_;
  std::vector<std::unique_ptr<std::vector<float>>>& owned_;
  const int E_, I_, D_;
};

}  // namespace

bool isGptOssExpertPart(const std::string& suffix) {
  for (const char* p : kParts)
    if (suffix == p) return true;
  return false;
}

void addGptOssExperts(const std::map<std::string, RawHfTensor>& parts, const ModelConfig& c,
                      std::map<std::string, GgufTensor>& tensors,
                      std::vector<std::unique_ptr<std::vector<float>>>& owned) {
  if (parts.empty()) return;
  if (c.architecture != "gpt-oss" || c.moe.nExperts <= 0) {
    const RawHfTensor& t = parts.begin()->second;
    throw std::runtime_error(t.file + ": tensor '" + t.name + "' is gpt-oss's expert layout, but config.json says " +
                             c.architecture + " (model_type gpt_oss expected)");
  }
  // "blk.L.oss:part" -> layer L's parts.
  std::map<std::string, std::map<std::string, const RawHfTensor*>> byLayer;
  const size_t tag = std::strlen(kGptOssPartTag);
  for (const auto& kv : parts) {
    const size_t dot = kv.first.find('.', 4), at = kv.first.find(kGptOssPartTag);
    byLayer[kv.first.substr(4, dot - 4)][kv.first.substr(at + tag)] = &kv.second;
  }
  for (const auto& l : byLayer) Layer(l.first, l.second, c, tensors, owned).add();
}

}  // namespace loom
