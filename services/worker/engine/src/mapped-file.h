// A read-only, shared mmap of a whole file (RAII). Errors name the file and the system's reason.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace loom {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  const uint8_t* data() const { return base_; }
  size_t size() const { return size_; }

 private:
  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
};

}  // namespace loom
