#include "safetensors-dir.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>

#include "ggml-types.h"
#include "half.h"
#include "hf-config.h"
#include "hf-gpt-oss-experts.h"
#include "model-family.h"

namespace loom {

namespace {

bool isFile(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Shard file names relative to dir: the index's weight_map values, else model.safetensors, else every *.safetensors.
std::vector<std::string> shardNames(const std::string& dir) {
  const std::string index = dir + "/model.safetensors.index.json";
  std::set<std::string> names;
  if (isFile(index)) {
    const Json j = readJsonFile(index);
    const Json* map = j.get("weight_map");
    if (!map || !map->isObject() || map->members.empty())
      throw std::runtime_error(index + ": no 'weight_map' object naming the shards");
    for (const auto& kv : map->members) {
      if (!kv.second.isString() || kv.second.str.empty() || kv.second.str.find('/') != std::string::npos)
        throw std::runtime_error(index + ": weight_map['" + kv.first + "'] must be a file name in the same directory");
      names.insert(kv.second.str);
    }
  } else if (isFile(dir + "/model.safetensors")) {
    names.insert("model.safetensors");
  } else if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (endsWith(e->d_name, ".safetensors")) names.insert(e->d_name);
    closedir(d);
  }
  if (names.empty())
    throw std::runtime_error(
        dir +
        ": no *.safetensors weights (and no model.safetensors.index.json); is this a Hugging Face model directory?");
  return {names.begin(), names.end()};
}

// GGML type of a safetensors dtype; 0xffffffff when the engine cannot read it.
uint32_t ggmlTypeOf(const std::string& dtype) {
  if (dtype == "F32") return GGML_F32;
  if (dtype == "F16") return GGML_F16;
  if (dtype == "BF16") return GGML_BF16;
  return 0xffffffffu;
}

// Every "<name>#e" part into one tensor <name> of dims {cols, rows, E}: experts 0..E-1, each [rows][cols] of one
// type, copied back to back (ggml's layout of a 3-D expert tensor).
void stackExperts(std::map<std::string, GgufTensor>& tensors_,
                  std::vector<std::unique_ptr<std::vector<float>>>& widened_, const std::string& dir) {
  auto err = [&](const std::string& what) { return dir + ": " + what; };
  std::map<std::string, std::map<int, const GgufTensor*>> groups;
  for (const auto& kv : tensors_) {
    const size_t hash = kv.first.find('#');
    if (hash != std::string::npos) groups[kv.first.substr(0, hash)][std::stoi(kv.first.substr(hash + 1))] = &kv.second;
  }
  for (const auto& g : groups) {
    const GgufTensor& first = *g.second.begin()->second;
    const int E = (int)g.second.size();
    if (g.second.begin()->first != 0 || g.second.rbegin()->first != E - 1)
      throw std::runtime_error(err("the experts of '" + g.first + "' are not numbered 0.." + std::to_string(E - 1)));
    for (const auto& part : g.second)
      if (part.second->dims != first.dims || part.second->type != first.type || first.dims.size() != 2)
        throw std::runtime_error(err("expert " + std::to_string(part.first) + " of '" + g.first +
                                     "' differs in shape or dtype from expert 0"));
    auto buf = std::make_unique<std::vector<float>>((first.nbytes * E + 3) / 4);  // aligned bytes
    uint8_t* dst = reinterpret_cast<uint8_t*>(buf->data());
    for (const auto& part : g.second)
      std::memcpy(dst + (size_t)part.first * first.nbytes, part.second->data, first.nbytes);
    GgufTensor t = first;
    t.name = g.first;
    t.dims.push_back((uint64_t)E);
    t.nbytes = first.nbytes * E;
    t.data = dst;
    widened_.push_back(std::move(buf));
    for (int e = 0; e < E; e++) tensors_.erase(g.first + "#" + std::to_string(e));
    tensors_.emplace(g.first, std::move(t));
  }
}

}  // namespace

std::string canonicalTensorName(const std::string& hfName, bool gemma) {
  // Gemma 3 image-text checkpoints keep the text model under language_model (old and new transformers layouts).
  std::string n = hfName;
  for (const char* prefix : {"language_model.model.", "model.language_model."})
    if (n.compare(0, std::strlen(prefix), prefix) == 0) n = "model." + n.substr(std::strlen(prefix));
  if (n == "language_model.lm_head.weight") n = "lm_head.weight";
  if (n == "model.embed_tokens.weight") return "token_embd.weight";
  if (n == "model.norm.weight") return "output_norm.weight";
  if (n == "lm_head.weight") return "output.weight";
  static const char* kLayers = "model.layers.";
  if (n.compare(0, std::strlen(kLayers), kLayers) != 0) return "";
  const size_t dot = n.find('.', std::strlen(kLayers));
  if (dot == std::string::npos) return "";
  const std::string layer = n.substr(std::strlen(kLayers), dot - std::strlen(kLayers));
  if (layer.empty() || layer.find_first_not_of("0123456789") != std::string::npos) return "";
  const std::string rest = n.substr(dot + 1);
  static const std::pair<const char*, const char*> kMap[] = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.qkv_proj.weight", "attn_qkv.weight"},   // phi3
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},  // qwen3, gemma3
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.o_proj.bias", "attn_output.bias"},  // gpt-oss
      {"self_attn.sinks", "attn_sinks.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.gate_up_proj.weight", "ffn_up.weight"},  // phi3: [gate; up]
      {"mlp.down_proj.weight", "ffn_down.weight"},
      {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},  // gemma's sandwich norms
      {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
  };
  // Mixture of experts: the router, and expert e's matrices as part e of the stacked 3-D GGUF tensor, named
  // "<gguf name>#e" until the constructor stacks them (qwen3_moe: mlp.*, mixtral: block_sparse_moe.*).
  if (rest == "mlp.gate.weight" || rest == "block_sparse_moe.gate.weight" || rest == "mlp.router.weight")
    return "blk." + layer + ".ffn_gate_inp.weight";
  if (rest == "mlp.router.bias") return "blk." + layer + ".ffn_gate_inp.bias";  // gpt-oss
  if (rest.compare(0, 12, "mlp.experts.") == 0 && isGptOssExpertPart(rest.substr(12)))
    return "blk." + layer + "." + kGptOssPartTag + rest.substr(12);  // gpt-oss: all experts in one tensor
  for (const char* prefix : {"mlp.experts.", "block_sparse_moe.experts."}) {
    if (rest.compare(0, std::strlen(prefix), prefix) != 0) continue;
    const size_t d = rest.find('.', std::strlen(prefix));
    const std::string e = rest.substr(std::strlen(prefix), d == std::string::npos ? 0 : d - std::strlen(prefix));
    if (e.empty() || e.find_first_not_of("0123456789") != std::string::npos) return "";
    static const std::pair<const char*, const char*> kExperts[] = {
        {"gate_proj.weight", "ffn_gate_exps"}, {"up_proj.weight", "ffn_up_exps"}, {"down_proj.weight", "ffn_down_exps"},
        {"w1.weight", "ffn_gate_exps"},        {"w3.weight", "ffn_up_exps"},      {"w2.weight", "ffn_down_exps"},
    };
    for (const auto& m : kExperts)
      if (rest.substr(d + 1) == m.first) return "blk." + layer + "." + m.second + ".weight#" + e;
    return "";
  }
  // Gemma's post_attention_layernorm normalises the attention output; elsewhere it is the FFN's input norm.
  if (rest == "post_attention_layernorm.weight")
    return "blk." + layer + "." + (gemma ? "post_attention_norm.weight" : "ffn_norm.weight");
  for (const auto& m : kMap)
    if (rest == m.first) return "blk." + layer + "." + m.second;
  return "";
}

