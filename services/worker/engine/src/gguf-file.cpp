#include "gguf-file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "ggml-types.h"

namespace loom {

namespace {

// Bounds-checked little-endian cursor over the mapping; `what` names the field for error messages.
class Reader {
 public:
  Reader(const GgufFile& f, const uint8_t* base, size_t size) : f_(f), base_(base), size_(size) {}
  size_t pos() const { return pos_; }
  const uint8_t* ptr() const { return base_ + pos_; }
  void need(size_t n, const char* what) {
    if (n > size_ - pos_)
      throw std::runtime_error(f_.err("file is truncated or corrupt: " + std::string(what) + " at byte " +
                                      std::to_string(pos_) + " runs past the end of the file (" +
                                      std::to_string(size_) + " bytes); re-download or re-convert the model"));
  }
  template <class T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string readString(const char* what) {
    uint64_t n = read<uint64_t>(what);
    need(n, what);
    std::string s(reinterpret_cast<const char*>(base_ + pos_), (size_t)n);
    pos_ += (size_t)n;
    return s;
  }
  void skip(uint64_t n, const char* what) {
    need(n, what);
    pos_ += (size_t)n;
  }

 private:
  const GgufFile& f_;
  const uint8_t* base_;
  size_t size_;
  size_t pos_ = 0;
};

size_t scalarSize(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8:
    case GgufValueType::I8:
    case GgufValueType::BOOL:
      return 1;
    case GgufValueType::U16:
    case GgufValueType::I16:
      return 2;
    case GgufValueType::U32:
    case GgufValueType::I32:
    case GgufValueType::F32:
      return 4;
    case GgufValueType::U64:
    case GgufValueType::I64:
    case GgufValueType::F64:
      return 8;
    default:
      return 0;
  }
}

// An integer read as T into every view of v: i sign-correct, u its two's-complement bits, f its value.
template <class T>
void setInteger(GgufValue& v, T x) {
  if constexpr (std::is_signed_v<T>) {
    v.i = x;
    v.u = (uint64_t)v.i;
  } else {
    v.u = x;
    v.i = (int64_t)v.u;
  }
  v.f = (double)x;
}

void readScalar(Reader& r, GgufValueType t, GgufValue& v) {
  switch (t) {
    case GgufValueType::U8:
      setInteger(v, r.read<uint8_t>("u8 value"));
      break;
    case GgufValueType::I8:
      setInteger(v, r.read<int8_t>("i8 value"));
      break;
    case GgufValueType::U16:
      setInteger(v, r.read<uint16_t>("u16 value"));
      break;
    case GgufValueType::I16:
      setInteger(v, r.read<int16_t>("i16 value"));
      break;
    case GgufValueType::U32:
      setInteger(v, r.read<uint32_t>("u32 value"));
      break;
    case GgufValueType::I32:
      setInteger(v, r.read<int32_t>("i32 value"));
      break;
    case GgufValueType::U64:
      setInteger(v, r.read<uint64_t>("u64 value"));
      break;
    case GgufValueType::I64:
      setInteger(v, r.read<int64_t>("i64 value"));
      break;
    case GgufValueType::F32:
      v.f = r.read<float>("f32 value");
      break;
    case GgufValueType::F64:
      v.f = r.read<double>("f64 value");
      break;
    case GgufValueType::BOOL:
      v.u = r.read<uint8_t>("bool value") ? 1 : 0;
      v.i = (int64_t)v.u;
      break;
    default:
      break;
  }
}

}  // namespace

bool GgufValue::isInteger() const {
  switch (type) {
    case GgufValueType::U8:
    case GgufValueType::I8:
    case GgufValueType::U16:
    case GgufValueType::I16:
    case GgufValueType::U32:
    case GgufValueType::I32:
    case GgufValueType::U64:
    case GgufValueType::I64:
      return true;
    default:
      return false;
  }
}
bool GgufValue::isNumber() const { return isInteger() || type == GgufValueType::F32 || type == GgufValueType::F64; }

uint64_t GgufTensor::elements() const {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;
  return n;
}

