#include "mapped-file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace loom {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error(path + ": not a regular file");
  }
  size_ = (size_t)st.st_size;
  if (size_ == 0) {
    ::close(fd);
    throw std::runtime_error(path + ": file is empty");
  }
  void* m = mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
  const int mapErrno = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (m == MAP_FAILED) throw std::runtime_error(path + ": mmap failed: " + std::strerror(mapErrno));
  base_ = static_cast<const uint8_t*>(m);
}

MappedFile::~MappedFile() {
  if (base_) munmap(const_cast<uint8_t*>(base_), size_);
}

}  // namespace loom