SafetensorsDir::SafetensorsDir(const std::string& dir) : dir_(dir) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  const std::string configPath = dir_ + "/config.json";
  if (!isFile(configPath))
    throw std::runtime_error(err("no config.json: a model directory needs config.json next to its *.safetensors"));
  const Json cfg = readJsonFile(configPath);
  config_ = readHfConfig(cfg, configPath);
  gemma_ = familyByArch(config_.architecture)->gemmaScales;
  for (const std::string& name : shardNames(dir_)) loadShard(dir_ + "/" + name);
  stackExperts(tensors_, widened_, dir_);
  addGptOssExperts(gptOssParts_, config_, tensors_, widened_);

  const bool tied = hfTiedEmbeddings(cfg);
  if (tied) {
    tensors_.erase("output.weight");  // weights.cpp reuses token_embd when output.weight is absent
  } else if (!tensors_.count("output.weight")) {
    throw std::runtime_error(err("missing tensor 'lm_head.weight' and config.json does not set tie_word_embeddings"));
  }
  const GgufTensor* emb = tensor("token_embd.weight");
  if (!emb) throw std::runtime_error(err("missing tensor 'model.embed_tokens.weight'"));
  if (emb->dims.size() != 2 || emb->dims[0] != (uint64_t)config_.dim)
    throw std::runtime_error(
        err("tensor 'model.embed_tokens.weight' must be [vocab, " + std::to_string(config_.dim) + "]"));
  config_.vocabSize = (int)emb->dims[1];
}