GgufFile::GgufFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0)
    throw std::runtime_error(err(std::string("cannot open model file: ") + std::strerror(errno) + "; check the path"));
  struct stat st;
  if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw std::runtime_error(err("not a regular file; pass the path of a .gguf model file"));
  }
  size_ = (size_t)st.st_size;
  if (size_ < 24) {
    ::close(fd_);
    throw std::runtime_error(
        err("file is too small to be GGUF (" + std::to_string(size_) + " bytes); re-download the model"));
  }
  void* m = mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd_, 0);
  if (m == MAP_FAILED) {
    ::close(fd_);
    throw std::runtime_error(err(std::string("mmap failed: ") + std::strerror(errno)));
  }
  base_ = static_cast<const uint8_t*>(m);
  try {
    parse();
  } catch (...) {
    munmap(const_cast<uint8_t*>(base_), size_);
    ::close(fd_);
    throw;
  }
}

GgufFile::~GgufFile() {
  if (base_) munmap(const_cast<uint8_t*>(base_), size_);
  if (fd_ >= 0) ::close(fd_);
}

void GgufFile::parse() {
  Reader r(*this, base_, size_);
  if (std::memcmp(base_, "GGUF", 4) != 0)
    throw std::runtime_error(err("not a GGUF file (bad magic); convert the model to GGUF"));
  r.skip(4, "magic");
  version_ = r.read<uint32_t>("version");
  if (version_ != 2 && version_ != 3)
    throw std::runtime_error(err("unsupported GGUF version " + std::to_string(version_) +
                                 " (supported: 2, 3); re-convert with a current llama.cpp"));
  const uint64_t nTensors = r.read<uint64_t>("tensor count");
  const uint64_t nKv = r.read<uint64_t>("metadata count");
  // Each entry takes at least 8 bytes, so larger counts can only come from corruption.
  if (nTensors > size_ / 8 || nKv > size_ / 8)
    throw std::runtime_error(err("corrupt header: implausible tensor/metadata counts"));

  for (uint64_t k = 0; k < nKv; k++) {
    std::string key = r.readString("metadata key");
    GgufValue v;
    v.type = (GgufValueType)r.read<uint32_t>("metadata value type");
    if (v.type == GgufValueType::STRING) {
      v.str = r.readString("metadata string");
    } else if (v.type == GgufValueType::ARRAY) {
      v.elemType = (GgufValueType)r.read<uint32_t>("array element type");
      v.count = r.read<uint64_t>("array length");
      v.data = r.ptr();
      if (v.elemType == GgufValueType::STRING) {
        for (uint64_t j = 0; j < v.count; j++) r.skip(r.read<uint64_t>("array string length"), "array string");
      } else {
        const size_t es = scalarSize(v.elemType);
        if (es == 0)
          throw std::runtime_error(err("metadata key '" + key + "' has an array of unsupported type " +
                                       std::to_string((uint32_t)v.elemType)));
        if (v.count > size_ / es)
          throw std::runtime_error(err("metadata key '" + key + "': array length runs past the end of the file"));
        r.skip(v.count * es, "array data");
      }
    } else if (scalarSize(v.type) != 0) {
      readScalar(r, v.type, v);
    } else {
      throw std::runtime_error(err("metadata key '" + key + "' has unknown value type " +
                                   std::to_string((uint32_t)v.type) + "; the file is corrupt"));
    }
    meta_[key] = std::move(v);
  }

  tensors_.reserve((size_t)nTensors);
  for (uint64_t t = 0; t < nTensors; t++) {
    GgufTensor ti;
    ti.name = r.readString("tensor name");
    const uint32_t nd = r.read<uint32_t>("tensor dim count");
    if (nd == 0 || nd > 4)
      throw std::runtime_error(err("tensor '" + ti.name + "' has " + std::to_string(nd) + " dims (expected 1..4)"));
    for (uint32_t d = 0; d < nd; d++) {
      uint64_t dim = r.read<uint64_t>("tensor dim");
      if (dim == 0 || dim > (1ull << 40))
        throw std::runtime_error(err("tensor '" + ti.name + "' has an invalid dimension " + std::to_string(dim)));
      ti.dims.push_back(dim);
    }
    ti.type = r.read<uint32_t>("tensor type");
    ti.offset = r.read<uint64_t>("tensor offset");
    tensors_.push_back(std::move(ti));
  }

  uint64_t alignment = 32;
  if (const GgufValue* a = find("general.alignment")) {
    if (!a->isInteger() || a->u == 0 || (a->u & (a->u - 1)) != 0)
      throw std::runtime_error(err("general.alignment must be a power of two"));
    alignment = a->u;
  }
  const size_t dataStart = (size_t)((r.pos() + alignment - 1) / alignment * alignment);
  if (dataStart > size_)
    throw std::runtime_error(err("file is truncated: no tensor data section; re-download the model"));
  const size_t dataSize = size_ - dataStart;

  for (size_t t = 0; t < tensors_.size(); t++) {
    GgufTensor& ti = tensors_[t];
    const GgmlTypeInfo info = ggmlTypeInfo(ti.type);
    if (!info.name)
      throw std::runtime_error(err("tensor '" + ti.name + "' has unknown GGML type id " + std::to_string(ti.type)));
    if (ti.dims[0] % info.blockElems != 0)
      throw std::runtime_error(err("tensor '" + ti.name + "' row length " + std::to_string(ti.dims[0]) +
                                   " is not a multiple of the " + info.name + " block size"));
    if (ti.offset % alignment != 0)
      throw std::runtime_error(
          err("tensor '" + ti.name + "' data is not aligned to " + std::to_string(alignment) + " bytes"));
    uint64_t rows = 1;
    for (size_t d = 1; d < ti.dims.size(); d++) rows *= ti.dims[d];
    ti.nbytes = ggmlRowBytes(info, ti.dims[0]) * (size_t)rows;
    if (ti.offset > dataSize || ti.nbytes > dataSize - ti.offset)
      throw std::runtime_error(err("file is truncated: tensor '" + ti.name + "' (" + std::to_string(ti.nbytes) +
                                   " bytes at data offset " + std::to_string(ti.offset) +
                                   ") runs past the end of the file; re-download the model"));
    ti.data = base_ + dataStart + ti.offset;
    if (!tensorIndex_.emplace(ti.name, t).second)
      throw std::runtime_error(err("duplicate tensor name '" + ti.name + "'"));
  }
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = meta_.find(key);
  return it == meta_.end() ? nullptr : &it->second;
}

