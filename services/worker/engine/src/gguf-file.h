// A memory-mapped GGUF (v2/v3) file: header, metadata and tensor infos, parsed and bounds-checked once.
// Invariants after construction: every tensor's data lies inside the mapping, is aligned to
// `general.alignment`, and has a known GGML type whose block size divides its row length.
// Errors are std::runtime_error whose message starts with the file path and says what is wrong.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace loom {

enum class GgufValueType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};

// One metadata value. Scalars are widened; strings and arrays point into the mapping (valid while the file lives).
struct GgufValue {
  GgufValueType type = GgufValueType::U8;
  uint64_t u = 0;                              // unsigned integers and bool
  int64_t i = 0;                               // every integer type, sign-correct
  double f = 0;                                // every numeric type
  std::string str;                             // STRING
  GgufValueType elemType = GgufValueType::U8;  // ARRAY element type
  uint64_t count = 0;                          // ARRAY element count
  const uint8_t* data = nullptr;               // ARRAY: first element's encoded bytes
  bool isInteger() const;
  bool isNumber() const;
};

struct GgufTensor {
  std::string name;
  std::vector<uint64_t> dims;  // GGUF order: dims[0] is the contiguous (row) length
  uint32_t type = 0;           // GgmlType id
  uint64_t offset = 0;         // relative to the data section
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  uint64_t elements() const;
};

class GgufFile {
 public:
  explicit GgufFile(const std::string& path);
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  const GgufValue* find(const std::string& key) const;
  const GgufTensor* tensor(const std::string& name) const;
  const std::vector<GgufTensor>& tensors() const { return tensors_; }

  // Typed metadata getters: throw naming the file and key when missing or of the wrong type.
  std::string getString(const std::string& key) const;
  int64_t getInt(const std::string& key) const;
  int64_t getInt(const std::string& key, int64_t fallback) const;
  double getFloat(const std::string& key, double fallback) const;
  std::vector<std::string> getStringArray(const std::string& key) const;
  // A BOOL (or integer: non-zero is true) value.
  bool getBool(const std::string& key, bool fallback) const;
  // An array of integers or bools (true = 1).
  std::vector<int64_t> getIntArray(const std::string& key) const;

  // "<path>: <what>" for error messages.
  std::string err(const std::string& what) const { return path_ + ": " + what; }

 private:
  void parse();
  std::string path_;
  int fd_ = -1;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  std::map<std::string, GgufValue> meta_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t> tensorIndex_;
};

}  // namespace loom