// Layout: u64 header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
// {...}}, then the data; offsets are relative to byte 8 + N.
void SafetensorsDir::loadShard(const std::string& file) {
  auto m = std::make_unique<MappedFile>(file);
  const uint8_t* base = m->data();
  const size_t size = m->size();
  auto fail = [&](const std::string& what) -> std::runtime_error { return std::runtime_error(file + ": " + what); };
  if (size < 8) throw fail("file is truncated (" + std::to_string(size) + " bytes): not a safetensors file");
  uint64_t n;
  std::memcpy(&n, base, 8);
  if (n > size - 8)
    throw fail("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
               " bytes): truncated or not safetensors");
  const Json header = parseJson(reinterpret_cast<const char*>(base + 8), (size_t)n, file + " (header)");
  if (!header.isObject()) throw fail("header is not a JSON object");
  const uint8_t* data = base + 8 + n;
  const size_t dataSize = size - 8 - (size_t)n;
  for (const auto& kv : header.members) {
    if (kv.first == "__metadata__") continue;
    const std::string canon = canonicalTensorName(kv.first, gemma_);
    if (canon.empty()) continue;
    const Json& t = kv.second;
    const Json* dtype = t.get("dtype");
    const Json* shape = t.get("shape");
    const Json* offs = t.get("data_offsets");
    if (!dtype || !dtype->isString() || !shape || !shape->isArray() || !offs || !offs->isArray() ||
        offs->items.size() != 2)
      throw fail("tensor '" + kv.first + "' needs dtype, shape and data_offsets [begin, end]");
    if (tensors_.count(canon) || unsupported_.count(canon) || gptOssParts_.count(canon))
      throw fail("tensor '" + kv.first + "' appears in more than one shard");
    std::vector<uint64_t> hfShape;  // outermost first
    uint64_t elems = 1;
    for (const Json& d : shape->items) {
      if (!d.isNumber() || d.num < 1 || d.num > (double)(1ull << 40) || d.num != (double)(uint64_t)d.num)
        throw fail("tensor '" + kv.first + "' has an invalid shape");
      hfShape.push_back((uint64_t)d.num);
      elems *= hfShape.back();
    }
    const double b = offs->items[0].num, e = offs->items[1].num;
    if (!offs->items[0].isNumber() || !offs->items[1].isNumber() || b < 0 || e < b || e > (double)dataSize)
      throw fail("tensor '" + kv.first + "' data_offsets [" + std::to_string((uint64_t)b) + ", " +
                 std::to_string((uint64_t)e) + "] run past the end of the file; it is truncated or corrupt");
    auto checkBytes = [&](size_t need) {
      if ((uint64_t)e - (uint64_t)b != need)
        throw fail("tensor '" + kv.first + "' holds " + std::to_string((uint64_t)(e - b)) +
                   " bytes but its shape and dtype need " + std::to_string(need));
    };
    if (canon.find(kGptOssPartTag) != std::string::npos) {  // repacked by addGptOssExperts
      const uint32_t ft = ggmlTypeOf(dtype->str);
      const size_t eb = dtype->str == "U8" ? 1 : ft != 0xffffffffu ? ggmlTypeInfo(ft).blockBytes : 0;
      if (eb == 0) throw fail("tensor '" + kv.first + "' has dtype " + dtype->str + " (supported: U8, F32, F16, BF16)");
      checkBytes((size_t)elems * eb);
      gptOssParts_[canon] = RawHfTensor{file, kv.first, dtype->str, hfShape, data + (size_t)b, (size_t)elems * eb};
      continue;
    }
    const uint32_t type = ggmlTypeOf(dtype->str);
    if (type == 0xffffffffu) {
      unsupported_[canon] = file + ": tensor '" + kv.first + "' has dtype " + dtype->str +
                            ", which this engine does not read (supported: F32, F16, BF16)";
      continue;
    }
    if (hfShape.empty() || hfShape.size() > 2)
      throw fail("tensor '" + kv.first + "' must have 1 or 2 dimensions, has " + std::to_string(hfShape.size()));
    GgufTensor g;
    g.name = canon;
    g.type = type;
    g.dims.assign(hfShape.rbegin(), hfShape.rend());  // HF [rows, cols] -> GGUF {cols, rows}
    g.nbytes = (size_t)elems * ggmlTypeInfo(type).blockBytes;
    checkBytes(g.nbytes);
    g.offset = (uint64_t)b;
    g.data = data + (size_t)b;
    // Gemma's RMSNorm multiplies by (1 + w): add the 1 here, as convert_hf_to_gguf.py does.
    const float shift = gemma_ && endsWith(canon, "norm.weight") ? 1.f : 0.f;
    if (g.dims.size() == 1 && type != GGML_F32) {
      auto w = std::make_unique<std::vector<float>>(elems);
      for (uint64_t i = 0; i < elems; i++) {
        uint16_t h;
        std::memcpy(&h, g.data + 2 * i, 2);
        (*w)[i] = (type == GGML_F16 ? loom_f16_to_f32(h) : loom_bits_to_f32((uint32_t)h << 16)) + shift;
      }
      g.data = reinterpret_cast<const uint8_t*>(w->data());
      g.type = GGML_F32;
      g.nbytes = elems * 4;
      widened_.push_back(std::move(w));
    } else if (g.dims.size() == 1) {
      auto w = std::make_unique<std::vector<float>>(elems);  // an aligned copy
      std::memcpy(w->data(), g.data, elems * 4);
      for (float& x : *w) x += shift;
      g.data = reinterpret_cast<const uint8_t*>(w->data());
      widened_.push_back(std::move(w));
    }
    tensors_.emplace(canon, std::move(g));
  }
  shards_.push_back(std::move(m));
}

const GgufTensor* SafetensorsDir::tensor(const std::string& name) const {
  auto u = unsupported_.find(name);
  if (u != unsupported_.end()) throw std::runtime_error(u->second);
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::vector<std::string> SafetensorsDir::vocab() const {
  const std::string path = dir_ + "/tokenizer.json";
  const Json j = readJsonFile(path);
  const Json* model = j.get("model");
  const Json* v = model ? model->get("vocab") : nullptr;
  if (!v || !v->isObject()) throw std::runtime_error(path + ": no model.vocab object");
  std::vector<std::string> out;
  auto put = [&](const std::string& text, double id) {
    if (id < 0 || id > 1e8) throw std::runtime_error(path + ": token id out of range for '" + text + "'");
    if ((size_t)id >= out.size()) out.resize((size_t)id + 1);
    out[(size_t)id] = text;
  };
  for (const auto& kv : v->members) put(kv.first, kv.second.num);
  if (const Json* added = j.get("added_tokens"))
    for (const Json& t : added->items)
      if (const Json* c = t.get("content"))
        if (const Json* id = t.get("id")) put(c->str, id->num);
  return out;
}

}  // namespace loom