const GgufTensor* GgufFile::tensor(const std::string& name) const {
  auto it = tensorIndex_.find(name);
  return it == tensorIndex_.end() ? nullptr : &tensors_[it->second];
}

std::string GgufFile::getString(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) throw std::runtime_error(err("missing metadata key '" + key + "'"));
  if (v->type != GgufValueType::STRING) throw std::runtime_error(err("metadata key '" + key + "' is not a string"));
  return v->str;
}

int64_t GgufFile::getInt(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) throw std::runtime_error(err("missing metadata key '" + key + "'; is this a complete model GGUF?"));
  if (!v->isInteger()) throw std::runtime_error(err("metadata key '" + key + "' is not an integer"));
  return v->i;
}

int64_t GgufFile::getInt(const std::string& key, int64_t fallback) const { return find(key) ? getInt(key) : fallback; }

double GgufFile::getFloat(const std::string& key, double fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  if (!v->isNumber()) throw std::runtime_error(err("metadata key '" + key + "' is not a number"));
  return v->f;
}

bool GgufFile::getBool(const std::string& key, bool fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  if (v->type != GgufValueType::BOOL && !v->isInteger())
    throw std::runtime_error(err("metadata key '" + key + "' is not a bool"));
  return v->u != 0;
}

std::vector<int64_t> GgufFile::getIntArray(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) throw std::runtime_error(err("missing metadata key '" + key + "'"));
  GgufValue probe;
  probe.type = v->elemType;
  if (v->type != GgufValueType::ARRAY || (v->elemType != GgufValueType::BOOL && !probe.isInteger()))
    throw std::runtime_error(err("metadata key '" + key + "' is not an array of integers or bools"));
  const size_t es = scalarSize(v->elemType);
  Reader r(*this, v->data, es * (size_t)v->count);  // bounds checked during parse()
  std::vector<int64_t> out;
  for (uint64_t j = 0; j < v->count; j++) {
    GgufValue e;
    readScalar(r, v->elemType, e);
    out.push_back(e.i);
  }
  return out;
}

std::vector<std::string> GgufFile::getStringArray(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) throw std::runtime_error(err("missing metadata key '" + key + "'"));
  if (v->type != GgufValueType::ARRAY || v->elemType != GgufValueType::STRING)
    throw std::runtime_error(err("metadata key '" + key + "' is not an array of strings"));
  std::vector<std::string> out;
  out.reserve((size_t)v->count);
  // Bounds were checked during parse(), so the walk cannot leave the mapping.
  const uint8_t* p = v->data;
  for (uint64_t j = 0; j < v->count; j++) {
    uint64_t n;
    std::memcpy(&n, p, 8);
    out.emplace_back(reinterpret_cast<const char*>(p + 8), (size_t)n);
    p += 8 + n;
  }
  return out;
}

}  // namespace loom
